#pragma once

// Bodies of the broker's consumer and admin commands (protocol reference 2.6, 2.8, 2.9, 6.11):
// subscription groups, consumer lists, queue locks, runtime info (KVTable), topic and consume stats, client
// connection lists.
//
// fastjson writes maps keyed by MessageQueue with the key object itself as the key, which is not standard
// JSON
// (`{{"brokerName":"b","queueId":0,"topic":"t"}:{...}}`). Java admin tools read only that form, so encoders
// write it; decoders first turn any such key into a string (NormalizeFastjson) and so read both forms.
//
// Thread-safety: values and pure functions.

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/model/heartbeat.h"
#include "broker/model/route.h"

namespace fmq::model {

struct MessageQueue {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;
  friend auto operator<=>(const MessageQueue&, const MessageQueue&) = default;
};
// {"brokerName":"b","queueId":0,"topic":"t"}
std::string EncodeMessageQueue(const MessageQueue& mq);

// Rewrites fastjson's non-standard object keys (objects, numbers, bare words) as JSON strings holding their
// text, so a standard parser reads the result. Standard JSON passes through unchanged.
Result<std::string> NormalizeFastjson(std::string_view text);

// ---- subscription groups (subscriptionGroup.json, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
struct SubscriptionGroupConfig {
  std::string group_name;
  bool consume_enable = true;
  bool consume_from_min_enable = true;
  bool consume_broadcast_enable = true;
  int32_t retry_queue_nums = 1;
  int32_t retry_max_times = 16;
  int64_t broker_id = 0;
  int64_t which_broker_when_consume_slowly = 1;
  bool notify_consumer_ids_changed_enable = true;
  // RocketMQ 5's consumeMessageOrderly: kept and reported, as Apache does; 4.x clients choose ordering with
  // their listener (MessageListenerOrderly), and fastjson ignores the field in 4.x tools.
  bool consume_message_orderly = false;
  friend bool operator==(const SubscriptionGroupConfig&, const SubscriptionGroupConfig&) = default;
};
struct SubscriptionGroupWrapper {
  std::map<std::string, SubscriptionGroupConfig> subscription_group_table;
  DataVersion data_version;
};
std::string EncodeSubscriptionGroupConfig(const SubscriptionGroupConfig& config);
Result<SubscriptionGroupConfig> DecodeSubscriptionGroupConfig(std::string_view json);
std::string EncodeSubscriptionGroupWrapper(const SubscriptionGroupWrapper& wrapper);
Result<SubscriptionGroupWrapper> DecodeSubscriptionGroupWrapper(std::string_view json);

// ---- GET_CONSUMER_LIST_BY_GROUP: {"consumerIdList":[...]}
std::string EncodeConsumerIdList(const std::vector<std::string>& ids);
Result<std::vector<std::string>> DecodeConsumerIdList(std::string_view json);

// ---- LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request, LOCK_BATCH_MQ response ({"lockOKMQSet":[...]})
struct LockBatchRequest {
  std::string consumer_group;
  std::string client_id;
  bool only_this_broker = false;
  std::set<MessageQueue> mq_set;
};
std::string EncodeLockBatchRequest(const LockBatchRequest& body);
Result<LockBatchRequest> DecodeLockBatchRequest(std::string_view json);
std::string EncodeLockBatchResponse(const std::set<MessageQueue>& locked);
Result<std::set<MessageQueue>> DecodeLockBatchResponse(std::string_view json);

// ---- GET_BROKER_RUNTIME_INFO: {"table":{"key":"value",...}}
std::string EncodeKvTable(const std::map<std::string, std::string>& table);
Result<std::map<std::string, std::string>> DecodeKvTable(std::string_view json);

// ---- GET_TOPIC_STATS_INFO
struct TopicOffset {
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int64_t last_update_timestamp = 0;
  friend bool operator==(const TopicOffset&, const TopicOffset&) = default;
};
using TopicStatsTable = std::map<MessageQueue, TopicOffset>;
std::string EncodeTopicStatsTable(const TopicStatsTable& table);
Result<TopicStatsTable> DecodeTopicStatsTable(std::string_view json);

// ---- GET_CONSUME_STATS
struct OffsetWrapper {
  int64_t broker_offset = 0;
  int64_t consumer_offset = 0;
  int64_t last_timestamp = 0;
  friend bool operator==(const OffsetWrapper&, const OffsetWrapper&) = default;
};
struct ConsumeStats {
  std::map<MessageQueue, OffsetWrapper> offset_table;
  double consume_tps = 0;
};
std::string EncodeConsumeStats(const ConsumeStats& stats);
Result<ConsumeStats> DecodeConsumeStats(std::string_view json);

// ---- GET_CONSUMER_CONNECTION_LIST / GET_PRODUCER_CONNECTION_LIST
struct ClientConnection {
  std::string client_id;
  std::string client_addr;
  std::string language;  // "JAVA", "CPP", "GO", ...
  int32_t version = 0;
};
struct ConsumerConnection {
  std::vector<ClientConnection> connection_set;
  std::map<std::string, SubscriptionData> subscription_table;
  ConsumeType consume_type = ConsumeType::kPassively;
  MessageModel message_model = MessageModel::kClustering;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
};
std::string EncodeConsumerConnection(const ConsumerConnection& c);
Result<ConsumerConnection> DecodeConsumerConnection(std::string_view json);
std::string EncodeProducerConnection(const std::vector<ClientConnection>& connections);
Result<std::vector<ClientConnection>> DecodeProducerConnection(std::string_view json);

// ---- GET_CONSUMER_RUNNING_INFO: what a consumer reports about itself (the broker asks the client and hands
// its answer on). Only what operators read: properties (PROP_CONSUME_TYPE CONSUME_PASSIVELY for push
// consumers, PROP_CONSUMEORDERLY, PROP_CLIENT_VERSION, ...), the subscriptions, per queue what it holds and
// when it last consumed, per topic its consume rates and failures.
struct ProcessQueueInfo {
  int64_t commit_offset = 0;
  int32_t cached_msg_count = 0;
  int32_t cached_msg_size_in_mib = 0;
  bool locked = false;
  bool dropped = false;  // Java spells it "droped"
  int64_t last_pull_timestamp = 0;
  int64_t last_consume_timestamp = 0;
};
struct ConsumeStatus {
  double pull_rt = 0;
  double pull_tps = 0;
  double consume_rt = 0;
  double consume_ok_tps = 0;
  double consume_failed_tps = 0;
  int64_t consume_failed_msgs = 0;  // in the last hour
};
struct ConsumerRunningInfo {
  std::map<std::string, std::string> properties;
  std::vector<SubscriptionData> subscriptions;
  std::map<MessageQueue, ProcessQueueInfo> mq_table;
  std::map<std::string, ConsumeStatus> status_table;  // by topic
  bool push() const;                                  // PROP_CONSUME_TYPE is CONSUME_PASSIVELY
  bool orderly() const;                               // PROP_CONSUMEORDERLY is true
};
// The Java client's form (fastjson: MessageQueue keys bare, Properties values as strings), as FerryMQ's push
// consumer answers the request; "jstack" is empty.
std::string EncodeConsumerRunningInfo(const ConsumerRunningInfo& info);
Result<ConsumerRunningInfo> DecodeConsumerRunningInfo(std::string_view json);

// ---- INVOKE_BROKER_TO_RESET_OFFSET's answer and RESET_CONSUMER_CLIENT_OFFSET's body (ResetOffsetBody):
// {"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:12}}. C++ clients are sent ResetOffsetBodyForC:
// {"offsetTable":[{"brokerName":"b","offset":12,"queueId":0,"topic":"t"}]}. The decoder reads both.
using ResetOffsetTable = std::map<MessageQueue, int64_t>;
std::string EncodeResetOffsetBody(const ResetOffsetTable& table);
std::string EncodeResetOffsetBodyForC(const ResetOffsetTable& table);
Result<ResetOffsetTable> DecodeResetOffsetBody(std::string_view json);

}  // namespace fmq::model
