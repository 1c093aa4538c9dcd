#pragma once

// plain_acl.yml, RocketMQ ACL 1.0's account file (protocol reference 10.4), as text and as compiled rules.
//
//   globalWhiteRemoteAddresses: [10.10.103.*]     # bypass authentication entirely
//   accounts:
//     - accessKey: RocketMQ                      # 7+ characters
//       secretKey: 12345678                      # 7+ characters
//       whiteRemoteAddress: 192.168.0.*          # this account from there: no signature or permission check
//       admin: false
//       defaultTopicPerm: DENY                   # topics not listed
//       defaultGroupPerm: SUB                    # groups not listed
//       topicPerms: [topicA=DENY, topicB=PUB|SUB]
//       groupPerms: [groupA=SUB]
//   dataVersion: [{counter: 3, timestamp: 1733450000000}]
//
// ParsePlainAcl reads what Apache's PlainPermissionManager reads (scalars of any YAML type taken as text, an
// empty file is an empty config) and refuses what Apache refuses: a key or secret of 6 characters or fewer,
// a resource entry that is not "name=PERM", a bad address pattern; each error names the account by access
// key (never the secret). EncodePlainAcl writes the same layout back (admin requests edit the file).
// AclRules is the compiled form the broker checks requests against.
//
// Thread-safety: values and pure functions; AclRules is immutable once compiled.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/acl/address_pattern.h"
#include "broker/acl/permission.h"
#include "broker/base/status.h"

namespace fmq::acl {

inline constexpr size_t kMinKeyLength = 7;  // Apache: "length should longer than 6"

// One account as written in the file (PlainAccessConfig); perms are kept as text.
struct PlainAccessConfig {
  std::string access_key;
  std::string secret_key;
  std::string white_remote_address;
  bool admin = false;
  std::string default_topic_perm;  // empty: not written (DENY)
  std::string default_group_perm;
  std::vector<std::string> topic_perms;  // "topic=PERM"
  std::vector<std::string> group_perms;  // "group=PERM"
  bool operator==(const PlainAccessConfig&) const = default;
};

struct AclDataVersion {
  int64_t timestamp = 0;
  int64_t counter = 0;
};

struct PlainAclFile {
  std::vector<std::string> global_white_remote_addresses;
  std::vector<PlainAccessConfig> accounts;
  AclDataVersion data_version;
};

Result<PlainAclFile> ParsePlainAcl(std::string_view yaml);
std::string EncodePlainAcl(const PlainAclFile& file);

// Apache's checks of one account (key lengths, "name=PERM" entries whose PERM is a known name, the white
// address pattern); the message names the access key only.
Status ValidateAccount(const PlainAccessConfig& account);

// Splits "a=PUB,b=SUB" (the comma lists of UPDATE_AND_CREATE_ACL_CONFIG's header) into entries; blanks
// dropped.
std::vector<std::string> SplitList(std::string_view text);

// An account compiled for checks. Groups are keyed by their retry topic ("%RETRY%<group>"), as Apache does.
struct Account {
  std::string access_key;
  std::string secret_key;
  AddressPattern white_remote_address;
  bool admin = false;
  Perm default_topic_perm = kDeny;
  Perm default_group_perm = kDeny;
  std::map<std::string, Perm, std::less<>> resource_perms;
};

class AclRules {
 public:
  AclRules() = default;
  // Fails on the first invalid account or pattern; a key repeated in the file keeps its first account and is
  // reported in `duplicates` (Apache warns and keeps the first).
  static Result<AclRules> Compile(const PlainAclFile& file, std::vector<std::string>* duplicates = nullptr);

  const Account* Find(std::string_view access_key) const;
  const std::vector<AddressPattern>& global_white_remote_addresses() const { return global_white_; }
  size_t account_count() const { return accounts_.size(); }

 private:
  std::vector<AddressPattern> global_white_;
  std::map<std::string, Account, std::less<>> accounts_;
};

}  // namespace fmq::acl
