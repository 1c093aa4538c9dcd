#pragma once

// PlainAclStore: the broker's (and name server's) plain_acl.yml on disk, the rules compiled from it, and the
// edits the ACL admin requests make (Apache's PlainPermissionManager, one file).
//
//  * Load() at start: a missing file is created empty (as Apache does), an invalid one fails the start with
//    the file's path and the reason.
//  * ReloadIfChanged(), called every second by the owner: a file whose text changed is parsed and compiled;
//    valid, its rules replace the old ones at once (hot reload, no restart); invalid, the old rules stay and
//    the error is returned once per distinct bad text, so the owner logs it once.
//  * UpdateAccount / DeleteAccount / UpdateGlobalWhiteAddresses edit the file as Apache does (the data
//    version's counter goes up), write it atomically, then apply it; a failed write changes nothing.
//
// Secrets live in the file and in memory only: nothing here logs, and errors name access keys, never secrets.
// Thread-safety: every method may be called from any thread (one mutex; rules() hands out an immutable
// snapshot that stays valid after a reload).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/acl/plain_acl.h"
#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/io/file_system.h"

namespace fmq::acl {

// The fields of UPDATE_AND_CREATE_ACL_CONFIG: a missing one keeps the account's value (a new account gets the
// defaults of PlainAccessConfig).
struct AccountUpdate {
  std::string access_key;
  std::string secret_key;  // required, as Apache requires it
  std::optional<std::string> white_remote_address;
  std::optional<bool> admin;
  std::optional<std::string> default_topic_perm;
  std::optional<std::string> default_group_perm;
  std::optional<std::vector<std::string>> topic_perms;
  std::optional<std::vector<std::string>> group_perms;
};

class PlainAclStore {
 public:
  // `fs` and `clock` must outlive the store.
  PlainAclStore(io::FileSystem& fs, const Clock& clock, std::string path);

  Status Load() FMQ_EXCLUDES(mu_);
  // Ok(true) when new rules were applied, Ok(false) when the text is unchanged (or the same bad text again),
  // an error when the changed text is invalid (the old rules stay).
  Result<bool> ReloadIfChanged() FMQ_EXCLUDES(mu_);

  Status UpdateAccount(const AccountUpdate& update) FMQ_EXCLUDES(mu_);
  // NotFound when no account has `access_key`.
  Status DeleteAccount(const std::string& access_key) FMQ_EXCLUDES(mu_);
  Status UpdateGlobalWhiteAddresses(std::vector<std::string> patterns) FMQ_EXCLUDES(mu_);
  // Writes `seed`'s accounts into the file (aclSeedFile): an account with the same accessKey is replaced,
  // the others stay, as do the global white addresses. Nothing is written when every seed account is already
  // there as it is. InvalidArgument for an invalid seed account.
  Status Seed(const PlainAclFile& seed) FMQ_EXCLUDES(mu_);

  std::shared_ptr<const AclRules> rules() const FMQ_EXCLUDES(mu_);
  PlainAclFile file() const FMQ_EXCLUDES(mu_);
  const std::string& path() const { return path_; }

 private:
  Status WriteAndApply(PlainAclFile next) FMQ_REQUIRES(mu_);

  io::FileSystem& fs_;
  const Clock& clock_;
  const std::string path_;
  mutable Mutex mu_;
  PlainAclFile file_ FMQ_GUARDED_BY(mu_);
  std::shared_ptr<const AclRules> rules_ FMQ_GUARDED_BY(mu_) = std::make_shared<AclRules>();
  std::string loaded_text_ FMQ_GUARDED_BY(mu_);  // the text the rules came from, or the last bad text seen
};

}  // namespace fmq::acl
