#pragma once

// Route data exchanged with name servers (protocol reference 2.10, 6.11): TopicConfig, QueueData, BrokerData,
// TopicRouteData, ClusterInfo, DataVersion, and their JSON bodies. FerryMQ writes standard JSON (quoted keys,
// compact: the Go client splits `brokerAddrs` text on ',' and ':'), which Java, Go and C++ clients all read;
// readers accept what Java brokers send.
//
// Thread-safety: values and pure functions.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/base/status.h"

namespace fmq::model {

// Permission bits (PermName).
namespace perm {
inline constexpr int32_t kPriority = 8;
inline constexpr int32_t kRead = 4;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kInherit = 1;
}  // namespace perm

struct TopicConfig {
  std::string topic_name;
  int32_t read_queue_nums = 16;
  int32_t write_queue_nums = 16;
  int32_t perm = perm::kRead | perm::kWrite;
  std::string topic_filter_type = "SINGLE_TAG";
  int32_t topic_sys_flag = 0;
  bool order = false;
  friend bool operator==(const TopicConfig&, const TopicConfig&) = default;
};

struct DataVersion {
  int64_t counter = 0;
  int64_t timestamp = 0;
  friend bool operator==(const DataVersion&, const DataVersion&) = default;
};

struct QueueData {
  std::string broker_name;
  int32_t read_queue_nums = 0;
  int32_t write_queue_nums = 0;
  int32_t perm = 0;
  int32_t topic_sys_flag = 0;
  friend bool operator==(const QueueData&, const QueueData&) = default;
};

struct BrokerData {
  std::string cluster;
  std::string broker_name;
  std::map<int64_t, std::string> broker_addrs;  // broker id -> "ip:port"; id 0 is the master
  friend bool operator==(const BrokerData&, const BrokerData&) = default;
};

struct TopicRouteData {
  std::string order_topic_conf;  // omitted from JSON when empty
  std::vector<QueueData> queue_datas;
  std::vector<BrokerData> broker_datas;
};

struct ClusterInfo {
  std::map<std::string, BrokerData> broker_addr_table;
  std::map<std::string, std::set<std::string>> cluster_addr_table;
};

// Topic configs and their data version: topics.json, and the body of REGISTER_BROKER (filter servers are
// ignored) and GET_ALL_TOPIC_CONFIG.
struct TopicConfigSerializeWrapper {
  std::map<std::string, TopicConfig> topic_config_table;
  DataVersion data_version;
};
using RegisterBrokerBody = TopicConfigSerializeWrapper;

std::string EncodeTopicRouteData(const TopicRouteData& route);
Result<TopicRouteData> DecodeTopicRouteData(std::string_view json);
std::string EncodeClusterInfo(const ClusterInfo& info);
Result<ClusterInfo> DecodeClusterInfo(std::string_view json);
std::string EncodeRegisterBrokerBody(const RegisterBrokerBody& body);
Result<RegisterBrokerBody> DecodeRegisterBrokerBody(std::string_view json);
// {"dataVersion":{...},"topicConfigTable":{...}} (topics.json).
std::string EncodeTopicConfigWrapper(const TopicConfigSerializeWrapper& wrapper);
Result<TopicConfigSerializeWrapper> DecodeTopicConfigWrapper(std::string_view json);
// {"counter":N,"timestamp":T} (QUERY_DATA_VERSION's body).
std::string EncodeDataVersion(const DataVersion& version);
Result<DataVersion> DecodeDataVersion(std::string_view json);
std::string EncodeTopicList(const std::set<std::string>& topics);
Result<std::set<std::string>> DecodeTopicList(std::string_view json);

}  // namespace fmq::model
