#pragma once

// Java .properties text as RocketMQ's broker.conf / namesrv.conf use it: `key=value` or `key: value` lines,
// `#` and `!` comments, surrounding blanks trimmed. (Line continuations and unicode escapes are not used by
// those files and are not interpreted.) Malformed lines are errors naming the line.

#include <charconv>
#include <map>
#include <string>
#include <string_view>

#include "broker/base/status.h"

namespace fmq {

Result<std::map<std::string, std::string>> ParseProperties(std::string_view text);

// A config value as a whole number; the error names the key and the value.
template <typename T>
Status ParsePropertyNumber(const std::string& key, const std::string& value, T* out) {
  T v{};
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return Status::InvalidArgument("config key " + key + ": '" + value + "' is not a number");
  }
  *out = v;
  return Status::Ok();
}

// A config value as a whole number within [lo, hi], stored into `out` (of any integer type holding the
// range).
template <typename T>
Status ParsePropertyNumberInRange(const std::string& key, const std::string& value, int64_t lo, int64_t hi,
                                  T* out) {
  int64_t v = 0;
  FMQ_RETURN_IF_ERROR(ParsePropertyNumber(key, value, &v));
  if (v < lo || v > hi) {
    return Status::InvalidArgument("config key " + key + ": " + value + " is outside " + std::to_string(lo) +
                                   ".." + std::to_string(hi));
  }
  *out = static_cast<T>(v);
  return Status::Ok();
}

// "true" or "false".
Status ParsePropertyBool(const std::string& key, const std::string& value, bool* out);

}  // namespace fmq
