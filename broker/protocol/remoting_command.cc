#include "broker/protocol/remoting_command.h"

#include <array>
#include <cstring>

#include <nlohmann/json.hpp>

#include "broker/base/coding.h"
#include "broker/protocol/internal/json_header.h"

namespace fmq::protocol {
namespace {

constexpr std::array<std::string_view, 13> kLanguageNames = {"JAVA",   "CPP",  "DOTNET", "PYTHON", "DELPHI",
                                                             "ERLANG", "RUBY", "OTHER",  "HTTP",   "GO",
                                                             "PHP",    "OMS",  "RUST"};

Status Bad(std::string what) { return Status::InvalidArgument("remoting frame: " + std::move(what)); }

// Converts a JSON scalar to the text Java's toString() would give (C++ clients send some ext values as
// numbers).
std::optional<std::string> ScalarText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return v.dump();
  if (v.is_null()) return std::nullopt;
  return v.dump();  // an object or array where a scalar belongs: keep its text rather than drop it
}

Result<int32_t> IntField(const nlohmann::json& j, const char* name, bool required, int32_t fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return Bad(std::string("header has no '") + name + "'");
    return fallback;
  }
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) return Bad(std::string("'") + name + "' is out of range");
    return static_cast<int32_t>(v);
  }
  return Bad(std::string("'") + name + "' is not an integer");
}

}  // namespace

std::string_view LanguageName(LanguageCode lang) {
  auto i = static_cast<size_t>(lang);
  return i < kLanguageNames.size() ? kLanguageNames[i] : "OTHER";
}

std::optional<LanguageCode> LanguageFromName(std::string_view name) {
  for (size_t i = 0; i < kLanguageNames.size(); ++i) {
    if (kLanguageNames[i] == name) return static_cast<LanguageCode>(i);
  }
  return std::nullopt;
}

RemotingCommand RemotingCommand::Request(int32_t code, int32_t opaque) {
  RemotingCommand c;
  c.code = code;
  c.opaque = opaque;
  return c;
}

RemotingCommand RemotingCommand::Answer(int32_t code, std::string remark) {
  RemotingCommand c;
  c.code = code;
  if (!remark.empty()) c.remark = std::move(remark);
  return c;
}

RemotingCommand RemotingCommand::ResponseTo(const RemotingCommand& request, int32_t code,
                                            std::string remark) {
  RemotingCommand c;
  c.code = code;
  c.opaque = request.opaque;
  c.flag = kFlagResponse;
  c.serialize_type = request.serialize_type;
  if (!remark.empty()) c.remark = std::move(remark);
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// JSON header (the default): Java's fastjson writes the fields in alphabetical order and omits nulls;
// nlohmann's std::map-backed objects give the same order. The fast codec (json_header.cc) handles what
// clients send; the generic one below everything else.

std::string EncodeJsonHeader(const RemotingCommand& cmd) {
  std::string out;
  if (internal::EncodeJsonHeaderFast(cmd, &out)) return out;
  return internal::EncodeJsonHeaderGeneric(cmd);
}

Status DecodeJsonHeader(std::string_view header, RemotingCommand* cmd) {
  if (internal::DecodeJsonHeaderFast(header, cmd)) return Status::Ok();
  return internal::DecodeJsonHeaderGeneric(header, cmd);
}

std::string internal::EncodeJsonHeaderGeneric(const RemotingCommand& cmd) {
  nlohmann::json j;
  j["code"] = cmd.code;
  if (!cmd.ext_fields.empty()) j["extFields"] = cmd.ext_fields;
  j["flag"] = cmd.flag;
  j["language"] = LanguageName(cmd.language);
  j["opaque"] = cmd.opaque;
  if (cmd.remark) j["remark"] = *cmd.remark;
  j["serializeTypeCurrentRPC"] = cmd.serialize_type == SerializeType::kJson ? "JSON" : "ROCKETMQ";
  j["version"] = cmd.version;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status internal::DecodeJsonHeaderGeneric(std::string_view header, RemotingCommand* cmd) {
  nlohmann::json j = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("JSON header does not parse");
  if (!j.is_object()) return Bad("JSON header is not an object");
  FMQ_ASSIGN_OR_RETURN(cmd->code, IntField(j, "code", true, 0));
  FMQ_ASSIGN_OR_RETURN(cmd->version, IntField(j, "version", false, 0));
  FMQ_ASSIGN_OR_RETURN(cmd->opaque, IntField(j, "opaque", false, 0));
  FMQ_ASSIGN_OR_RETURN(cmd->flag, IntField(j, "flag", false, 0));
  cmd->language = LanguageCode::kOther;
  if (auto it = j.find("language"); it != j.end()) {
    if (it->is_string()) {
      cmd->language = LanguageFromName(it->get<std::string>()).value_or(LanguageCode::kOther);
    } else if (it->is_number_unsigned() && it->get<uint64_t>() < kLanguageNames.size()) {
      cmd->language = static_cast<LanguageCode>(it->get<uint64_t>());
    }
  }
  cmd->remark.reset();
  if (auto it = j.find("remark"); it != j.end() && !it->is_null()) cmd->remark = ScalarText(*it);
  cmd->ext_fields.clear();
  if (auto it = j.find("extFields"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Bad("'extFields' is not an object");
    for (const auto& [k, v] : it->items()) {
      if (auto text = ScalarText(v)) cmd->ext_fields[k] = std::move(*text);
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// ROCKETMQ binary header: int16 code | byte language | int16 version | int32 opaque | int32 flag |
// int32 remarkLength + remark | int32 extLength + { int16 keyLength + key | int32 valueLength + value }*

std::string EncodeRocketMqHeader(const RemotingCommand& cmd) {
  std::string out;
  ByteWriter w(&out);
  w.PutI16(static_cast<int16_t>(cmd.code));
  w.PutU8(static_cast<uint8_t>(cmd.language));
  w.PutI16(static_cast<int16_t>(cmd.version));
  w.PutI32(cmd.opaque);
  w.PutI32(cmd.flag);
  if (cmd.remark && !cmd.remark->empty()) {
    w.PutI32(static_cast<int32_t>(cmd.remark->size()));
    w.PutBytes(*cmd.remark);
  } else {
    w.PutI32(0);
  }
  std::string ext;
  ByteWriter e(&ext);
  for (const auto& [k, v] : cmd.ext_fields) {
    e.PutI16(static_cast<int16_t>(k.size()));
    e.PutBytes(k);
    e.PutI32(static_cast<int32_t>(v.size()));
    e.PutBytes(v);
  }
  w.PutI32(static_cast<int32_t>(ext.size()));
  w.PutBytes(ext);
  return out;
}

Status DecodeRocketMqHeader(std::span<const uint8_t> header, RemotingCommand* cmd) {
  ByteReader r(header);
  int16_t code = 0, version = 0;
  uint8_t lang = 0;
  int32_t remark_len = 0, ext_len = 0;
  if (!r.ReadI16(&code) || !r.ReadU8(&lang) || !r.ReadI16(&version) || !r.ReadI32(&cmd->opaque) ||
      !r.ReadI32(&cmd->flag) || !r.ReadI32(&remark_len)) {
    return Bad("binary header shorter than its 17 fixed bytes");
  }
  cmd->code = code;
  cmd->version = version;
  cmd->language = lang < kLanguageNames.size() ? static_cast<LanguageCode>(lang) : LanguageCode::kOther;
  cmd->remark.reset();
  std::string_view text;
  if (remark_len < 0 || !r.ReadBytes(static_cast<size_t>(remark_len), &text)) {
    return Bad("binary header remark length " + std::to_string(remark_len) + " exceeds the header");
  }
  if (remark_len > 0) cmd->remark = std::string(text);
  if (!r.ReadI32(&ext_len) || ext_len < 0 || static_cast<size_t>(ext_len) > r.remaining()) {
    return Bad("binary header ext length " + std::to_string(ext_len) + " exceeds the header");
  }
  ByteReader e(r.cursor(), static_cast<size_t>(ext_len));
  cmd->ext_fields.clear();
  while (e.remaining() > 0) {
    int16_t key_len = 0;
    int32_t value_len = 0;
    std::string_view key, value;
    if (!e.ReadI16(&key_len) || key_len < 0 || !e.ReadBytes(static_cast<size_t>(key_len), &key) ||
        !e.ReadI32(&value_len) || value_len < 0 || !e.ReadBytes(static_cast<size_t>(value_len), &value)) {
      return Bad("binary header ext entry overruns the ext map");
    }
    // Java reads a zero-length key or value as null and drops it.
    if (!key.empty() && !value.empty()) cmd->ext_fields[std::string(key)] = std::string(value);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Frames

std::string EncodeFrame(const RemotingCommand& cmd) {
  if (cmd.serialize_type == SerializeType::kJson) {
    // The header straight into the frame: no separate header string to copy.
    std::string out;
    out.reserve(8 + 160 + cmd.ext_fields.size() * 48 + cmd.body.size());
    out.resize(8);
    if (internal::EncodeJsonHeaderFast(cmd, &out)) {
      const size_t header_len = out.size() - 8;
      EncodeU32(reinterpret_cast<uint8_t*>(out.data()),
                static_cast<uint32_t>(4 + header_len + cmd.body.size()));
      EncodeU32(reinterpret_cast<uint8_t*>(out.data()) + 4, static_cast<uint32_t>(header_len & 0xFFFFFF));
      out.append(cmd.body);
      return out;
    }
  }
  std::string header =
      cmd.serialize_type == SerializeType::kRocketMq ? EncodeRocketMqHeader(cmd) : EncodeJsonHeader(cmd);
  std::string out;
  out.reserve(8 + header.size() + cmd.body.size());
  ByteWriter w(&out);
  w.PutI32(static_cast<int32_t>(4 + header.size() + cmd.body.size()));
  w.PutI32(
      static_cast<int32_t>((static_cast<uint32_t>(cmd.serialize_type) << 24) | (header.size() & 0xFFFFFF)));
  w.PutBytes(header);
  w.PutBytes(cmd.body);
  return out;
}

Result<RemotingCommand> DecodeFrame(std::span<const uint8_t> frame) {
  if (frame.size() < 4) return Bad("shorter than its 4-byte header info");
  const uint32_t info = DecodeU32(frame.data());
  const uint8_t type = static_cast<uint8_t>(info >> 24);
  const size_t header_len = info & 0xFFFFFF;
  if (header_len > frame.size() - 4) {
    return Bad("header length " + std::to_string(header_len) + " exceeds the frame's " +
               std::to_string(frame.size() - 4) + " bytes");
  }
  RemotingCommand cmd;
  auto header = frame.subspan(4, header_len);
  if (type == static_cast<uint8_t>(SerializeType::kJson)) {
    cmd.serialize_type = SerializeType::kJson;
    FMQ_RETURN_IF_ERROR(DecodeJsonHeader(AsChars(header), &cmd));
  } else if (type == static_cast<uint8_t>(SerializeType::kRocketMq)) {
    cmd.serialize_type = SerializeType::kRocketMq;
    FMQ_RETURN_IF_ERROR(DecodeRocketMqHeader(header, &cmd));
  } else {
    return Bad("unknown serialize type " + std::to_string(type));
  }
  cmd.body.assign(reinterpret_cast<const char*>(frame.data()) + 4 + header_len,
                  frame.size() - 4 - header_len);
  return cmd;
}

void FrameDecoder::Append(std::span<const uint8_t> bytes) {
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  buffer_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<std::optional<RemotingCommand>> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  const size_t avail = buffer_.size() - consumed_;
  if (avail < 4) return std::optional<RemotingCommand>();
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data()) + consumed_;
  const int32_t total = DecodeI32(p);
  if (total < 4 || static_cast<size_t>(total) + 4 > max_frame_length_) {
    error_ = Bad("length prefix " + std::to_string(total) + " is outside 4.." +
                 std::to_string(max_frame_length_ - 4) + " (not a RocketMQ remoting stream?)");
    return error_;
  }
  if (avail < 4 + static_cast<size_t>(total)) return std::optional<RemotingCommand>();
  auto cmd = DecodeFrame({p + 4, static_cast<size_t>(total)});
  if (!cmd.ok()) {
    error_ = cmd.status();
    return error_;
  }
  consumed_ += 4 + static_cast<size_t>(total);
  if (consumed_ > (1 << 20) && consumed_ * 2 > buffer_.size()) {  // compact now and then
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<RemotingCommand>(std::move(*cmd));
}

}  // namespace fmq::protocol
