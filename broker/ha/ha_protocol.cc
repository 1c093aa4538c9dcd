#include "broker/ha/ha_protocol.h"

#include <nlohmann/json.hpp>

#include "broker/base/coding.h"

namespace fmq::ha {

using nlohmann::json;

namespace {

json EpochsToJson(const std::vector<store::EpochEntry>& epochs) {
  json list = json::array();
  for (const auto& e : epochs) list.push_back({{"epoch", e.epoch.value()}, {"startOffset", e.start.value()}});
  return list;
}

// Field readers that never throw: a wrong type is an InvalidArgument naming the field.
class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}
  Status status() const { return status_; }

  std::string Str(const char* name, bool required = true) {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) {
      if (required) Fail(name, "is missing");
      return {};
    }
    if (!it->is_string()) {
      Fail(name, "is not a string");
      return {};
    }
    return it->get<std::string>();
  }

  int64_t Int(const char* name, int64_t lo, int64_t hi, bool required = true) {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) {
      if (required) Fail(name, "is missing");
      return 0;
    }
    if (!it->is_number_integer()) {
      Fail(name, "is not an integer");
      return 0;
    }
    const int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)
                          ? INT64_MAX
                          : it->get<int64_t>();
    if (v < lo || v > hi) {
      Fail(name, "is out of range");
      return 0;
    }
    return v;
  }

  bool Bool(const char* name) {
    auto it = j_.find(name);
    if (it == j_.end() || !it->is_boolean()) {
      Fail(name, "is not a boolean");
      return false;
    }
    return it->get<bool>();
  }

  std::vector<store::EpochEntry> Epochs(const char* name) {
    std::vector<store::EpochEntry> out;
    auto it = j_.find(name);
    if (it == j_.end() || !it->is_array()) {
      Fail(name, "is not an array");
      return out;
    }
    for (const auto& e : *it) {
      if (!e.is_object()) {
        Fail(name, "holds a non-object");
        return {};
      }
      Reader r(e);
      const int64_t epoch = r.Int("epoch", 1, INT32_MAX);
      const int64_t start = r.Int("startOffset", 0, INT64_MAX);
      if (!r.status().ok()) {
        Fail(name, std::string(r.status().message()));
        return {};
      }
      out.push_back({Epoch(static_cast<int32_t>(epoch)), PhysicalOffset(start)});
    }
    if (Status s = store::ValidateEpochEntries(out); !s.ok()) Fail(name, std::string(s.message()));
    return out;
  }

 private:
  void Fail(const char* name, const std::string& what) {
    if (status_.ok()) status_ = Status::InvalidArgument(std::string("hello field ") + name + " " + what);
  }
  const json& j_;
  Status status_;
};

Result<json> ParseObject(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("hello is not a JSON object");
  return j;
}

// int64 magic, int32 length, body.
std::string Framed(int64_t magic, const std::string& body) {
  std::string out(12, '\0');
  EncodeI64(reinterpret_cast<uint8_t*>(out.data()), magic);
  EncodeI32(reinterpret_cast<uint8_t*>(out.data()) + 8, static_cast<int32_t>(body.size()));
  out += body;
  return out;
}

}  // namespace

std::string EncodeSlaveHello(const SlaveHello& h) {
  json j = {{"version", h.version},      {"cluster", h.cluster},      {"brokerName", h.broker_name},
            {"brokerId", h.broker_id},   {"address", h.address},      {"epochs", EpochsToJson(h.epochs)},
            {"minOffset", h.min_offset}, {"maxOffset", h.max_offset}, {"knownEpoch", h.known_epoch}};
  return j.dump();
}

Result<SlaveHello> DecodeSlaveHello(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, ParseObject(text));
  Reader r(j);
  SlaveHello h;
  h.version = static_cast<int32_t>(r.Int("version", 1, INT32_MAX));
  h.cluster = r.Str("cluster");
  h.broker_name = r.Str("brokerName");
  h.broker_id = r.Int("brokerId", 0, INT64_MAX);
  h.address = r.Str("address", /*required=*/false);
  h.epochs = r.Epochs("epochs");
  h.min_offset = r.Int("minOffset", 0, INT64_MAX);
  h.max_offset = r.Int("maxOffset", 0, INT64_MAX);
  h.known_epoch = static_cast<int32_t>(r.Int("knownEpoch", 0, INT32_MAX));
  FMQ_RETURN_IF_ERROR(r.status());
  if (h.max_offset < h.min_offset) return Status::InvalidArgument("hello maxOffset is below minOffset");
  return h;
}

std::string EncodeMasterHello(const MasterHello& h) {
  json j = {{"ok", h.ok},
            {"errorCode", h.error_code},
            {"error", h.error},
            {"epoch", h.epoch},
            {"epochs", EpochsToJson(h.epochs)},
            {"minOffset", h.min_offset},
            {"maxOffset", h.max_offset},
            {"confirmOffset", h.confirm_offset},
            {"role", h.role},
            {"minInSyncReplicas", h.min_in_sync_replicas},
            {"whenBelowMinInSync", h.when_below_min_in_sync},
            {"masterAddress", h.master_address}};
  return j.dump();
}

Result<MasterHello> DecodeMasterHello(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, ParseObject(text));
  Reader r(j);
  MasterHello h;
  h.ok = r.Bool("ok");
  h.error_code = r.Str("errorCode", false);
  h.error = r.Str("error", false);
  h.epoch = static_cast<int32_t>(r.Int("epoch", 0, INT32_MAX));
  h.epochs = r.Epochs("epochs");
  h.min_offset = r.Int("minOffset", 0, INT64_MAX);
  h.max_offset = r.Int("maxOffset", 0, INT64_MAX);
  h.confirm_offset = r.Int("confirmOffset", 0, INT64_MAX);
  h.role = r.Str("role", false);
  h.min_in_sync_replicas = static_cast<int32_t>(r.Int("minInSyncReplicas", 0, INT32_MAX, false));
  h.when_below_min_in_sync = r.Str("whenBelowMinInSync", false);
  h.master_address = r.Str("masterAddress", false);
  FMQ_RETURN_IF_ERROR(r.status());
  if (h.max_offset < h.min_offset) return Status::InvalidArgument("hello maxOffset is below minOffset");
  return h;
}

std::string EncodeGreeting() {
  return Framed(kFerryHelloMagic, json({{"ferrymq", kFerryProtocolVersion}}).dump());
}

std::string EncodeHelloRequest(const SlaveHello& hello) {
  const std::string body = EncodeSlaveHello(hello);
  std::string out(4, '\0');
  EncodeI32(reinterpret_cast<uint8_t*>(out.data()), static_cast<int32_t>(body.size()));
  return out + body;
}

std::string EncodeHelloResponse(const MasterHello& hello) {
  return Framed(kFerryHelloMagic, EncodeMasterHello(hello));
}

void EncodeReport(int64_t offset, uint8_t out[kReportSize]) { EncodeI64(out, offset); }

void EncodeClassicHeader(int64_t offset, int32_t size, uint8_t out[kClassicHeaderSize]) {
  EncodeI64(out, offset);
  EncodeI32(out + 8, size);
}

void EncodeFerryHeader(int64_t offset, int32_t size, int64_t confirm, uint8_t out[kFerryHeaderSize]) {
  EncodeI64(out, offset);
  EncodeI32(out + 8, size);
  EncodeI64(out + 12, confirm);
}

Result<FrameHeader> DecodeFrameHeader(const uint8_t* p, bool ferry, int32_t max_body) {
  FrameHeader h;
  h.offset = DecodeI64(p);
  h.size = DecodeI32(p + 8);
  if (ferry) h.confirm = DecodeI64(p + 12);
  if (h.offset < 0)
    return Status::InvalidArgument("frame offset " + std::to_string(h.offset) + " is negative");
  if (h.size < 0 || h.size > max_body) {
    return Status::InvalidArgument("frame body of " + std::to_string(h.size) + " bytes (limit " +
                                   std::to_string(max_body) + ")");
  }
  if (ferry && h.confirm < 0) return Status::InvalidArgument("frame confirm offset is negative");
  return h;
}

}  // namespace fmq::ha
