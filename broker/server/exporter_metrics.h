#pragma once

// The rocketmq-exporter family (apache/rocketmq-exporter, docs/metrics.md "rocketmq-exporter family"): the
// names, camelCase labels and gauge semantics that exporter gives the 4.x admin data, rendered by the broker
// itself for its own share of the cluster on a second path (/metrics/exporter), so Grafana dashboards 10477
// and 14612, SkyWalking's RocketMQ layer and rules written for the exporter work without running it.
//
// Every family is a gauge, as the exporter renders them; *_tps and *_message_size are last-minute averages
// per second (the broker's TOPIC_PUT_NUMS/_SIZE, GROUP_GET_NUMS/_SIZE minute stats), rocketmq_send_back_nums
// the last minute's sum. The exporter asks every broker and sums: here each broker renders its own part, so
// queries that sum by topic or group (every panel of those dashboards does) see the same numbers; a
// rocketmq_group_diff series exists once per broker holding the topic (the exporter's has no broker label
// either; Prometheus tells them apart by `instance`).
//
// Differences from the exporter, on purpose: rocketmq_group_count (one series per group with every client
// address in a label) and the rocketmq_client_* family (per client id) are not rendered (unbounded label
// values); rocketmq_group_dlqdiff is the dead letters of the group nobody consumed (the exporter declares it
// but never fills it); rocketmq_broker_commitlog_diff is not rendered (replication lag is in the native
// family).
//
// Pure: the broker gathers an ExporterSnapshot when scraped.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fmq::server {

struct ExporterSnapshot {
  std::string cluster;
  std::string broker_name;
  std::string broker_addr;  // ip:port, the exporter's brokerIP label
  // GET_BROKER_RUNTIME_INFO's table (every rocketmq_brokeruntime_* value but the ones below comes from it).
  std::map<std::string, std::string> runtime;
  int64_t disk_capacity_bytes = 0;
  int64_t disk_free_bytes = 0;
  int64_t flush_behind_bytes = 0;
  double put_tps = 0;  // messages per second over the last minute
  double get_tps = 0;

  struct Topic {
    std::string topic;  // %RETRY%<group> and %DLQ%<group> topics are rendered as the exporter does
    double put_tps = 0;
    double put_bytes_per_second = 0;
    int64_t offset = 0;  // sum over its queues of the max offset on this broker
  };
  std::vector<Topic> topics;

  struct Group {
    std::string topic;
    std::string group;
    double get_tps = 0;
    double get_bytes_per_second = 0;
    int64_t send_back = 0;        // messages handed back in the last minute
    int64_t consumer_offset = 0;  // sum over queues of the committed offset
    int64_t diff = 0;             // messages not consumed yet
    int64_t latency_ms = 0;       // age of the oldest unconsumed message (0: caught up)
    int online_consumers = 0;
    bool clustering = true;
  };
  std::vector<Group> groups;
  std::map<std::string, size_t> producers;  // producer group -> connected producers
  // A master: replica address -> bytes it has not acknowledged (rocketmq_broker_commitlog_diff, which the
  // exporter computes as the master's commitLogMaxOffset minus the slave's, one series per slave).
  std::map<std::string, int64_t> replica_lag;
};

// The exposition text (Prometheus text format 0.0.4).
std::string RenderExporterFamily(const ExporterSnapshot& s);

}  // namespace fmq::server
