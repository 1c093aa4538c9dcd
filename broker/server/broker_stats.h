#pragma once

// BrokerStats: message counters and rates the admin tools show (RocketMQ's BrokerStats and the store's
// putTps/getTransferedTps): totals now, at this morning's and yesterday morning's local midnight, and rates
// over the last 10 s, 60 s and 600 s. Sample() is called about once a second by the broker's housekeeping.
//
// Thread-safety: AddGot from any thread (lock-free); Sample and RuntimeInfo from any thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"

namespace fmq::server {

class BrokerStats {
 public:
  explicit BrokerStats(const Clock& clock);

  void AddGot(int64_t messages) { got_total_.fetch_add(messages, std::memory_order_relaxed); }
  int64_t got_total() const { return got_total_.load(std::memory_order_relaxed); }

  // Records the current totals (`puts_total` from the store).
  void Sample(int64_t puts_total) FMQ_EXCLUDES(mu_);

  // putTps / getTransferedTps as "<10s> <60s> <600s>", and the day totals, as GET_BROKER_RUNTIME_INFO keys.
  std::map<std::string, std::string> RuntimeInfo(int64_t puts_total) const FMQ_EXCLUDES(mu_);

 private:
  struct Point {
    int64_t at_ms;
    int64_t puts;
    int64_t gets;
  };
  double RateLocked(int64_t window_ms, bool puts) const FMQ_REQUIRES(mu_);

  const Clock& clock_;
  std::atomic<int64_t> got_total_{0};
  mutable Mutex mu_;
  std::deque<Point> points_ FMQ_GUARDED_BY(mu_);
  int day_ FMQ_GUARDED_BY(mu_) = -1;
  Point today_morning_ FMQ_GUARDED_BY(mu_){0, 0, 0};
  Point yesterday_morning_ FMQ_GUARDED_BY(mu_){0, 0, 0};
};

}  // namespace fmq::server
