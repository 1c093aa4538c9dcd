// libFuzzer target for the signature check and permission decision (broker/acl): the bytes are a remoting
// frame (after its length prefix), as any peer can send one, checked against fixed accounts from a fixed
// address. Nothing may crash or hang; an unsigned request is never allowed, and re-signing it with the
// admin's secret always passes authentication (a refusal may then only be about resources the request cannot
// name).

#include <cstdint>
#include <span>
#include <string>

#include "broker/acl/access_validator.h"
#include "broker/acl/signature.h"
#include "broker/base/check.h"
#include "broker/protocol/remoting_command.h"

using namespace fmq;

namespace {
const acl::AclRules& Rules() {
  static const acl::AclRules rules = [] {
    auto f = acl::ParsePlainAcl(
        "accounts:\n"
        "  - {accessKey: app-orders, secretKey: orders-secret, defaultTopicPerm: SUB, topicPerms: "
        "[orders=PUB]}\n"
        "  - {accessKey: ops-admin, secretKey: admin-secret, admin: true}\n");
    FMQ_CHECK(f.ok());
    auto r = acl::AclRules::Compile(*f);
    FMQ_CHECK(r.ok());
    return *r;
  }();
  return rules;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cmd = protocol::DecodeFrame(std::span<const uint8_t>(data, size));
  if (!cmd.ok()) return 0;
  for (acl::Endpoint e : {acl::Endpoint::kBroker, acl::Endpoint::kNameServer}) {
    Status verdict = acl::Authorize(Rules(), e, "10.0.0.5", *cmd);
    if (!verdict.ok())
      FMQ_CHECK_MSG(verdict.code() == StatusCode::kPermissionDenied, verdict.ToString().c_str());
  }
  protocol::RemotingCommand bare = *cmd;
  bare.ext_fields.erase("AccessKey");
  bare.ext_fields.erase("Signature");
  auto need = acl::RequiredAccess(acl::Endpoint::kBroker, bare);
  FMQ_CHECK_MSG(!acl::Authorize(Rules(), acl::Endpoint::kBroker, "10.0.0.5", bare).ok(),
                "an unsigned broker request passed");
  protocol::RemotingCommand admin = bare;
  acl::SignRequest(admin.ext_fields, admin.body, "ops-admin", "admin-secret");
  Status s = acl::Authorize(Rules(), acl::Endpoint::kBroker, "10.0.0.5", admin);
  if (need.ok())
    FMQ_CHECK_MSG(s.ok(), std::string("an admin-signed request was refused: " + s.ToString()).c_str());
  return 0;
}
