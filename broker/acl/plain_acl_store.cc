#include "broker/acl/plain_acl_store.h"

#include <algorithm>

namespace fmq::acl {

PlainAclStore::PlainAclStore(io::FileSystem& fs, const Clock& clock, std::string path)
    : fs_(fs), clock_(clock), path_(std::move(path)) {}

Status PlainAclStore::Load() {
  MutexLock lock(&mu_);
  if (!fs_.Exists(path_)) {
    FMQ_RETURN_IF_ERROR(fs_.CreateDirs(io::DirName(path_)));
    FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, path_, ""));
  }
  FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path_));
  auto file = ParsePlainAcl(text);
  if (!file.ok()) return Status::InvalidArgument(path_ + ": " + std::string(file.status().message()));
  auto rules = AclRules::Compile(*file);
  if (!rules.ok()) return Status::InvalidArgument(path_ + ": " + std::string(rules.status().message()));
  file_ = std::move(*file);
  rules_ = std::make_shared<const AclRules>(std::move(*rules));
  loaded_text_ = std::move(text);
  return Status::Ok();
}

Result<bool> PlainAclStore::ReloadIfChanged() {
  auto text = io::ReadFileToString(fs_, path_);
  if (!text.ok()) return text.status();
  MutexLock lock(&mu_);
  if (*text == loaded_text_) return false;
  loaded_text_ = *text;
  auto file = ParsePlainAcl(*text);
  if (!file.ok()) return Status::InvalidArgument(path_ + ": " + std::string(file.status().message()));
  auto rules = AclRules::Compile(*file);
  if (!rules.ok()) return Status::InvalidArgument(path_ + ": " + std::string(rules.status().message()));
  file_ = std::move(*file);
  rules_ = std::make_shared<const AclRules>(std::move(*rules));
  return true;
}

Status PlainAclStore::WriteAndApply(PlainAclFile next) {
  next.data_version.counter = file_.data_version.counter + 1;
  next.data_version.timestamp = clock_.NowMillis();
  FMQ_ASSIGN_OR_RETURN(AclRules rules, AclRules::Compile(next));
  std::string text = EncodePlainAcl(next);
  FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, path_, text));
  file_ = std::move(next);
  rules_ = std::make_shared<const AclRules>(std::move(rules));
  loaded_text_ = std::move(text);
  return Status::Ok();
}

Status PlainAclStore::UpdateAccount(const AccountUpdate& u) {
  MutexLock lock(&mu_);
  PlainAclFile next = file_;
  auto it = std::find_if(next.accounts.begin(), next.accounts.end(),
                         [&](const PlainAccessConfig& a) { return a.access_key == u.access_key; });
  PlainAccessConfig account = it != next.accounts.end() ? *it : PlainAccessConfig{};
  account.access_key = u.access_key;
  account.secret_key = u.secret_key;
  if (u.white_remote_address) account.white_remote_address = *u.white_remote_address;
  if (u.admin) account.admin = *u.admin;
  if (u.default_topic_perm) account.default_topic_perm = *u.default_topic_perm;
  if (u.default_group_perm) account.default_group_perm = *u.default_group_perm;
  if (u.topic_perms) account.topic_perms = *u.topic_perms;
  if (u.group_perms) account.group_perms = *u.group_perms;
  FMQ_RETURN_IF_ERROR(ValidateAccount(account));
  if (it != next.accounts.end()) {
    *it = std::move(account);
  } else {
    next.accounts.push_back(std::move(account));
  }
  return WriteAndApply(std::move(next));
}

Status PlainAclStore::DeleteAccount(const std::string& access_key) {
  MutexLock lock(&mu_);
  PlainAclFile next = file_;
  const size_t before = next.accounts.size();
  std::erase_if(next.accounts, [&](const PlainAccessConfig& a) { return a.access_key == access_key; });
  if (next.accounts.size() == before) return Status::NotFound("no account has accessKey " + access_key);
  return WriteAndApply(std::move(next));
}

Status PlainAclStore::UpdateGlobalWhiteAddresses(std::vector<std::string> patterns) {
  MutexLock lock(&mu_);
  for (const std::string& p : patterns) FMQ_RETURN_IF_ERROR(AddressPattern::Parse(p).status());
  PlainAclFile next = file_;
  next.global_white_remote_addresses = std::move(patterns);
  return WriteAndApply(std::move(next));
}

Status PlainAclStore::Seed(const PlainAclFile& seed) {
  MutexLock lock(&mu_);
  PlainAclFile next = file_;
  bool changed = false;
  for (const PlainAccessConfig& account : seed.accounts) {
    FMQ_RETURN_IF_ERROR(ValidateAccount(account));
    auto it = std::find_if(next.accounts.begin(), next.accounts.end(),
                           [&](const PlainAccessConfig& a) { return a.access_key == account.access_key; });
    if (it == next.accounts.end()) {
      next.accounts.push_back(account);
      changed = true;
    } else if (!(*it == account)) {
      *it = account;
      changed = true;
    }
  }
  return changed ? WriteAndApply(std::move(next)) : Status::Ok();
}

std::shared_ptr<const AclRules> PlainAclStore::rules() const {
  MutexLock lock(&mu_);
  return rules_;
}

PlainAclFile PlainAclStore::file() const {
  MutexLock lock(&mu_);
  return file_;
}

}  // namespace fmq::acl
