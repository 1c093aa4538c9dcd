// libFuzzer target for command headers: a JSON or ROCKETMQ header is decoded, then every declared header is
// read from its ext fields by the generic codec. Nothing may crash; a header that decodes must re-encode to
// fields that decode to the same values. The fast JSON header codec must agree with the generic (nlohmann)
// one wherever it does not decline: same fields decoded, same bytes encoded.

#include <cstdint>
#include <string>

#include "broker/base/check.h"
#include "broker/base/coding.h"
#include "broker/protocol/headers.h"
#include "broker/protocol/internal/json_header.h"
#include "broker/protocol/remoting_command.h"

using namespace fmq;
using namespace fmq::protocol;

namespace {
template <typename H>
void Check(const RemotingCommand& cmd) {
  auto h = H::Spec().Decode(cmd.ext_fields);
  if (!h.ok()) return;
  std::map<std::string, std::string> ext;
  H::Spec().Encode(*h, &ext);
  auto again = H::Spec().Decode(ext);
  FMQ_CHECK(again.ok());
  std::map<std::string, std::string> ext2;
  H::Spec().Encode(*again, &ext2);
  FMQ_CHECK(ext == ext2);
}
void CheckJsonCodecsAgree(std::string_view header) {
  RemotingCommand fast, generic;
  const bool fast_ok = protocol::internal::DecodeJsonHeaderFast(header, &fast);
  const bool generic_ok = protocol::internal::DecodeJsonHeaderGeneric(header, &generic).ok();
  if (fast_ok) {
    FMQ_CHECK(generic_ok);
    FMQ_CHECK(fast.code == generic.code && fast.language == generic.language &&
              fast.version == generic.version && fast.opaque == generic.opaque && fast.flag == generic.flag &&
              fast.remark == generic.remark && fast.ext_fields == generic.ext_fields);
  }
  if (generic_ok) {
    std::string encoded;
    if (protocol::internal::EncodeJsonHeaderFast(generic, &encoded))
      FMQ_CHECK(encoded == protocol::internal::EncodeJsonHeaderGeneric(generic));
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  CheckJsonCodecsAgree(AsChars(bytes));
  for (int encoding = 0; encoding < 2; ++encoding) {
    RemotingCommand cmd;
    Status s = encoding == 0 ? DecodeJsonHeader(AsChars(bytes), &cmd) : DecodeRocketMqHeader(bytes, &cmd);
    if (!s.ok()) continue;
    for (int32_t code : {10, 310, 320}) {
      cmd.code = code;
      (void)SendMessageRequestHeader::FromCommand(cmd);
    }
    Check<SendMessageResponseHeader>(cmd);
    Check<PullMessageRequestHeader>(cmd);
    Check<PullMessageResponseHeader>(cmd);
    Check<ConsumerQueueHeader>(cmd);
    Check<QueueHeader>(cmd);
    Check<RegisterBrokerRequestHeader>(cmd);
    Check<BrokerIdentityHeader>(cmd);
    Check<TopicHeader>(cmd);
    Check<KvConfigHeader>(cmd);
    Check<UnregisterClientHeader>(cmd);
    Check<ConsumerGroupHeader>(cmd);
    Check<CreateTopicHeader>(cmd);
    Check<DeleteSubscriptionGroupHeader>(cmd);
    Check<ViewMessageHeader>(cmd);
    Check<QueryMessageHeader>(cmd);
    Check<ResetOffsetHeader>(cmd);
  }
  return 0;
}
