// libFuzzer target for plain_acl.yml (broker/acl): the bytes are a file an operator, an admin request or a
// hot reload hands the broker. Nothing may crash or hang; a file that parses and compiles encodes to text
// that parses and compiles again to the same accounts (what UPDATE_AND_CREATE_ACL_CONFIG writes back must
// load).

#include <cstdint>
#include <string>

#include "broker/acl/plain_acl.h"
#include "broker/base/check.h"

using namespace fmq;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = acl::ParsePlainAcl(text);
  if (!file.ok()) return 0;
  auto rules = acl::AclRules::Compile(*file);
  if (!rules.ok()) return 0;
  auto again = acl::ParsePlainAcl(acl::EncodePlainAcl(*file));
  FMQ_CHECK_MSG(again.ok(), again.status().ToString().c_str());
  FMQ_CHECK(again->accounts.size() == file->accounts.size());
  for (size_t i = 0; i < file->accounts.size(); ++i) {
    FMQ_CHECK(again->accounts[i].access_key == file->accounts[i].access_key);
    FMQ_CHECK(again->accounts[i].secret_key == file->accounts[i].secret_key);
    FMQ_CHECK(again->accounts[i].topic_perms == file->accounts[i].topic_perms);
    FMQ_CHECK(again->accounts[i].admin == file->accounts[i].admin);
  }
  auto rules_again = acl::AclRules::Compile(*again);
  FMQ_CHECK_MSG(rules_again.ok(), rules_again.status().ToString().c_str());
  FMQ_CHECK(rules_again->account_count() == rules->account_count());
  return 0;
}
