#pragma once

// Status conditions in the metav1.Condition shape (type, status, reason, message, lastTransitionTime,
// observedGeneration), and the rule that makes them trustworthy: lastTransitionTime moves only when the
// status changes. Pure values; not thread-safe (owned by one reconcile pass).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/status.h"

namespace fmq::op::api {

inline constexpr std::string_view kTrue = "True";
inline constexpr std::string_view kFalse = "False";
inline constexpr std::string_view kUnknown = "Unknown";

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  std::string last_transition_time;  // RFC 3339, UTC, seconds
  int64_t observed_generation = 0;

  bool operator==(const Condition&) const = default;
};

// RFC 3339 in UTC with second precision ("2026-11-22T08:20:00Z"), as the apiserver writes metav1.Time.
std::string FormatTime(std::chrono::system_clock::time_point t);
// Parses what FormatTime writes (and fractional seconds / a numeric offset). InvalidArgument otherwise.
Result<std::chrono::system_clock::time_point> ParseTime(std::string_view text);

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

// Sets `c` in `conditions` (replacing the one of the same type). The transition time is kept from the
// existing condition when the status did not change, else set to `now`. Returns true when anything changed.
bool SetCondition(std::vector<Condition>* conditions, Condition c, std::chrono::system_clock::time_point now);

nlohmann::json ConditionsToJson(const std::vector<Condition>& conditions);
// Tolerates missing fields (an object written by hand); skips entries without a type.
std::vector<Condition> ConditionsFromJson(const nlohmann::json& j);

}  // namespace fmq::op::api
