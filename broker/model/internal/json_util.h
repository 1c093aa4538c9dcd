#pragma once

// JSON helpers shared by the model's body codecs (route, heartbeat, admin bodies). Private to the model
// module. Readers are lenient the way fastjson is: numbers may arrive as strings, absent fields take
// defaults.

#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "broker/base/status.h"
#include "broker/model/heartbeat.h"

namespace fmq::model::internal {

using nlohmann::json;

// An integer that may also arrive as a string; `fallback` when absent or unreadable.
template <typename T>
T IntOf(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    return v <= static_cast<uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(v) : fallback;
  }
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    return std::in_range<T>(v) ? static_cast<T>(v) : fallback;
  }
  if (it->is_number_float()) {
    // Only a finite value inside T's range converts (anything else would be undefined behaviour).
    const double d = it->get<double>();
    return d >= static_cast<double>(std::numeric_limits<T>::min()) &&
                   d < static_cast<double>(std::numeric_limits<T>::max())
               ? static_cast<T>(d)
               : fallback;
  }
  if (it->is_string()) {
    T v{};
    const std::string s = it->get<std::string>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  return fallback;
}

inline std::string StrOf(const json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

inline bool BoolOf(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return it->get<std::string>() == "true";
  return fallback;
}

// Java's enum names, indexed by the enums' values (heartbeat.h).
inline constexpr std::array<const char*, 2> kConsumeTypeNames = {"CONSUME_ACTIVELY", "CONSUME_PASSIVELY"};
inline constexpr std::array<const char*, 2> kMessageModelNames = {"BROADCASTING", "CLUSTERING"};
inline constexpr std::array<const char*, 6> kConsumeFromWhereNames = {
    "CONSUME_FROM_LAST_OFFSET",  "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
    "CONSUME_FROM_MIN_OFFSET",   "CONSUME_FROM_MAX_OFFSET",
    "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP"};

// An enum given by name or by ordinal: its index, `fallback` when absent, -1 when unknown.
template <size_t N>
int EnumIndexOf(const json& j, const char* key, const std::array<const char*, N>& names, int fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    return v >= 0 && static_cast<size_t>(v) < N ? static_cast<int>(v) : -1;
  }
  if (it->is_string()) {
    for (size_t i = 0; i < N; ++i) {
      if (it->get<std::string>() == names[i]) return static_cast<int>(i);
    }
  }
  return -1;
}

// Parses `text` as a JSON object; the error names `what`.
inline Result<json> ParseObject(std::string_view what, std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(std::string(what) + " body: not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + " body: not a JSON object");
  return j;
}

// Compact, keys sorted (nlohmann's object order), invalid UTF-8 replaced rather than thrown.
inline std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// SubscriptionData as the Java client writes it (heartbeat, consumer connection bodies). Defined in
// heartbeat.cc.
json SubscriptionJson(const SubscriptionData& s);
SubscriptionData SubscriptionOf(const json& j);

}  // namespace fmq::model::internal
