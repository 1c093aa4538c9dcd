#pragma once

// Timer messages: a delivery time chosen by the producer (RocketMQ 5's TIMER_DELIVER_MS, TIMER_DELAY_SEC,
// TIMER_DELAY_MS), stored in rmq_sys_wheel_timer until due. docs/formats/timer.md has the whole design.

#include <cstdint>
#include <optional>
#include <string_view>

#include "broker/base/status.h"

namespace fmq::model {

inline constexpr const char* kTimerTopic = "rmq_sys_wheel_timer";

// When the producer wants the message delivered, from its timer properties and the broker's clock:
// TIMER_DELAY_SEC, else TIMER_DELAY_MS (relative to `now_ms`), else TIMER_DELIVER_MS (absolute). nullopt
// without any; InvalidArgument naming the property when its value is not an integer (or overflows).
Result<std::optional<int64_t>> TimerDeliverMs(std::string_view properties, int64_t now_ms);

// The slot time of a due time: rounded up to the precision, so a timer is never delivered early.
inline int64_t TimerSlotMs(int64_t deliver_ms, int64_t precision_ms) {
  const int64_t q = deliver_ms / precision_ms, r = deliver_ms % precision_ms;
  return (r > 0 ? q + 1 : q) * precision_ms;
}

}  // namespace fmq::model
