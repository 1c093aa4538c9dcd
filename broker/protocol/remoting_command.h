#pragma once

// RemotingCommand and its wire encodings (protocol reference section 1; docs/formats/remoting.md later):
//
//   frame  = int32 totalLength (bytes after this field) | int32 headerInfo | header | body
//   headerInfo = serializeType << 24 | headerLength (24 bits); serializeType 0 = JSON, 1 = ROCKETMQ (binary)
//
// Decoders take untrusted bytes (any client, or random bytes on a broker port) and return InvalidArgument
// with a reason; they never crash and never allocate more than the frame limit. Responses are encoded in the
// request's serialize type; requests the broker sends to clients use JSON (C++ clients misread type 1).
//
// Thread-safety: values and pure functions; a FrameDecoder belongs to one connection.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "broker/base/status.h"

namespace fmq::protocol {

enum class SerializeType : uint8_t { kJson = 0, kRocketMq = 1 };

enum class LanguageCode : uint8_t {
  kJava = 0,
  kCpp = 1,
  kDotnet = 2,
  kPython = 3,
  kDelphi = 4,
  kErlang = 5,
  kRuby = 6,
  kOther = 7,
  kHttp = 8,
  kGo = 9,
  kPhp = 10,
  kOms = 11,
  kRust = 12,
};
std::string_view LanguageName(LanguageCode lang);
std::optional<LanguageCode> LanguageFromName(std::string_view name);

inline constexpr int32_t kFlagResponse = 0x1;  // RPC_TYPE bit
inline constexpr int32_t kFlagOneway = 0x2;    // RPC_ONEWAY bit
// MQVersion ordinal FerryMQ reports in every command it writes (V4_9_7): Java clients gate features on it.
inline constexpr int32_t kCurrentVersion = 407;
// Largest whole frame, length prefix included (com.rocketmq.remoting.frameMaxLength).
inline constexpr size_t kMaxFrameLength = 16 * 1024 * 1024;
inline constexpr size_t kMaxHeaderLength = 0xFFFFFF;

struct RemotingCommand {
  int32_t code = 0;
  LanguageCode language = LanguageCode::kJava;
  int32_t version = kCurrentVersion;
  int32_t opaque = 0;
  int32_t flag = 0;
  std::optional<std::string> remark;
  std::map<std::string, std::string> ext_fields;  // the command's custom header, every value as text
  SerializeType serialize_type = SerializeType::kJson;
  std::string body;

  bool IsResponse() const { return (flag & kFlagResponse) != 0; }
  bool IsOneway() const { return (flag & kFlagOneway) != 0; }

  static RemotingCommand Request(int32_t code, int32_t opaque);
  // A response body-less answer with `code` and `remark` for a net::Responder to address (it fills in opaque,
  // flag and serialize type).
  static RemotingCommand Answer(int32_t code, std::string remark = "");
  // A response to `request`: same opaque and serialize type, response flag, FerryMQ's language and version.
  static RemotingCommand ResponseTo(const RemotingCommand& request, int32_t code, std::string remark = "");
};

// The whole frame of `cmd`, length prefix included.
std::string EncodeFrame(const RemotingCommand& cmd);

// Decodes one frame given the bytes after the 4-byte length prefix (headerInfo, header, body).
Result<RemotingCommand> DecodeFrame(std::span<const uint8_t> frame);

// Header encodings on their own (the frame codec uses them; tests and the fuzzer call them directly).
std::string EncodeJsonHeader(const RemotingCommand& cmd);
Status DecodeJsonHeader(std::string_view header, RemotingCommand* cmd);
std::string EncodeRocketMqHeader(const RemotingCommand& cmd);
Status DecodeRocketMqHeader(std::span<const uint8_t> header, RemotingCommand* cmd);

// Splits a byte stream into frames. Append() what the socket read, then call Next() until it returns nullopt.
// An error is final: the stream is out of sync and the connection must be closed (as the Java server does).
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_length = kMaxFrameLength) : max_frame_length_(max_frame_length) {}
  void Append(std::span<const uint8_t> bytes);
  Result<std::optional<RemotingCommand>> Next();
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  const size_t max_frame_length_;
  std::string buffer_;
  size_t consumed_ = 0;
  Status error_;
};

}  // namespace fmq::protocol
