#pragma once

// Command headers with their fields declared once (protocol reference 2.2, 2.3), decoded and encoded by
// HeaderSpec. SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE carry the same header as SEND_MESSAGE under one-letter
// names.

#include <cstdint>
#include <optional>
#include <string>

#include "broker/protocol/header_codec.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::protocol {

struct SendMessageRequestHeader {
  std::string producer_group;
  std::string topic;
  std::string default_topic;
  int32_t default_topic_queue_nums = 0;
  int32_t queue_id = 0;
  int32_t sys_flag = 0;
  int64_t born_timestamp = 0;
  int32_t flag = 0;
  std::optional<std::string> properties;
  std::optional<int32_t> reconsume_times;
  std::optional<bool> unit_mode;
  std::optional<bool> batch;
  std::optional<int32_t> max_reconsume_times;

  static const HeaderSpec<SendMessageRequestHeader>& V1();
  static const HeaderSpec<SendMessageRequestHeader>& V2();
  // Decodes by request code: SEND_MESSAGE (10) uses V1 names, SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE
  // (320) the short V2 names.
  static Result<SendMessageRequestHeader> FromCommand(const RemotingCommand& cmd);
};

struct SendMessageResponseHeader {
  std::string msg_id;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  std::optional<std::string> transaction_id;

  static const HeaderSpec<SendMessageResponseHeader>& Spec();
};

// PullSysFlag bits.
namespace pull_sys_flag {
inline constexpr int32_t kCommitOffset = 0x1;
inline constexpr int32_t kSuspend = 0x2;
inline constexpr int32_t kSubscription = 0x4;
inline constexpr int32_t kClassFilter = 0x8;
inline constexpr int32_t kLitePull = 0x10;
}  // namespace pull_sys_flag

struct PullMessageRequestHeader {
  std::string consumer_group;
  std::string topic;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int32_t max_msg_nums = 0;
  int32_t sys_flag = 0;
  int64_t commit_offset = 0;
  int64_t suspend_timeout_millis = 0;
  std::optional<std::string> subscription;
  int64_t sub_version = 0;
  std::optional<std::string> expression_type;

  static const HeaderSpec<PullMessageRequestHeader>& Spec();
};

struct PullMessageResponseHeader {
  int64_t suggest_which_broker_id = 0;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;

  static const HeaderSpec<PullMessageResponseHeader>& Spec();
};

// ---- offsets (protocol reference 2.4)

struct ConsumerQueueHeader {  // QUERY_CONSUMER_OFFSET; UPDATE_CONSUMER_OFFSET adds commitOffset
  std::string consumer_group;
  std::string topic;
  int32_t queue_id = 0;
  std::optional<int64_t> commit_offset;
  static const HeaderSpec<ConsumerQueueHeader>& Spec();
};

struct QueueHeader {  // GET_MAX_OFFSET, GET_MIN_OFFSET, GET_EARLIEST_MSG_STORETIME; SEARCH adds timestamp
  std::string topic;
  int32_t queue_id = 0;
  std::optional<int64_t> timestamp;
  static const HeaderSpec<QueueHeader>& Spec();
};

// ---- name server requests (protocol reference 2.10)

struct RegisterBrokerRequestHeader {
  std::string broker_name, broker_addr, cluster_name, ha_server_addr;
  int64_t broker_id = 0;
  std::optional<bool> compressed;
  std::optional<int32_t> body_crc32;
  // FerryMQ: the broker's master epoch (masters) or the epoch it follows (slaves). Name servers refuse a
  // master registration below the highest epoch they know for the broker name. RocketMQ brokers omit it.
  std::optional<int32_t> ferrymq_epoch;
  static const HeaderSpec<RegisterBrokerRequestHeader>& Spec();
};

// UNREGISTER_BROKER and QUERY_DATA_VERSION share these fields.
struct BrokerIdentityHeader {
  std::string broker_name, broker_addr, cluster_name;
  int64_t broker_id = 0;
  static const HeaderSpec<BrokerIdentityHeader>& Spec();
};

// ---- transactions

struct EndTransactionHeader {  // END_TRANSACTION (37)
  std::string producer_group;
  int64_t tran_state_table_offset = 0;  // the half message's queue offset
  int64_t commit_log_offset = 0;        // the half message's commit-log offset
  int32_t commit_or_rollback = 0;       // 0 unknown, 8 commit, 12 rollback (sysflag transaction values)
  std::optional<bool> from_transaction_check;
  std::string msg_id;
  std::optional<std::string> transaction_id;
  static const HeaderSpec<EndTransactionHeader>& Spec();
};

struct CheckTransactionStateHeader {  // CHECK_TRANSACTION_STATE (39), broker to producer
  int64_t tran_state_table_offset = 0;
  int64_t commit_log_offset = 0;
  std::optional<std::string> msg_id;
  std::optional<std::string> transaction_id;
  std::optional<std::string> offset_msg_id;
  static const HeaderSpec<CheckTransactionStateHeader>& Spec();
};

// ---- FerryMQ replication admin (codes 9100-9103, docs/replication.md)

struct HaEpochHeader {  // FERRYMQ_HA_FENCE, FERRYMQ_HA_PROMOTE
  int32_t epoch = 0;
  std::optional<std::string> broker_role;  // PROMOTE: SYNC_MASTER | ASYNC_MASTER (default: the old master's)
  static const HeaderSpec<HaEpochHeader>& Spec();
};

struct HaBecomeSlaveHeader {      // FERRYMQ_HA_BECOME_SLAVE
  std::string master_address;     // the master's remoting address
  std::string master_ha_address;  // its replication address
  int32_t epoch = 0;              // the master's epoch
  int64_t broker_id = 1;          // the slave id to register under
  static const HeaderSpec<HaBecomeSlaveHeader>& Spec();
};

struct TopicHeader {  // GET_ROUTEINFO_BY_TOPIC, DELETE_TOPIC_IN_NAMESRV
  std::string topic;
  std::optional<std::string> cluster_name;
  std::optional<bool> accept_standard_json_only;
  static const HeaderSpec<TopicHeader>& Spec();
};

struct BrokerNameHeader {  // WIPE_WRITE_PERM_OF_BROKER, ADD_WRITE_PERM_OF_BROKER
  std::string broker_name;
  static const HeaderSpec<BrokerNameHeader>& Spec();
};

struct ClusterHeader {  // GET_TOPICS_BY_CLUSTER
  std::string cluster;
  static const HeaderSpec<ClusterHeader>& Spec();
};

struct KvConfigHeader {  // PUT/GET/DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE (key and value optional per
                         // command)
  std::string name_space;
  std::optional<std::string> key;
  std::optional<std::string> value;
  static const HeaderSpec<KvConfigHeader>& Spec();
};

// ---- client management and admin commands on the broker (protocol reference 2.5 - 2.9)

struct UnregisterClientHeader {  // UNREGISTER_CLIENT
  std::string client_id;
  std::optional<std::string> producer_group;
  std::optional<std::string> consumer_group;
  static const HeaderSpec<UnregisterClientHeader>& Spec();
};

// GET_CONSUMER_LIST_BY_GROUP, GET_CONSUMER_CONNECTION_LIST, GET_CONSUME_STATS (with an optional topic).
struct ConsumerGroupHeader {
  std::string consumer_group;
  std::optional<std::string> topic;
  static const HeaderSpec<ConsumerGroupHeader>& Spec();
};

struct ProducerGroupHeader {  // GET_PRODUCER_CONNECTION_LIST
  std::string producer_group;
  static const HeaderSpec<ProducerGroupHeader>& Spec();
};

struct CreateTopicHeader {  // UPDATE_AND_CREATE_TOPIC
  std::string topic;
  std::string default_topic;
  int32_t read_queue_nums = 0;
  int32_t write_queue_nums = 0;
  int32_t perm = 0;
  std::string topic_filter_type;
  std::optional<int32_t> topic_sys_flag;
  bool order = false;
  static const HeaderSpec<CreateTopicHeader>& Spec();
};

struct DeleteSubscriptionGroupHeader {  // DELETE_SUBSCRIPTIONGROUP
  std::string group_name;
  std::optional<bool> remove_offset;
  static const HeaderSpec<DeleteSubscriptionGroupHeader>& Spec();
};

struct CreateAccessConfigHeader {  // UPDATE_AND_CREATE_ACL_CONFIG (50): an account; perms are comma lists
  std::string access_key;
  std::optional<std::string> secret_key;
  std::optional<std::string> white_remote_address;
  std::optional<bool> admin;
  std::optional<std::string> default_topic_perm;
  std::optional<std::string> default_group_perm;
  std::optional<std::string> topic_perms;
  std::optional<std::string> group_perms;
  static const HeaderSpec<CreateAccessConfigHeader>& Spec();
};

struct AccessKeyHeader {  // DELETE_ACL_CONFIG (51)
  std::string access_key;
  static const HeaderSpec<AccessKeyHeader>& Spec();
};

struct GlobalWhiteAddrsHeader {    // UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53)
  std::string global_white_addrs;  // comma list
  std::optional<std::string> acl_file_full_path;
  static const HeaderSpec<GlobalWhiteAddrsHeader>& Spec();
};

struct AclInfoResponseHeader {       // GET_BROKER_CLUSTER_ACL_INFO (52) response
  std::string version;               // DataVersion JSON of the ACL file
  std::string all_acl_file_version;  // {"<path>": DataVersion}
  std::string broker_name;
  std::string broker_addr;
  std::string cluster_name;
  static const HeaderSpec<AclInfoResponseHeader>& Spec();
};

struct ViewMessageHeader {  // VIEW_MESSAGE_BY_ID
  int64_t offset = 0;
  static const HeaderSpec<ViewMessageHeader>& Spec();
};

struct QueryMessageHeader {  // QUERY_MESSAGE
  std::string topic;
  std::string key;
  int32_t max_num = 0;
  int64_t begin_timestamp = 0;
  int64_t end_timestamp = 0;
  static const HeaderSpec<QueryMessageHeader>& Spec();
};

struct QueryMessageResponseHeader {
  int64_t index_last_update_timestamp = 0;
  int64_t index_last_update_phyoffset = 0;
  static const HeaderSpec<QueryMessageResponseHeader>& Spec();
};

struct ResetOffsetHeader {  // INVOKE_BROKER_TO_RESET_OFFSET, RESET_CONSUMER_CLIENT_OFFSET
  std::string topic;
  std::string group;
  int64_t timestamp = 0;
  bool is_force = false;
  static const HeaderSpec<ResetOffsetHeader>& Spec();
};

// ---- responses read by broker/client

struct OffsetResponseHeader {  // QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET,
                               // SEARCH_OFFSET_BY_TIMESTAMP
  int64_t offset = 0;
  static const HeaderSpec<OffsetResponseHeader>& Spec();
};

struct ConsumerSendMsgBackHeader {  // CONSUMER_SEND_MSG_BACK
  int64_t offset = 0;               // commit-log offset of the message
  std::string group;
  int32_t delay_level = 0;
  std::optional<std::string> origin_msg_id;
  std::optional<std::string> origin_topic;
  bool unit_mode = false;
  std::optional<int32_t> max_reconsume_times;
  static const HeaderSpec<ConsumerSendMsgBackHeader>& Spec();
};

}  // namespace fmq::protocol
