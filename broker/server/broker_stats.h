#pragma once

// BrokerStats: message counters and rates the admin tools show (RocketMQ's BrokerStats and the store's
// putTps/getTransferedTps): totals now, at this morning's and yesterday morning's local midnight, and rates
// over the last 10 s, 60 s and 600 s. Sample() is called about once a second by the broker's housekeeping.
//
// Per topic and per topic@group it also keeps message counts per minute for the last day (RocketMQ's
// BrokerStatsManager items TOPIC_PUT_NUMS and GROUP_GET_NUMS), which VIEW_BROKER_STATS_DATA reports as sums
// and rates over the last minute, hour and day (mqadmin statsAll) and consume stats as a group's consume TPS.
//
// Thread-safety: AddGot from any thread (lock-free); everything else from any thread (a mutex).

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

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

  static constexpr const char* kTopicPutNums = "TOPIC_PUT_NUMS";
  static constexpr const char* kGroupGetNums = "GROUP_GET_NUMS";
  void AddTopicPut(const std::string& topic, int64_t messages) FMQ_EXCLUDES(keyed_mu_);
  void AddGroupGet(const std::string& topic, const std::string& group, int64_t messages)
      FMQ_EXCLUDES(keyed_mu_);
  struct Window {
    int64_t sum = 0;
    double tps = 0;
  };
  struct Windows {
    Window minute, hour, day;
  };
  // `name` kTopicPutNums with key <topic>, or kGroupGetNums with key <topic>@<group>; nullopt if never
  // counted.
  std::optional<Windows> Stats(const std::string& name, const std::string& key) const FMQ_EXCLUDES(keyed_mu_);

 private:
  struct Point {
    int64_t at_ms;
    int64_t puts;
    int64_t gets;
  };
  double RateLocked(int64_t window_ms, bool puts) const FMQ_REQUIRES(mu_);

  struct Keyed {
    std::deque<std::pair<int64_t, int64_t>> minutes;  // (minute since the epoch, messages), last day only
  };
  void AddKeyed(const std::string& key, int64_t messages) FMQ_EXCLUDES(keyed_mu_);

  const Clock& clock_;
  std::atomic<int64_t> got_total_{0};
  mutable Mutex keyed_mu_;
  std::unordered_map<std::string, Keyed> keyed_ FMQ_GUARDED_BY(keyed_mu_);
  mutable Mutex mu_;
  std::deque<Point> points_ FMQ_GUARDED_BY(mu_);
  int day_ FMQ_GUARDED_BY(mu_) = -1;
  Point today_morning_ FMQ_GUARDED_BY(mu_){0, 0, 0};
  Point yesterday_morning_ FMQ_GUARDED_BY(mu_){0, 0, 0};
};

}  // namespace fmq::server
