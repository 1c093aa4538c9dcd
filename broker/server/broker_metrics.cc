#include "broker/server/broker_metrics.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "broker/base/check.h"
#include "broker/base/strings.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/server/topic_config_manager.h"

namespace fmq::server {
namespace {

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Every label name a broker family carries, and those Prometheus gives a meaning (histogram buckets,
// summary quantiles): metricsLabel may name none of them, or a scrape would repeat a label.
constexpr std::array<std::string_view, 19> kBrokerLabelNames = {
    "cluster",        "node_type",    "node_id",       "topic",           "message_type", "is_system",
    "consumer_group", "is_retry",     "storage_type",  "storage_medium",  "replica",      "nameserver",
    "protocol_type",  "request_code", "response_code", "is_long_polling", "result",       "le",
    "quantile"};

bool IsBrokerLabelName(std::string_view name) {
  return std::find(kBrokerLabelNames.begin(), kBrokerLabelNames.end(), name) != kBrokerLabelNames.end();
}

std::vector<std::string> Names(const std::vector<std::pair<std::string, std::string>>& extra,
                               std::initializer_list<std::string> own) {
  std::vector<std::string> out = {"cluster", "node_type", "node_id"};
  for (const auto& [k, v] : extra) out.push_back(k);
  for (const std::string& name : own) {
    FMQ_CHECK_MSG(IsBrokerLabelName(name), name.c_str());  // a new label joins kBrokerLabelNames
    out.push_back(name);
  }
  return out;
}

const char* Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ParseMetricsLabel(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string item(TrimBlanks(text.substr(0, comma)));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t colon = item.find(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("metricsLabel: '" + item + "' is not name:value");
    }
    std::string name(TrimBlanks(std::string_view(item).substr(0, colon)));
    if (!IsLabelName(name)) {
      return Status::InvalidArgument("metricsLabel: '" + name +
                                     "' is not a Prometheus label name (letters, digits and '_')");
    }
    if (IsBrokerLabelName(name))
      return Status::InvalidArgument("metricsLabel: '" + name + "' is set by the broker");
    for (const auto& [earlier, value] : out) {
      if (earlier == name) return Status::InvalidArgument("metricsLabel: '" + name + "' is given twice");
    }
    out.emplace_back(std::move(name), std::string(TrimBlanks(std::string_view(item).substr(colon + 1))));
  }
  return out;
}

std::vector<LagRow> ComputeLag(const LagInput& in) {
  std::vector<LagRow> out;
  for (const auto& [topic, groups] : in.consumed) {
    for (const auto& [group, queues] : groups) {
      LagRow row{topic, group, 0, 0};
      for (const auto& [queue, committed] : queues) {
        const int64_t max = in.max_offset(topic, queue);
        const int64_t next = std::max<int64_t>(committed, 0);
        if (max <= next) continue;
        row.messages += max - next;
        // The oldest unconsumed message is the one at the committed offset.
        if (auto t = in.store_time(topic, queue, next)) {
          row.latency_ms = std::max(row.latency_ms, std::max<int64_t>(0, in.now_ms - *t));
        }
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

BrokerMetrics::BrokerMetrics(std::string cluster, std::string node_id,
                             std::vector<std::pair<std::string, std::string>> labels)
    : cluster_(std::move(cluster)), node_id_(std::move(node_id)), labels_(std::move(labels)) {
  const auto in = Names(labels_, {"topic", "message_type", "is_system"});
  const auto out = Names(labels_, {"topic", "consumer_group", "is_system"});
  const auto lag = Names(labels_, {"topic", "consumer_group", "is_retry", "is_system"});
  const auto node = Names(labels_, {});
  const auto store = Names(labels_, {"storage_type", "storage_medium"});
  in_messages_ = &registry_.AddCounter("rocketmq_messages_in_total", "Messages stored by sends.", in);
  in_bytes_ =
      &registry_.AddCounter("rocketmq_throughput_in_total", "Bytes of message bodies stored by sends.", in);
  out_messages_ =
      &registry_.AddCounter("rocketmq_messages_out_total", "Messages delivered to consumers.", out);
  out_bytes_ = &registry_.AddCounter("rocketmq_throughput_out_total", "Bytes delivered to consumers.", out);
  dlq_ = &registry_.AddCounter("rocketmq_send_to_dlq_messages_total",
                               "Messages moved to a dead-letter queue after their last retry.", out);
  retry_ = &registry_.AddCounter(
      "rocketmq_consumer_retry_messages_total",
      "Messages a consumer handed back for a retry (CONSUMER_SEND_MSG_BACK; FerryMQ).", out);
  offset_moved_ = &registry_.AddCounter(
      "rocketmq_consumer_offset_moved_total",
      "Pulls answered PULL_OFFSET_MOVED: the group's offset was outside the queue (FerryMQ).", out);
  replica_lag_ = &registry_.AddGauge("rocketmq_replication_replica_lag_bytes",
                                     "A master's bytes that this replica has not acknowledged yet (FerryMQ).",
                                     Names(labels_, {"replica"}));
  // Store latencies from 50 us to 5 s: a put on a healthy disk takes well under a millisecond.
  const std::vector<double> store_buckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,   10,
                                             25,   50,  100,  250, 500, 1000, 5000};
  const auto store_values = With({"local", "disk"});
  put_series_ = &registry_
                     .AddHistogram("rocketmq_storage_put_latency_milliseconds",
                                   "A send's time in the store: queueing for the commit log, appending, and "
                                   "with SYNC_FLUSH the sync (FerryMQ).",
                                   store, store_buckets)
                     .WithLabels(store_values);
  get_series_ = &registry_
                     .AddHistogram("rocketmq_storage_get_latency_milliseconds",
                                   "A pull's read from the store (FerryMQ).", store, store_buckets)
                     .WithLabels(store_values);
  flush_series_ =
      &registry_
           .AddHistogram("rocketmq_storage_flush_latency_milliseconds",
                         "One sync of a commit-log segment to disk (FerryMQ).", store, store_buckets)
           .WithLabels(store_values);
  subscription_consistent_ = &registry_.AddGauge(
      "rocketmq_consumer_subscription_consistent",
      "1 when every online consumer of the group subscribes the same topics and expressions (FerryMQ).",
      Names(labels_, {"consumer_group", "is_system"}));
  lag_messages_ = &registry_.AddGauge("rocketmq_consumer_lag_messages",
                                      "Messages stored but not consumed (committed) by the group.", lag);
  lag_latency_ = &registry_.AddGauge("rocketmq_consumer_lag_latency_milliseconds",
                                     "Age of the oldest message the group has not consumed.", lag);
  storage_size_ = &registry_.AddGauge("rocketmq_storage_size_bytes", "Bytes the commit log holds.", store);
  flush_behind_ = &registry_.AddGauge("rocketmq_storage_flush_behind_bytes",
                                      "Bytes written to the commit log but not yet flushed to disk.", store);
  dispatch_behind_ = &registry_.AddGauge("rocketmq_storage_dispatch_behind_bytes",
                                         "Bytes of the commit log not yet in consume queues.", store);
  reserve_time_ = &registry_.AddGauge("rocketmq_storage_message_reserve_time_milliseconds",
                                      "Age of the oldest stored message.", store);
  disk_used_ = &registry_.AddGauge("rocketmq_storage_disk_used_ratio",
                                   "Fraction of the store's file system in use (FerryMQ).", store);
  disk_clean_ = &registry_.AddGauge("rocketmq_storage_disk_clean_ratio",
                                    "Above this fraction the broker deletes its oldest files whatever their "
                                    "age (diskSpaceCleanForciblyRatio; "
                                    "FerryMQ).",
                                    store);
  disk_full_ = &registry_.AddGauge(
      "rocketmq_storage_disk_full_ratio",
      "Above this fraction the broker refuses writes (diskSpaceWarningLevelRatio; FerryMQ).", store);
  repl_master_ = &registry_.AddGauge("rocketmq_replication_is_master",
                                     "1 on the group's master, 0 on a slave (FerryMQ).", node);
  repl_epoch_ =
      &registry_.AddGauge("rocketmq_replication_epoch",
                          "The epoch the broker is master of, or of the master it follows (FerryMQ).", node);
  repl_in_sync_ = &registry_.AddGauge("rocketmq_replication_in_sync_replicas",
                                      "Copies in sync on a master, itself included (FerryMQ).", node);
  repl_unconfirmed_ = &registry_.AddGauge(
      "rocketmq_replication_unconfirmed_bytes",
      "Bytes a master wrote that its in-sync replicas have not confirmed yet (FerryMQ).", node);
  nameserver_registered_ = &registry_.AddGauge(
      "rocketmq_broker_nameserver_registered",
      "1 if the name server holds this broker's registration, 0 if it did not take the last one (FerryMQ).",
      Names(labels_, {"nameserver"}));
  permission_ =
      &registry_.AddGauge("rocketmq_broker_permission", "6 read and write, 4 read only, 2 write only.", node);
  topic_number_ = &registry_.AddGauge("rocketmq_topic_number", "Topics on this broker.", node);
  group_number_ =
      &registry_.AddGauge("rocketmq_consumer_group_number", "Consumer groups on this broker.", node);
  rpc_latency_ = &registry_.AddHistogram(
      "rocketmq_rpc_latency_milliseconds", "Time from a request's arrival to its answer.",
      Names(labels_, {"protocol_type", "request_code", "response_code", "is_long_polling", "result"}),
      {1, 3, 5, 7, 10, 100, 1000, 2000, 3000});
}

void BrokerMetrics::OnAnswered(int32_t request_code, int32_t response_code, bool long_polling, bool written,
                               std::chrono::nanoseconds elapsed) {
  // Unknown codes share one series each way.
  const std::string_view request = protocol::RequestCodeName(request_code);
  const std::string_view response = protocol::ResponseCodeName(response_code);
  if (request.empty()) request_code = -1;
  if (response.empty()) response_code = -1;
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(request_code)) << 32) |
                       (static_cast<uint64_t>(static_cast<uint32_t>(response_code) & 0x3fffffffu) << 2) |
                       (long_polling ? 2u : 0u) | (written ? 1u : 0u);
  Histogram* h = nullptr;
  {
    MutexLock lock(&cache_mu_);
    if (auto it = rpc_cache_.find(key); it != rpc_cache_.end()) h = it->second;
  }
  if (h == nullptr) {
    auto lower = [](std::string_view name) {
      if (name.empty()) return std::string("unknown");
      std::string out(name);
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    };
    h = &rpc_latency_->WithLabels(With({"remoting", lower(request), lower(response), Bool(long_polling),
                                        written ? "success" : "write_channel_failed"}));
    MutexLock lock(&cache_mu_);
    rpc_cache_.emplace(key, h);
  }
  h->Observe(std::chrono::duration<double, std::milli>(elapsed).count());
}

std::vector<std::string> BrokerMetrics::With(std::initializer_list<std::string> values) const {
  std::vector<std::string> out = {cluster_, "broker", node_id_};
  for (const auto& [k, v] : labels_) out.push_back(v);
  out.insert(out.end(), values);
  return out;
}

bool BrokerMetrics::IsSystemTopic(std::string_view topic) const {
  return model::IsSystemTopic(topic, cluster_, node_id_);
}

bool BrokerMetrics::IsSystemGroup(std::string_view group) { return model::IsSystemGroup(group); }

template <typename IsSystem>
BrokerMetrics::CounterPair BrokerMetrics::Cached(bool in, std::string_view a, std::string_view b,
                                                 IsSystem is_system) {
  thread_local std::string key;  // no allocation per call once it has grown
  key.assign(a);
  key.push_back('\0');
  key.append(b);
  {
    MutexLock lock(&cache_mu_);
    const PairCache& cache = in ? in_cache_ : out_cache_;
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  const auto values = With({std::string(a), std::string(b), Bool(is_system())});
  const CounterPair pair =
      in ? CounterPair{&in_messages_->WithLabels(values), &in_bytes_->WithLabels(values)}
         : CounterPair{&out_messages_->WithLabels(values), &out_bytes_->WithLabels(values)};
  if (!in) {
    // The group's failure counters of the topic start at 0 with its first delivery, so a rule's increase()
    // sees their first event (a series born at 1 shows no increase).
    for (CounterFamily* f : {retry_, dlq_, offset_moved_}) f->WithLabels(values);
  }
  MutexLock lock(&cache_mu_);
  (in ? in_cache_ : out_cache_).emplace(key, pair);
  return pair;
}

void BrokerMetrics::OnMessagesIn(const std::string& topic, std::string_view message_type, int64_t messages,
                                 int64_t bytes) {
  if (model::IsRetryTopic(topic) || model::IsDlqTopic(topic)) return;  // as Apache: sends by consumers
  const CounterPair c = Cached(/*in=*/true, topic, message_type, [&] { return IsSystemTopic(topic); });
  c.messages->Inc(static_cast<double>(messages));
  c.bytes->Inc(static_cast<double>(bytes));
}

void BrokerMetrics::OnMessagesOut(const std::string& topic, const std::string& group, int64_t messages,
                                  int64_t bytes) {
  if (model::IsRetryTopic(topic) || model::IsDlqTopic(topic)) return;
  const CounterPair c =
      Cached(/*in=*/false, topic, group, [&] { return IsSystemTopic(topic) || IsSystemGroup(group); });
  c.messages->Inc(static_cast<double>(messages));
  c.bytes->Inc(static_cast<double>(bytes));
}

void BrokerMetrics::OnSendToDlq(const std::string& topic, const std::string& group) {
  dlq_->WithLabels(With({topic, group, Bool(IsSystemTopic(topic) || IsSystemGroup(group))})).Inc();
}

void BrokerMetrics::OnSendBack(const std::string& topic, const std::string& group) {
  retry_->WithLabels(With({topic, group, Bool(IsSystemTopic(topic) || IsSystemGroup(group))})).Inc();
}

void BrokerMetrics::OnStorePut(std::chrono::nanoseconds elapsed) {
  put_series_->Observe(static_cast<double>(elapsed.count()) / 1e6);
}

void BrokerMetrics::OnStoreGet(std::chrono::nanoseconds elapsed) {
  get_series_->Observe(static_cast<double>(elapsed.count()) / 1e6);
}

void BrokerMetrics::OnOffsetMoved(const std::string& topic, const std::string& group) {
  offset_moved_->WithLabels(With({topic, group, Bool(IsSystemTopic(topic) || IsSystemGroup(group))})).Inc();
}

std::string BrokerMetrics::Collect(const MetricsSnapshot& s) {
  const auto store = With({"local", "disk"});
  storage_size_->WithLabels(store).Set(static_cast<double>(s.storage_size_bytes));
  flush_behind_->WithLabels(store).Set(static_cast<double>(s.flush_behind_bytes));
  dispatch_behind_->WithLabels(store).Set(static_cast<double>(s.dispatch_behind_bytes));
  if (s.reserve_time_ms) {
    reserve_time_->WithLabels(store).Set(static_cast<double>(*s.reserve_time_ms));
  } else {
    reserve_time_->Remove(store);
  }
  disk_used_->WithLabels(store).Set(s.disk_used_ratio);
  disk_clean_->WithLabels(store).Set(s.disk_clean_ratio);
  disk_full_->WithLabels(store).Set(s.disk_full_ratio);
  if (s.replication) {
    const ReplicationSnapshot& r = *s.replication;
    repl_master_->WithLabels(With({})).Set(r.is_master ? 1 : 0);
    repl_epoch_->WithLabels(With({})).Set(r.epoch);
    if (r.is_master) {
      repl_in_sync_->WithLabels(With({})).Set(r.in_sync_copies);
      repl_unconfirmed_->WithLabels(With({})).Set(static_cast<double>(r.unconfirmed_bytes));
    } else {
      repl_in_sync_->Remove(With({}));
      repl_unconfirmed_->Remove(With({}));
    }
  }
  std::set<std::vector<std::string>> name_servers;
  for (const auto& [address, registered] : s.name_servers) {
    auto labels = With({address});
    nameserver_registered_->WithLabels(labels).Set(registered ? 1 : 0);
    name_servers.insert(std::move(labels));
  }
  for (const auto& labels : nameserver_registered_->Series()) {
    if (!name_servers.count(labels)) nameserver_registered_->Remove(labels);
  }
  permission_->WithLabels(With({})).Set(s.permission);
  topic_number_->WithLabels(With({})).Set(static_cast<double>(s.topics));
  group_number_->WithLabels(With({})).Set(static_cast<double>(s.groups));

  std::set<std::vector<std::string>> present;
  for (const LagRow& row : s.lag) {
    const bool retry = model::IsRetryTopic(row.topic);
    auto values =
        With({row.topic, row.group, Bool(retry), Bool(IsSystemTopic(row.topic) || IsSystemGroup(row.group))});
    lag_messages_->WithLabels(values).Set(static_cast<double>(row.messages));
    lag_latency_->WithLabels(values).Set(static_cast<double>(row.latency_ms));
    present.insert(std::move(values));
  }
  for (GaugeFamily* f : {lag_messages_, lag_latency_}) {
    for (const auto& series : f->Series()) {
      if (!present.count(series)) f->Remove(series);
    }
  }
  std::set<std::vector<std::string>> replicas;
  for (const auto& [replica, lag] : s.replica_lag_bytes) {
    auto values = With({replica});
    replica_lag_->WithLabels(values).Set(static_cast<double>(lag));
    replicas.insert(std::move(values));
  }
  for (const auto& series : replica_lag_->Series()) {
    if (!replicas.count(series)) replica_lag_->Remove(series);
  }
  std::set<std::vector<std::string>> groups;
  for (const auto& [group, consistent] : s.subscriptions_consistent) {
    auto values = With({group, Bool(IsSystemGroup(group))});
    subscription_consistent_->WithLabels(values).Set(consistent ? 1 : 0);
    groups.insert(std::move(values));
  }
  for (const auto& series : subscription_consistent_->Series()) {
    if (!groups.count(series)) subscription_consistent_->Remove(series);
  }
  return registry_.Render();
}

}  // namespace fmq::server
