#include "broker/server/exporter_metrics.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string_view>

#include "broker/base/metrics.h"
#include "broker/model/names.h"

namespace fmq::server {

namespace {

// rocketmq_brokeruntime_<name> from a GET_BROKER_RUNTIME_INFO key; `field` picks one of a "<10s> <60s>
// <600s>" triple (-1: the whole value is one number).
struct RuntimeGauge {
  const char* name;
  const char* key;
  int field;
};
constexpr RuntimeGauge kRuntimeGauges[] = {
    {"msg_put_total_today_now", "msgPutTotalTodayNow", -1},
    {"msg_gettotal_today_now", "msgGetTotalTodayNow", -1},
    {"msg_puttotal_todaymorning", "msgPutTotalTodayMorning", -1},
    {"msg_gettotal_todaymorning", "msgGetTotalTodayMorning", -1},
    {"msg_puttotal_yesterdaymorning", "msgPutTotalYesterdayMorning", -1},
    {"msg_gettotal_yesterdaymorning", "msgGetTotalYesterdayMorning", -1},
    {"dispatch_behind_bytes", "dispatchBehindBytes", -1},
    {"put_message_size_total", "putMessageSizeTotal", -1},
    {"put_message_average_size", "putMessageAverageSize", -1},
    {"putmessage_times_total", "putMessageTimesTotal", -1},
    {"putmessage_entire_time_max", "putMessageEntireTimeMax", -1},
    {"getmessage_entire_time_max", "getMessageEntireTimeMax", -1},
    {"put_latency_99", "putLatency99", -1},
    {"put_latency_999", "putLatency999", -1},
    {"earliest_message_timestamp", "earliestMessageTimeStamp", -1},
    {"start_accept_sendrequest_time", "startAcceptSendRequestTimeStamp", -1},
    {"remain_transientstore_buffer_numbs", "remainTransientStoreBufferNumbs", -1},
    {"pagecache_lock_time_mills", "pageCacheLockTimeMills", -1},
    {"commitlog_disk_ratio", "commitLogDiskRatio", -1},
    {"consumequeue_disk_ratio", "consumeQueueDiskRatio", -1},
    {"commitlog_maxoffset", "commitLogMaxOffset", -1},
    {"commitlog_minoffset", "commitLogMinOffset", -1},
    {"dispatch_maxbuffer", "dispatchMaxBuffer", -1},
    {"send_threadpool_queue_size", "sendThreadPoolQueueSize", -1},
    {"send_threadpoolqueue_capacity", "sendThreadPoolQueueCapacity", -1},
    {"send_threadpoolqueue_headwait_timemills", "sendThreadPoolQueueHeadWaitTimeMills", -1},
    {"pull_threadpoolqueue_size", "pullThreadPoolQueueSize", -1},
    {"pull_threadpoolqueue_capacity", "pullThreadPoolQueueCapacity", -1},
    {"pull_threadpoolqueue_headwait_timemills", "pullThreadPoolQueueHeadWaitTimeMills", -1},
    {"query_threadpoolqueue_size", "queryThreadPoolQueueSize", -1},
    {"query_threadpool_queue_capacity", "queryThreadPoolQueueCapacity", -1},
    {"query_threadpoolqueue_headwait_timemills", "queryThreadPoolQueueHeadWaitTimeMills", -1},
    {"put_tps10", "putTps", 0},
    {"put_tps60", "putTps", 1},
    {"put_tps600", "putTps", 2},
    {"gettotal_tps10", "getTotalTps", 0},
    {"gettotal_tps60", "getTotalTps", 1},
    {"gettotal_tps600", "getTotalTps", 2},
    {"getfound_tps10", "getFoundTps", 0},
    {"getfound_tps60", "getFoundTps", 1},
    {"getfound_tps600", "getFoundTps", 2},
    {"getmiss_tps10", "getMissTps", 0},
    {"getmiss_tps60", "getMissTps", 1},
    {"getmiss_tps600", "getMissTps", 2},
    {"gettransfered_tps10", "getTransferedTps", 0},
    {"gettransfered_tps60", "getTransferedTps", 1},
    {"gettransfered_tps600", "getTransferedTps", 2},
};

// putMessageDistributeTime's buckets as the exporter names them.
constexpr std::pair<const char*, const char*> kPutTimeGauges[] = {
    {"pmdt_0ms", "<=0ms"},          {"pmdt_0to10ms", "0~10ms"},       {"pmdt_10to50ms", "10~50ms"},
    {"pmdt_50to100ms", "50~100ms"}, {"pmdt_100to200ms", "100~200ms"}, {"pmdt_200to500ms", "200~500ms"},
    {"pmdt_500to1s", "500ms~1s"},   {"pmdt_1to2s", "1~2s"},           {"pmdt_2to3s", "2~3s"},
    {"pmdt_3to4s", "3~4s"},         {"pmdt_4to5s", "4~5s"},           {"pmdt_5to10s", "5~10s"},
    {"pmdt_10stomore", "10s~"},
};

// The `field`-th space-separated number of `v` (all of it when -1); nullopt if not a number.
std::optional<double> Number(const std::string& v, int field) {
  std::istringstream in(v);
  std::string word;
  for (int i = 0; i <= std::max(field, 0); ++i) {
    if (!(in >> word)) return std::nullopt;
  }
  const char* begin = word.c_str();
  char* end = nullptr;
  const double d = std::strtod(begin, &end);
  if (end == begin || *end != '\0') return std::nullopt;
  return d;
}

// "[<=0ms]:3 [0~10ms]:5 ..." -> bucket -> count.
std::map<std::string, double> PutTimes(const std::string& v) {
  std::map<std::string, double> out;
  std::istringstream in(v);
  std::string word;
  while (in >> word) {
    const size_t colon = word.rfind(':');
    if (colon == std::string::npos || word.size() < 3 || word.front() != '[' || word[colon - 1] != ']')
      continue;
    if (auto n = Number(word.substr(colon + 1), -1)) out[word.substr(1, colon - 2)] = *n;
  }
  return out;
}

std::string Get(const std::map<std::string, std::string>& kv, const char* key) {
  auto it = kv.find(key);
  return it == kv.end() ? std::string() : it->second;
}

}  // namespace

std::string RenderExporterFamily(const ExporterSnapshot& s) {
  MetricRegistry r;
  const std::vector<std::string> broker_labels = {"cluster", "brokerIP", "broker"};
  const std::vector<std::string> broker_values = {s.cluster, s.broker_addr, s.broker_name};
  r.AddGauge("rocketmq_broker_tps", "Messages stored per second, last minute.", broker_labels)
      .WithLabels(broker_values)
      .Set(s.put_tps);
  r.AddGauge("rocketmq_broker_qps", "Messages delivered to consumers per second, last minute.", broker_labels)
      .WithLabels(broker_values)
      .Set(s.get_tps);
  auto& commitlog_diff =
      r.AddGauge("rocketmq_broker_commitlog_diff",
                 "Bytes of the master's commit log a slave (brokerIP) does not have yet.", broker_labels);
  for (const auto& [replica, lag] : s.replica_lag) {
    commitlog_diff.WithLabels({s.cluster, replica, s.broker_name}).Set(static_cast<double>(lag));
  }

  const std::vector<std::string> topic_labels = {"cluster", "broker", "topic"};
  auto& producer_tps = r.AddGauge("rocketmq_producer_tps",
                                  "Messages stored per second in the topic, last minute.", topic_labels);
  auto& producer_size = r.AddGauge("rocketmq_producer_message_size",
                                   "Bytes stored per second in the topic, last minute.", topic_labels);
  auto& producer_offset = r.AddGauge("rocketmq_producer_offset",
                                     "Sum of the topic's queues' max offsets on this broker.", topic_labels);
  auto& retry_offset = r.AddGauge("rocketmq_topic_retry_offset",
                                  "Sum of a retry topic's queues' max offsets on this broker.", topic_labels);
  auto& dlq_offset = r.AddGauge("rocketmq_topic_dlq_offset",
                                "Sum of a group's dead-letter queues' max offsets on this broker.",
                                {"cluster", "broker", "group"});
  for (const auto& t : s.topics) {
    if (model::IsDlqTopic(t.topic)) {
      dlq_offset.WithLabels({s.cluster, s.broker_name, t.topic.substr(model::kDlqTopicPrefix.size())})
          .Set(static_cast<double>(t.offset));
      continue;
    }
    const std::vector<std::string> v = {s.cluster, s.broker_name, t.topic};
    if (model::IsRetryTopic(t.topic)) {
      retry_offset.WithLabels(v).Set(static_cast<double>(t.offset));
      continue;
    }
    producer_offset.WithLabels(v).Set(static_cast<double>(t.offset));
    producer_tps.WithLabels(v).Set(t.put_tps);
    producer_size.WithLabels(v).Set(t.put_bytes_per_second);
  }
  auto& producer_count = r.AddGauge("rocketmq_producer_count", "Connected producers of the group.",
                                    {"cluster", "broker", "group"});
  for (const auto& [group, n] : s.producers) {
    producer_count.WithLabels({s.cluster, s.broker_name, group}).Set(static_cast<double>(n));
  }

  const std::vector<std::string> group_labels = {"cluster", "broker", "topic", "group"};
  auto& consumer_tps =
      r.AddGauge("rocketmq_consumer_tps", "Messages the group pulled from the topic per second, last minute.",
                 group_labels);
  auto& consumer_size =
      r.AddGauge("rocketmq_consumer_message_size",
                 "Bytes the group pulled from the topic per second, last minute.", group_labels);
  auto& send_back =
      r.AddGauge("rocketmq_send_back_nums",
                 "Messages of the topic the group's consumers handed back, last minute.", group_labels);
  auto& consumer_offset =
      r.AddGauge("rocketmq_consumer_offset",
                 "Sum of the group's committed offsets in the topic on this broker.", group_labels);
  auto& latency = r.AddGauge("rocketmq_group_get_latency_by_storetime",
                             "Milliseconds since the oldest message the group has not consumed was stored.",
                             group_labels);
  const std::vector<std::string> diff_labels = {"group", "topic", "countOfOnlineConsumers", "msgModel"};
  auto& diff = r.AddGauge("rocketmq_group_diff", "Messages the group has not consumed.", diff_labels);
  auto& retry_diff = r.AddGauge("rocketmq_group_retrydiff",
                                "Messages in the group's retry topic not consumed.", diff_labels);
  auto& dlq_diff =
      r.AddGauge("rocketmq_group_dlqdiff", "Dead letters of the group nobody consumed.", diff_labels);
  for (const auto& g : s.groups) {
    if (model::IsDlqTopic(g.topic)) {
      // Dead letters: how many of the group's wait (a reader of another group is not rendered, as the
      // exporter leaves %DLQ% topics out).
      if (g.topic.substr(model::kDlqTopicPrefix.size()) != g.group) continue;
      dlq_diff.WithLabels({g.group, g.topic, std::to_string(g.online_consumers), "1"})
          .Set(static_cast<double>(g.diff));
      continue;
    }
    const std::vector<std::string> v = {s.cluster, s.broker_name, g.topic, g.group};
    consumer_tps.WithLabels(v).Set(g.get_tps);
    consumer_size.WithLabels(v).Set(g.get_bytes_per_second);
    send_back.WithLabels(v).Set(static_cast<double>(g.send_back));
    consumer_offset.WithLabels(v).Set(static_cast<double>(g.consumer_offset));
    if (!g.clustering) continue;  // as the exporter: lag only for clustering groups
    latency.WithLabels(v).Set(static_cast<double>(g.latency_ms));
    const std::vector<std::string> d = {g.group, g.topic, std::to_string(g.online_consumers), "1"};
    (model::IsRetryTopic(g.topic) ? retry_diff : diff).WithLabels(d).Set(static_cast<double>(g.diff));
  }

  const std::vector<std::string> runtime_labels = {"cluster", "brokerIP", "brokerHost",
                                                   "des",     "boottime", "broker_version"};
  const std::vector<std::string> runtime_values = {s.cluster,
                                                   s.broker_addr,
                                                   "",
                                                   Get(s.runtime, "brokerVersionDesc"),
                                                   Get(s.runtime, "bootTimestamp"),
                                                   Get(s.runtime, "brokerVersion")};
  auto runtime = [&](const std::string& name, double v) {
    r.AddGauge("rocketmq_brokeruntime_" + name, "GET_BROKER_RUNTIME_INFO, as rocketmq-exporter renders it.",
               runtime_labels)
        .WithLabels(runtime_values)
        .Set(v);
  };
  for (const auto& g : kRuntimeGauges) {
    auto it = s.runtime.find(g.key);
    if (it == s.runtime.end()) continue;
    if (auto v = Number(it->second, g.field)) runtime(g.name, *v);
  }
  const auto times = PutTimes(Get(s.runtime, "putMessageDistributeTime"));
  for (const auto& [name, bucket] : kPutTimeGauges) {
    auto it = times.find(bucket);
    runtime(name, it == times.end() ? 0 : it->second);
  }
  runtime("commitlogdir_capacity_total", static_cast<double>(s.disk_capacity_bytes));
  runtime("commitlogdir_capacity_free", static_cast<double>(s.disk_free_bytes));
  runtime("remain_howmanydata_toflush", static_cast<double>(s.flush_behind_bytes));
  return r.Render();
}

}  // namespace fmq::server
