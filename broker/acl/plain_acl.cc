#include "broker/acl/plain_acl.h"

#include <yaml-cpp/yaml.h>

#include "broker/base/strings.h"
#include "broker/model/names.h"

namespace fmq::acl {
namespace {

// Apache's StringUtils.split(entry, "="): tokens between '=' runs, empty ones dropped.
std::vector<std::string_view> SplitEquals(std::string_view entry) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < entry.size()) {
    while (i < entry.size() && entry[i] == '=') ++i;
    size_t j = i;
    while (j < entry.size() && entry[j] != '=') ++j;
    if (j > i) out.push_back(entry.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string Scalar(const YAML::Node& node, std::string_view key) {
  const YAML::Node v = node[std::string(key)];
  if (!v || v.IsNull()) return "";
  if (!v.IsScalar()) throw YAML::Exception(v.Mark(), std::string(key) + " must be a single value");
  return v.Scalar();
}

std::vector<std::string> ScalarList(const YAML::Node& node, std::string_view key) {
  std::vector<std::string> out;
  const YAML::Node v = node[std::string(key)];
  if (!v || v.IsNull()) return out;
  if (v.IsScalar()) {  // a single entry written without a list
    if (!TrimBlanks(v.Scalar()).empty()) out.push_back(v.Scalar());
    return out;
  }
  if (!v.IsSequence()) throw YAML::Exception(v.Mark(), std::string(key) + " must be a list");
  for (const YAML::Node& item : v) {
    if (item.IsNull()) continue;
    if (!item.IsScalar()) throw YAML::Exception(item.Mark(), std::string(key) + " entries must be text");
    out.push_back(item.Scalar());
  }
  return out;
}

bool ParseBool(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }

Status CheckEntries(const std::vector<std::string>& entries, bool strict, std::string_view what) {
  for (const std::string& e : entries) {
    const auto items = SplitEquals(e);
    if (items.size() != 2) {
      return Status::InvalidArgument("the " + std::string(what) + " permission \"" + e +
                                     "\" is not name=PERM (for example topicA=SUB)");
    }
    if (strict && !StrictParsePerm(items[1])) {
      return Status::InvalidArgument("the " + std::string(what) + " permission \"" + e +
                                     "\" has no valid PERM: one of PUB, SUB, PUB|SUB, SUB|PUB, DENY");
    }
  }
  return Status::Ok();
}

Status CheckAccount(const PlainAccessConfig& a, bool strict) {
  // What an admin request sends is written into the YAML file, which must stay UTF-8 to load again.
  std::vector<const std::string*> texts = {&a.access_key, &a.secret_key, &a.white_remote_address,
                                           &a.default_topic_perm, &a.default_group_perm};
  for (const auto& p : a.topic_perms) texts.push_back(&p);
  for (const auto& p : a.group_perms) texts.push_back(&p);
  for (const std::string* t : texts) {
    if (!IsValidUtf8(*t)) return Status::InvalidArgument("an account field is not UTF-8 text");
  }
  if (a.access_key.size() < kMinKeyLength) {
    return Status::InvalidArgument("accessKey \"" + a.access_key + "\" is too short: it needs " +
                                   std::to_string(kMinKeyLength) + " characters or more");
  }
  if (a.secret_key.size() < kMinKeyLength) {
    return Status::InvalidArgument("the secretKey of accessKey \"" + a.access_key +
                                   "\" is too short: it needs " + std::to_string(kMinKeyLength) +
                                   " characters or more");
  }
  auto in_account = [&](const Status& s) {
    return Status::InvalidArgument("accessKey \"" + a.access_key + "\": " + std::string(s.message()));
  };
  if (Status s = CheckEntries(a.topic_perms, strict, "topic"); !s.ok()) return in_account(s);
  if (Status s = CheckEntries(a.group_perms, strict, "group"); !s.ok()) return in_account(s);
  if (strict) {
    for (const std::string* p : {&a.default_topic_perm, &a.default_group_perm}) {
      if (!p->empty() && !StrictParsePerm(*p)) {
        return in_account(Status::InvalidArgument("default permission \"" + *p +
                                                  "\" is not one of PUB, SUB, PUB|SUB, SUB|PUB, DENY"));
      }
    }
  }
  if (auto p = AddressPattern::Parse(a.white_remote_address); !p.ok()) return in_account(p.status());
  return Status::Ok();
}

}  // namespace

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t pos = text.find(',', start);
    if (pos == std::string_view::npos) pos = text.size();
    std::string_view item = TrimBlanks(text.substr(start, pos - start));
    if (!item.empty()) out.emplace_back(item);
    start = pos + 1;
  }
  return out;
}

Status ValidateAccount(const PlainAccessConfig& account) { return CheckAccount(account, /*strict=*/true); }

Result<PlainAclFile> ParsePlainAcl(std::string_view yaml) {
  PlainAclFile file;
  if (size_t bad = 0; !IsValidUtf8(yaml, &bad)) {
    return Status::InvalidArgument("plain_acl.yml is not UTF-8 text (byte " + std::to_string(bad) + ")");
  }
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root || root.IsNull()) return file;
    if (!root.IsMap()) return Status::InvalidArgument("plain_acl.yml: the document must be a mapping");
    file.global_white_remote_addresses = ScalarList(root, "globalWhiteRemoteAddresses");
    if (const YAML::Node accounts = root["accounts"]; accounts && !accounts.IsNull()) {
      if (!accounts.IsSequence()) return Status::InvalidArgument("plain_acl.yml: accounts must be a list");
      for (const YAML::Node& a : accounts) {
        if (!a.IsMap()) return Status::InvalidArgument("plain_acl.yml: every account must be a mapping");
        PlainAccessConfig c;
        c.access_key = Scalar(a, "accessKey");
        c.secret_key = Scalar(a, "secretKey");
        c.white_remote_address = Scalar(a, "whiteRemoteAddress");
        c.admin = ParseBool(Scalar(a, "admin"));
        c.default_topic_perm = Scalar(a, "defaultTopicPerm");
        c.default_group_perm = Scalar(a, "defaultGroupPerm");
        c.topic_perms = ScalarList(a, "topicPerms");
        c.group_perms = ScalarList(a, "groupPerms");
        file.accounts.push_back(std::move(c));
      }
    }
    if (const YAML::Node dv = root["dataVersion"]; dv && dv.IsSequence() && dv.size() > 0 && dv[0].IsMap()) {
      const std::string ts = Scalar(dv[0], "timestamp");
      const std::string counter = Scalar(dv[0], "counter");
      file.data_version.timestamp = ts.empty() ? 0 : std::stoll(ts);
      file.data_version.counter = counter.empty() ? 0 : std::stoll(counter);
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("plain_acl.yml: ") + e.what());
  } catch (const std::exception& e) {  // stoll on a non-number data version
    return Status::InvalidArgument(std::string("plain_acl.yml: dataVersion is not a number (") + e.what() +
                                   ")");
  }
  return file;
}

std::string EncodePlainAcl(const PlainAclFile& file) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "globalWhiteRemoteAddresses" << YAML::Value << YAML::BeginSeq;
  for (const auto& a : file.global_white_remote_addresses) out << YAML::DoubleQuoted << a;
  out << YAML::EndSeq;
  out << YAML::Key << "accounts" << YAML::Value << YAML::BeginSeq;
  for (const PlainAccessConfig& a : file.accounts) {
    out << YAML::BeginMap;
    out << YAML::Key << "accessKey" << YAML::Value << YAML::DoubleQuoted << a.access_key;
    out << YAML::Key << "secretKey" << YAML::Value << YAML::DoubleQuoted << a.secret_key;
    out << YAML::Key << "whiteRemoteAddress" << YAML::Value << YAML::DoubleQuoted << a.white_remote_address;
    out << YAML::Key << "admin" << YAML::Value << a.admin;
    if (!a.default_topic_perm.empty()) {
      out << YAML::Key << "defaultTopicPerm" << YAML::Value << YAML::DoubleQuoted << a.default_topic_perm;
    }
    if (!a.default_group_perm.empty()) {
      out << YAML::Key << "defaultGroupPerm" << YAML::Value << YAML::DoubleQuoted << a.default_group_perm;
    }
    out << YAML::Key << "topicPerms" << YAML::Value << YAML::BeginSeq;
    for (const auto& p : a.topic_perms) out << YAML::DoubleQuoted << p;
    out << YAML::EndSeq;
    out << YAML::Key << "groupPerms" << YAML::Value << YAML::BeginSeq;
    for (const auto& p : a.group_perms) out << YAML::DoubleQuoted << p;
    out << YAML::EndSeq;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "dataVersion" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "counter" << YAML::Value << file.data_version.counter;
  out << YAML::Key << "timestamp" << YAML::Value << file.data_version.timestamp;
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<AclRules> AclRules::Compile(const PlainAclFile& file, std::vector<std::string>* duplicates) {
  AclRules rules;
  for (const std::string& text : file.global_white_remote_addresses) {
    FMQ_ASSIGN_OR_RETURN(AddressPattern p, AddressPattern::Parse(text));
    rules.global_white_.push_back(std::move(p));
  }
  for (const PlainAccessConfig& c : file.accounts) {
    FMQ_RETURN_IF_ERROR(CheckAccount(c, /*strict=*/false));
    if (rules.accounts_.contains(c.access_key)) {
      if (duplicates) duplicates->push_back(c.access_key);
      continue;
    }
    Account a;
    a.access_key = c.access_key;
    a.secret_key = c.secret_key;
    FMQ_ASSIGN_OR_RETURN(a.white_remote_address, AddressPattern::Parse(c.white_remote_address));
    a.admin = c.admin;
    a.default_topic_perm = ParsePerm(c.default_topic_perm);
    a.default_group_perm = ParsePerm(c.default_group_perm);
    for (const std::string& e : c.group_perms) {
      const auto items = SplitEquals(e);
      a.resource_perms[std::string(model::kRetryTopicPrefix) + std::string(TrimBlanks(items[0]))] =
          ParsePerm(items[1]);
    }
    for (const std::string& e : c.topic_perms) {
      const auto items = SplitEquals(e);
      a.resource_perms[std::string(TrimBlanks(items[0]))] = ParsePerm(items[1]);
    }
    rules.accounts_.emplace(a.access_key, std::move(a));
  }
  return rules;
}

const Account* AclRules::Find(std::string_view access_key) const {
  auto it = accounts_.find(access_key);
  return it == accounts_.end() ? nullptr : &it->second;
}

}  // namespace fmq::acl
