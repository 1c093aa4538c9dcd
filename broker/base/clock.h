#pragma once

// Clock: the only source of time for code that must be testable (CONVENTIONS.md rule 12). Store timestamps,
// retention ages and flush deadlines read a Clock; tests pass a ManualClock and move it by hand.
//
// Thread-safety: all methods are safe to call concurrently.

#include <atomic>
#include <cstdint>
#include <string>

namespace fmq {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (RocketMQ store/born timestamps).
  virtual int64_t NowMillis() const = 0;
  // Monotonic nanoseconds, for measuring intervals.
  virtual int64_t MonotonicNanos() const = 0;
};

// The real clock. Stateless; SystemClock() returns a shared immutable instance.
const Clock& SystemClock();

// A clock that moves only when told. Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_millis = 1'700'000'000'000) : millis_(now_millis) {}
  int64_t NowMillis() const override { return millis_.load(std::memory_order_relaxed); }
  int64_t MonotonicNanos() const override { return NowMillis() * 1'000'000; }
  void SetMillis(int64_t m) { millis_.store(m, std::memory_order_relaxed); }
  void AdvanceMillis(int64_t d) { millis_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> millis_;
};

// Hour of day (0-23) of `millis` in local time, as RocketMQ's deleteWhen compares it.
int LocalHourOfDay(int64_t millis);
// `yyyyMMddHHmmssSSS` of `millis` in local time (index file names, UtilAll.timeMillisToHumanString).
std::string LocalTimestampName(int64_t millis);

}  // namespace fmq
