#pragma once

// BrokerMetrics: the broker's Prometheus metrics (docs/metrics.md), RocketMQ 5's family spelled as RocketMQ
// 5's own Prometheus endpoint spells it (the OpenTelemetry exporter appends units: ..._milliseconds,
// ..._bytes), so dashboards and rules written for Apache RocketMQ 5 work unchanged. Every series carries
// RocketMQ's common labels: cluster (brokerClusterName), node_type="broker", node_id (brokerName), and the
// metricsLabel pairs.
//
//  * Counters, updated on the request paths: rocketmq_messages_in_total and rocketmq_throughput_in_total
//    {topic, message_type, is_system} (stored sends; retry and dead-letter topics left out, as Apache does),
//    rocketmq_messages_out_total and rocketmq_throughput_out_total {topic, consumer_group, is_system} (pulled
//    messages), rocketmq_send_to_dlq_messages_total {topic, consumer_group, is_system}; FerryMQ's own, for
//    MQCloud's consume-failure and offset-moved alerts: rocketmq_consumer_retry_messages_total (messages a
//    consumer handed back, CONSUMER_SEND_MSG_BACK) and rocketmq_consumer_offset_moved_total (pulls answered
//    PULL_OFFSET_MOVED: the group's offset was outside the queue and the client moves it), same labels.
//  * Gauges, computed when scraped (Collect) from the store and the broker's tables, so an idle broker pays
//    nothing: consumer lag per {topic, consumer_group, is_retry, is_system} in messages and milliseconds,
//    storage size and flush/dispatch backlog, the oldest message's age, the broker's permission, topic and
//    consumer-group counts; FerryMQ's own (documented as such): disk use and its cleaning and refusing
//    thresholds, replication role, epoch, in-sync copies and unconfirmed bytes, registration per name server,
//    rocketmq_consumer_subscription_consistent {consumer_group, is_system} (1 when every online consumer of
//    the group sent the same subscriptions in its last heartbeat; MQCloud's subscription alert),
//    rocketmq_replication_replica_lag_bytes {replica} (a master: bytes each replica has not acknowledged).
//  * FerryMQ's store latency histograms {storage_type, storage_medium}, in milliseconds:
//    rocketmq_storage_put_latency_milliseconds (a send's store part: queueing for the commit log, appending,
//    and with SYNC_FLUSH the sync; not the wait for replicas), rocketmq_storage_get_latency_milliseconds (a
//    pull's read from the store), rocketmq_storage_flush_latency_milliseconds (one commit-log sync).
//
// Labels stay bounded: topics and groups come from the broker's own tables (a series of a deleted topic or
// group disappears at the next scrape), never client ids, addresses, queue ids or message keys.
//
// Thread-safety: every method may be called from any thread.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/net/rpc_observer.h"

namespace fmq::server {

// broker.conf keys (RocketMQ 5's): metricsExporterType DISABLE | PROM, metricsPromExporterHost (default: the
// listen address), metricsPromExporterPort (5557), metricsLabel "k1:v1,k2:v2".
struct MetricsConfig {
  bool prometheus = false;
  std::string host{};
  int port = 5557;
  std::vector<std::pair<std::string, std::string>> labels{};
};
// Parses metricsLabel; InvalidArgument for a pair without ':' or a name Prometheus does not accept.
Result<std::vector<std::pair<std::string, std::string>>> ParseMetricsLabel(std::string_view text);

// The consumer lag of one (topic, group) on this broker.
struct LagRow {
  std::string topic;
  std::string group;
  int64_t messages = 0;    // sum over queues of (max offset - committed offset)
  int64_t latency_ms = 0;  // now - store time of the oldest unconsumed message (0: caught up)
};
// The committed offsets of every group (topic -> group -> queue -> next offset to consume);
// `max_offset(topic, queue)` the next offset to be written, `store_time(topic, queue, offset)` a message's
// store time. Pure.
struct LagInput {
  std::map<std::string, std::map<std::string, std::map<int32_t, int64_t>>> consumed;
  std::function<int64_t(const std::string&, int32_t)> max_offset;
  std::function<std::optional<int64_t>(const std::string&, int32_t, int64_t)> store_time;
  int64_t now_ms = 0;
};
std::vector<LagRow> ComputeLag(const LagInput& in);

// A broker's replication state (ha::HaService's status).
struct ReplicationSnapshot {
  bool is_master = true;
  int32_t epoch = 0;
  int32_t in_sync_copies = 0;     // master: copies in sync, itself included
  int64_t unconfirmed_bytes = 0;  // master: written but not confirmed by the in-sync replicas
};

// What the gauges show, gathered by the broker when scraped.
struct MetricsSnapshot {
  int64_t storage_size_bytes = 0;
  int64_t flush_behind_bytes = 0;
  int64_t dispatch_behind_bytes = 0;
  std::optional<int64_t> reserve_time_ms;  // now - the oldest message's store time; none when empty
  double disk_used_ratio = 0;              // of the store's file system
  double disk_clean_ratio = 0;             // diskSpaceCleanForciblyRatio
  double disk_full_ratio = 0;              // diskSpaceWarningLevelRatio
  std::optional<ReplicationSnapshot> replication;
  std::map<std::string, bool> name_servers;  // address -> holds this broker's registration
  int32_t permission = 6;
  int64_t topics = 0;
  int64_t groups = 0;
  std::vector<LagRow> lag;
  std::map<std::string, bool> subscriptions_consistent;  // consumer group online here -> consistent
  std::map<std::string, int64_t> replica_lag_bytes;  // a master: replica address -> bytes not acknowledged
};

class BrokerMetrics final : public net::RpcObserver {
 public:
  BrokerMetrics(std::string cluster, std::string node_id,
                std::vector<std::pair<std::string, std::string>> labels);

  // rocketmq_rpc_latency_milliseconds {protocol_type="remoting", request_code, response_code,
  // is_long_polling, result}: codes as RocketMQ's lower-case constant names ("send_message", "success"), an
  // unknown code as "unknown" (so random codes cannot grow the series); result "success", or
  // "write_channel_failed" when the connection was gone.
  void OnAnswered(int32_t request_code, int32_t response_code, bool long_polling, bool written,
                  std::chrono::nanoseconds elapsed) override FMQ_EXCLUDES(cache_mu_);

  // `message_type`: normal, fifo, delay or transaction.
  void OnMessagesIn(const std::string& topic, std::string_view message_type, int64_t messages, int64_t bytes);
  void OnMessagesOut(const std::string& topic, const std::string& group, int64_t messages, int64_t bytes);
  void OnSendToDlq(const std::string& topic, const std::string& group);
  void OnSendBack(const std::string& topic, const std::string& group);
  void OnOffsetMoved(const std::string& topic, const std::string& group);
  void OnStorePut(std::chrono::nanoseconds elapsed);
  void OnStoreGet(std::chrono::nanoseconds elapsed);
  // The flush histogram's series, for the store to observe into (MessageStore::SetFlushHistogram).
  Histogram& flush_latency() { return *flush_series_; }

  // Sets the gauges from `s` (dropping lag series no longer present) and renders everything.
  std::string Collect(const MetricsSnapshot& s);

  // RocketMQ's system topics and groups (is_system="true").
  bool IsSystemTopic(std::string_view topic) const;
  static bool IsSystemGroup(std::string_view group);

 private:
  // The messages and bytes counters of one (topic, message type) or (topic, group): the send and pull paths
  // find them with one hash lookup instead of building the label vector and searching two families.
  // Counters are never removed, so the pointers stay valid.
  struct CounterPair {
    Counter* messages;
    Counter* bytes;
  };
  using PairCache = std::unordered_map<std::string, CounterPair>;
  // The pair of the in (`in` true) or out counters of (a, b); `is_system()` is asked only when the pair is
  // not cached yet.
  template <typename IsSystem>
  CounterPair Cached(bool in, std::string_view a, std::string_view b, IsSystem is_system)
      FMQ_EXCLUDES(cache_mu_);

  std::vector<std::string> With(std::initializer_list<std::string> values) const;

  const std::string cluster_;
  const std::string node_id_;
  const std::vector<std::pair<std::string, std::string>> labels_;
  MetricRegistry registry_;
  CounterFamily* in_messages_;
  CounterFamily* in_bytes_;
  CounterFamily* out_messages_;
  CounterFamily* out_bytes_;
  CounterFamily* dlq_;
  CounterFamily* retry_;
  CounterFamily* offset_moved_;
  GaugeFamily* subscription_consistent_;
  GaugeFamily* replica_lag_;
  Histogram* put_series_;
  Histogram* get_series_;
  Histogram* flush_series_;
  GaugeFamily* lag_messages_;
  GaugeFamily* lag_latency_;
  GaugeFamily* storage_size_;
  GaugeFamily* flush_behind_;
  GaugeFamily* dispatch_behind_;
  GaugeFamily* reserve_time_;
  GaugeFamily* disk_used_;
  GaugeFamily* disk_clean_;
  GaugeFamily* disk_full_;
  GaugeFamily* repl_master_;
  GaugeFamily* repl_epoch_;
  GaugeFamily* repl_in_sync_;
  GaugeFamily* repl_unconfirmed_;
  GaugeFamily* nameserver_registered_;
  GaugeFamily* permission_;
  GaugeFamily* topic_number_;
  GaugeFamily* group_number_;
  HistogramFamily* rpc_latency_;
  Mutex cache_mu_;
  std::unordered_map<uint64_t, Histogram*> rpc_cache_ FMQ_GUARDED_BY(cache_mu_);
  PairCache in_cache_ FMQ_GUARDED_BY(cache_mu_);   // topic '\0' message_type
  PairCache out_cache_ FMQ_GUARDED_BY(cache_mu_);  // topic '\0' consumer_group
};

}  // namespace fmq::server
