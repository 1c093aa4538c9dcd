#include "broker/model/timer.h"

#include <charconv>
#include <limits>
#include <string>

#include "broker/model/message.h"
#include "broker/model/message_format.h"

namespace fmq::model {

namespace {
Result<int64_t> ParseLong(std::string_view name, std::string_view value) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size()) {
    return Status::InvalidArgument("the " + std::string(name) + " property '" + std::string(value) +
                                   "' is not a time in milliseconds or seconds (an integer)");
  }
  return v;
}
}  // namespace

Result<std::optional<int64_t>> TimerDeliverMs(std::string_view properties, int64_t now_ms) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 2;
  if (auto v = FindProperty(properties, prop::kTimerDelaySec)) {
    FMQ_ASSIGN_OR_RETURN(int64_t sec, ParseLong(prop::kTimerDelaySec, *v));
    if (sec > kMax / 1000 || sec < -kMax / 1000) {
      return Status::InvalidArgument("the TIMER_DELAY_SEC property '" + std::string(*v) +
                                     "' is out of range");
    }
    return std::optional<int64_t>(now_ms + sec * 1000);
  }
  if (auto v = FindProperty(properties, prop::kTimerDelayMs)) {
    FMQ_ASSIGN_OR_RETURN(int64_t ms, ParseLong(prop::kTimerDelayMs, *v));
    if (ms > kMax || ms < -kMax) {
      return Status::InvalidArgument("the TIMER_DELAY_MS property '" + std::string(*v) + "' is out of range");
    }
    return std::optional<int64_t>(now_ms + ms);
  }
  if (auto v = FindProperty(properties, prop::kTimerDeliverMs)) {
    FMQ_ASSIGN_OR_RETURN(int64_t at, ParseLong(prop::kTimerDeliverMs, *v));
    return std::optional<int64_t>(at);
  }
  return std::optional<int64_t>();
}

}  // namespace fmq::model
