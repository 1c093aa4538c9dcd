// libFuzzer target for what arrives on a broker or name-server port: the stream frame decoder (fed in uneven
// chunks), the frame decoder, and both header encodings. Nothing may crash, hang or over-read; a decoded
// command must re-encode and decode to the same command.

#include <cstdint>
#include <string>

#include "broker/base/check.h"
#include "broker/base/coding.h"
#include "broker/protocol/remoting_command.h"

using namespace fmq;
using namespace fmq::protocol;

namespace {
void CheckRoundTrip(const RemotingCommand& cmd) {
  RemotingCommand again_in = cmd;
  std::string frame = EncodeFrame(again_in);
  auto again = DecodeFrame(AsBytes(std::string_view(frame).substr(4)));
  FMQ_CHECK(again.ok());
  FMQ_CHECK(again->code == cmd.code || cmd.serialize_type == SerializeType::kRocketMq);  // int16 on the wire
  FMQ_CHECK(again->opaque == cmd.opaque);
  FMQ_CHECK(again->body == cmd.body);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  if (auto cmd = DecodeFrame(bytes); cmd.ok()) CheckRoundTrip(*cmd);
  RemotingCommand c;
  (void)DecodeJsonHeader(AsChars(bytes), &c);
  (void)DecodeRocketMqHeader(bytes, &c);
  FrameDecoder dec(64 * 1024);
  size_t pos = 0, step = 1;
  while (pos < size) {
    size_t n = std::min(step, size - pos);
    dec.Append(bytes.subspan(pos, n));
    pos += n;
    step = step * 3 % 17 + 1;
    for (int k = 0; k < 8; ++k) {
      auto next = dec.Next();
      if (!next.ok() || !next->has_value()) break;
      CheckRoundTrip(**next);
    }
  }
  return 0;
}
