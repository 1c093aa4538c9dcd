#pragma once

// BrokerStats: message counters and rates the admin tools show (RocketMQ's BrokerStats and the store's
// putTps/getTransferedTps): totals now, at this morning's and yesterday morning's local midnight, and rates
// over the last 10 s, 60 s and 600 s. Sample() is called about once a second by the broker's housekeeping.
//
// Per topic and per topic@group it also keeps message and byte counts per minute for the last day (RocketMQ's
// BrokerStatsManager items TOPIC_PUT_NUMS/_SIZE, GROUP_GET_NUMS/_SIZE and SNDBCK_PUT_NUMS), which
// VIEW_BROKER_STATS_DATA reports as sums and rates over the last minute, hour and day (mqadmin statsAll),
// consume stats as a group's consume TPS, and the rocketmq-exporter family (exporter_metrics.h) as tps.
//
// Store put and get times: RocketMQ's putMessageDistributeTime buckets (counted over the last 60 s) with the
// 99th/99.9th percentile read from them, and the longest put and get since the start.
//
// Thread-safety: AddGot, AddPutTime and AddGetTime from any thread (lock-free); everything else from any
// thread (a mutex).

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/model/stats_items.h"

namespace fmq::server {

class BrokerStats {
 public:
  explicit BrokerStats(const Clock& clock);

  void AddGot(int64_t messages) { got_total_.fetch_add(messages, std::memory_order_relaxed); }
  int64_t got_total() const { return got_total_.load(std::memory_order_relaxed); }

  // The store's time for one put (a message or a batch, replication not included) and one get.
  void AddPutTime(int64_t millis);
  void AddGetTime(int64_t millis);

  // Records the current totals (`puts_total` from the store).
  void Sample(int64_t puts_total) FMQ_EXCLUDES(mu_);

  // putTps / getTransferedTps as "<10s> <60s> <600s>", the day totals, putMessageDistributeTime
  // ("[<=0ms]:N [0~10ms]:N ... [10s~]:N", last 60 s), putLatency99/999 (ms, the upper bound of the bucket
  // holding that percentile of the last 60 s; 0 without puts), put/getMessageEntireTimeMax, as
  // GET_BROKER_RUNTIME_INFO keys.
  std::map<std::string, std::string> RuntimeInfo(int64_t puts_total) const FMQ_EXCLUDES(mu_);
  // Messages put and got per second over the last 60 s (rocketmq-exporter's rocketmq_broker_tps/_qps).
  std::pair<double, double> MinuteRates() const FMQ_EXCLUDES(mu_);

  // The items' names (model/stats_items.h).
  static constexpr const char* kTopicPutNums = model::stats_item::kTopicPutNums;
  static constexpr const char* kTopicPutSize = model::stats_item::kTopicPutSize;
  static constexpr const char* kGroupGetNums = model::stats_item::kGroupGetNums;
  static constexpr const char* kGroupGetSize = model::stats_item::kGroupGetSize;
  static constexpr const char* kSendBackNums = model::stats_item::kSendBackNums;
  static constexpr const char* kDeadPutNums = model::stats_item::kDeadPutNums;
  static constexpr const char* kOffsetMovedNums = model::stats_item::kOffsetMovedNums;
  // The bucket names of putMessageDistributeTime, RocketMQ's spelling.
  static constexpr std::array<const char*, 13> kPutTimeBuckets = {
      "<=0ms", "0~10ms", "10~50ms", "50~100ms", "100~200ms", "200~500ms", "500ms~1s",
      "1~2s",  "2~3s",   "3~4s",    "4~5s",     "5~10s",     "10s~"};
  // A send of `producer_group` (the send header's producerGroup; may be empty) stored `messages` in `topic`.
  // `bytes`: of the stored records (TOPIC_PUT_SIZE) or of the messages pulled (GROUP_GET_SIZE).
  void AddTopicPut(const std::string& topic, const std::string& producer_group, int64_t messages,
                   int64_t bytes) FMQ_EXCLUDES(keyed_mu_);
  // The producer groups that sent to `topic` in the last day, with their last send (epoch ms).
  std::map<std::string, int64_t> ProducerGroups(const std::string& topic) const FMQ_EXCLUDES(keyed_mu_);
  void AddGroupGet(const std::string& topic, const std::string& group, int64_t messages, int64_t bytes)
      FMQ_EXCLUDES(keyed_mu_);
  // A message a consumer of `group` handed back (CONSUMER_SEND_MSG_BACK), `topic` the topic it came from.
  void AddSendBack(const std::string& topic, const std::string& group) FMQ_EXCLUDES(keyed_mu_);
  void AddDead(const std::string& topic, const std::string& group) FMQ_EXCLUDES(keyed_mu_);
  void AddOffsetMoved(const std::string& topic, const std::string& group) FMQ_EXCLUDES(keyed_mu_);
  struct Window {
    int64_t sum = 0;
    double tps = 0;
  };
  struct Windows {
    Window minute, hour, day;
  };
  // `name` kTopicPutNums or kTopicPutSize with key <topic>, kGroupGetNums, kGroupGetSize, kSendBackNums,
  // kDeadPutNums or kOffsetMovedNums with key <topic>@<group>; nullopt if never counted or `name` is none of
  // them.
  std::optional<Windows> Stats(const std::string& name, const std::string& key) const FMQ_EXCLUDES(keyed_mu_);
  // Every key counted under `name` (one of the above) with its windows, in key order.
  std::vector<std::pair<std::string, Windows>> All(const std::string& name) const FMQ_EXCLUDES(keyed_mu_);

 private:
  struct Point {
    int64_t at_ms;
    int64_t puts;
    int64_t gets;
    std::array<int64_t, kPutTimeBuckets.size()> put_times;  // cumulative per bucket
  };
  double RateLocked(int64_t window_ms, bool puts) const FMQ_REQUIRES(mu_);
  // The put time buckets' counts over the last 60 s.
  std::array<int64_t, kPutTimeBuckets.size()> LastMinutePutTimesLocked() const FMQ_REQUIRES(mu_);
  std::array<int64_t, kPutTimeBuckets.size()> PutTimesNow() const;

  struct Minute {
    int64_t minute;  // since the epoch
    int64_t messages;
    int64_t bytes;
  };
  struct Keyed {
    std::deque<Minute> minutes;  // last day only
  };
  // The family a stats name counts in (its key prefix) and whether it reads bytes; nullopt: no such name.
  static std::optional<std::pair<std::string, bool>> Family(const std::string& name);
  void AddKeyed(const std::string& key, int64_t messages, int64_t bytes) FMQ_EXCLUDES(keyed_mu_);
  void AddKeyedLocked(const std::string& key, int64_t messages, int64_t bytes, int64_t minute)
      FMQ_REQUIRES(keyed_mu_);
  Windows WindowsOf(const Keyed& k, bool bytes, int64_t now_minute) const;

  const Clock& clock_;
  std::atomic<int64_t> got_total_{0};
  std::array<std::atomic<int64_t>, kPutTimeBuckets.size()> put_times_{};
  std::atomic<int64_t> put_time_max_{0};
  std::atomic<int64_t> get_time_max_{0};
  mutable Mutex keyed_mu_;
  std::unordered_map<std::string, Keyed> keyed_ FMQ_GUARDED_BY(keyed_mu_);
  // topic -> producer group -> last send (epoch ms); at most kMaxProducerGroups per topic (the oldest goes).
  static constexpr size_t kMaxProducerGroups = 64;
  std::unordered_map<std::string, std::map<std::string, int64_t>> producers_ FMQ_GUARDED_BY(keyed_mu_);
  mutable Mutex mu_;
  std::deque<Point> points_ FMQ_GUARDED_BY(mu_);
  int day_ FMQ_GUARDED_BY(mu_) = -1;
  Point today_morning_ FMQ_GUARDED_BY(mu_){};
  Point yesterday_morning_ FMQ_GUARDED_BY(mu_){};
};

}  // namespace fmq::server
