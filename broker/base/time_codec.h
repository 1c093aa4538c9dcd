#pragma once

// The one time codec of FerryMQ's programs (CONVENTIONS: one convention per concern): RFC 3339 in UTC as
// Kubernetes writes metav1.Time ("2026-05-01T10:00:00Z") and metav1.MicroTime
// ("2026-05-01T10:00:00.123456Z"), parsed with any fraction and a Z or numeric offset; and durations as the
// operator's flags and custom resources write them ("500ms", "15s", "5m", "1h"). The operator's kube/api
// layers and ferryctl use it. Pure functions, no locale or timezone database involved; thread-safe.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/base/status.h"

namespace fmq {

// Second precision: "2026-05-01T10:00:00Z" (the fraction is dropped, rounding toward the past).
std::string FormatRfc3339(int64_t unix_millis);
// Microsecond precision: "2026-05-01T10:00:00.123456Z".
std::string FormatRfc3339Micros(int64_t unix_micros);
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) to microseconds since the epoch; digits of the fraction
// past the sixth are ignored. InvalidArgument ("not an RFC 3339 time: '...'") for anything else.
Result<int64_t> ParseRfc3339Micros(std::string_view text);

// "15s", "500ms", "5m", "1h" (a bare number is seconds). InvalidArgument ("not a duration: '...'") otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace fmq
