#include "broker/protocol/headers.h"

#include "broker/protocol/codes.h"

namespace fmq::protocol {

using S = SendMessageRequestHeader;

const HeaderSpec<S>& S::V1() {
  static const HeaderSpec<S> spec = {
      {"producerGroup", &S::producer_group, true},
      {"topic", &S::topic, true},
      {"defaultTopic", &S::default_topic, true},
      {"defaultTopicQueueNums", &S::default_topic_queue_nums, true},
      {"queueId", &S::queue_id, true},
      {"sysFlag", &S::sys_flag, true},
      {"bornTimestamp", &S::born_timestamp, true},
      {"flag", &S::flag, true},
      {"properties", &S::properties, false},
      {"reconsumeTimes", &S::reconsume_times, false},
      {"unitMode", &S::unit_mode, false},
      {"batch", &S::batch, false},
      {"maxReconsumeTimes", &S::max_reconsume_times, false},
  };
  return spec;
}

const HeaderSpec<S>& S::V2() {
  static const HeaderSpec<S> spec = {
      {"a", &S::producer_group, true}, {"b", &S::topic, true},
      {"c", &S::default_topic, true},  {"d", &S::default_topic_queue_nums, true},
      {"e", &S::queue_id, true},       {"f", &S::sys_flag, true},
      {"g", &S::born_timestamp, true}, {"h", &S::flag, true},
      {"i", &S::properties, false},    {"j", &S::reconsume_times, false},
      {"k", &S::unit_mode, false},     {"l", &S::max_reconsume_times, false},
      {"m", &S::batch, false},
  };
  return spec;
}

Result<S> S::FromCommand(const RemotingCommand& cmd) {
  S h;
  const bool v2 = cmd.code == request_code::kSendMessageV2 || cmd.code == request_code::kSendBatchMessage;
  FMQ_RETURN_IF_ERROR((v2 ? V2() : V1()).Decode(cmd.ext_fields, &h));
  return h;
}

const HeaderSpec<SendMessageResponseHeader>& SendMessageResponseHeader::Spec() {
  using R = SendMessageResponseHeader;
  static const HeaderSpec<R> spec = {
      {"msgId", &R::msg_id, true},
      {"queueId", &R::queue_id, true},
      {"queueOffset", &R::queue_offset, true},
      {"transactionId", &R::transaction_id, false},
  };
  return spec;
}

const HeaderSpec<PullMessageRequestHeader>& PullMessageRequestHeader::Spec() {
  using P = PullMessageRequestHeader;
  static const HeaderSpec<P> spec = {
      {"consumerGroup", &P::consumer_group, true},
      {"topic", &P::topic, true},
      {"queueId", &P::queue_id, true},
      {"queueOffset", &P::queue_offset, true},
      {"maxMsgNums", &P::max_msg_nums, true},
      {"sysFlag", &P::sys_flag, true},
      {"commitOffset", &P::commit_offset, true},
      {"suspendTimeoutMillis", &P::suspend_timeout_millis, true},
      {"subscription", &P::subscription, false},
      {"subVersion", &P::sub_version, true},
      {"expressionType", &P::expression_type, false},
  };
  return spec;
}

const HeaderSpec<PullMessageResponseHeader>& PullMessageResponseHeader::Spec() {
  using P = PullMessageResponseHeader;
  static const HeaderSpec<P> spec = {
      {"suggestWhichBrokerId", &P::suggest_which_broker_id, true},
      {"nextBeginOffset", &P::next_begin_offset, true},
      {"minOffset", &P::min_offset, true},
      {"maxOffset", &P::max_offset, true},
  };
  return spec;
}

const HeaderSpec<ConsumerQueueHeader>& ConsumerQueueHeader::Spec() {
  using H = ConsumerQueueHeader;
  static const HeaderSpec<H> spec = {
      {"consumerGroup", &H::consumer_group, true},
      {"topic", &H::topic, true},
      {"queueId", &H::queue_id, true},
      {"commitOffset", &H::commit_offset, false},
  };
  return spec;
}

const HeaderSpec<QueueHeader>& QueueHeader::Spec() {
  using H = QueueHeader;
  static const HeaderSpec<H> spec = {
      {"topic", &H::topic, true},
      {"queueId", &H::queue_id, true},
      {"timestamp", &H::timestamp, false},
  };
  return spec;
}

const HeaderSpec<RegisterBrokerRequestHeader>& RegisterBrokerRequestHeader::Spec() {
  using H = RegisterBrokerRequestHeader;
  static const HeaderSpec<H> spec = {
      {"brokerName", &H::broker_name, true},   {"brokerAddr", &H::broker_addr, true},
      {"clusterName", &H::cluster_name, true}, {"haServerAddr", &H::ha_server_addr, true},
      {"brokerId", &H::broker_id, true},       {"compressed", &H::compressed, false},
      {"bodyCrc32", &H::body_crc32, false},    {"ferrymqEpoch", &H::ferrymq_epoch, false},
  };
  return spec;
}

const HeaderSpec<HaEpochHeader>& HaEpochHeader::Spec() {
  using H = HaEpochHeader;
  static const HeaderSpec<H> spec = {
      {"epoch", &H::epoch, true},
      {"brokerRole", &H::broker_role, false},
  };
  return spec;
}

const HeaderSpec<HaBecomeSlaveHeader>& HaBecomeSlaveHeader::Spec() {
  using H = HaBecomeSlaveHeader;
  static const HeaderSpec<H> spec = {
      {"masterAddress", &H::master_address, true},
      {"masterHaAddress", &H::master_ha_address, true},
      {"epoch", &H::epoch, true},
      {"brokerId", &H::broker_id, true},
  };
  return spec;
}

const HeaderSpec<BrokerIdentityHeader>& BrokerIdentityHeader::Spec() {
  using H = BrokerIdentityHeader;
  static const HeaderSpec<H> spec = {
      {"brokerName", &H::broker_name, true},
      {"brokerAddr", &H::broker_addr, true},
      {"clusterName", &H::cluster_name, true},
      {"brokerId", &H::broker_id, true},
  };
  return spec;
}

const HeaderSpec<TopicHeader>& TopicHeader::Spec() {
  using H = TopicHeader;
  static const HeaderSpec<H> spec = {
      {"topic", &H::topic, true},
      {"clusterName", &H::cluster_name, false},
      {"acceptStandardJsonOnly", &H::accept_standard_json_only, false},
  };
  return spec;
}

const HeaderSpec<BrokerNameHeader>& BrokerNameHeader::Spec() {
  static const HeaderSpec<BrokerNameHeader> spec = {{"brokerName", &BrokerNameHeader::broker_name, true}};
  return spec;
}

const HeaderSpec<ClusterHeader>& ClusterHeader::Spec() {
  static const HeaderSpec<ClusterHeader> spec = {{"cluster", &ClusterHeader::cluster, true}};
  return spec;
}

const HeaderSpec<KvConfigHeader>& KvConfigHeader::Spec() {
  using H = KvConfigHeader;
  static const HeaderSpec<H> spec = {
      {"namespace", &H::name_space, true},
      {"key", &H::key, false},
      {"value", &H::value, false},
  };
  return spec;
}

const HeaderSpec<UnregisterClientHeader>& UnregisterClientHeader::Spec() {
  using H = UnregisterClientHeader;
  static const HeaderSpec<H> spec = {
      {"clientID", &H::client_id, true},
      {"producerGroup", &H::producer_group, false},
      {"consumerGroup", &H::consumer_group, false},
  };
  return spec;
}

const HeaderSpec<ConsumerGroupHeader>& ConsumerGroupHeader::Spec() {
  using H = ConsumerGroupHeader;
  static const HeaderSpec<H> spec = {{"consumerGroup", &H::consumer_group, true},
                                     {"topic", &H::topic, false}};
  return spec;
}

const HeaderSpec<ProducerGroupHeader>& ProducerGroupHeader::Spec() {
  static const HeaderSpec<ProducerGroupHeader> spec = {
      {"producerGroup", &ProducerGroupHeader::producer_group, true}};
  return spec;
}

const HeaderSpec<CreateTopicHeader>& CreateTopicHeader::Spec() {
  using H = CreateTopicHeader;
  static const HeaderSpec<H> spec = {
      {"topic", &H::topic, true},
      {"defaultTopic", &H::default_topic, true},
      {"readQueueNums", &H::read_queue_nums, true},
      {"writeQueueNums", &H::write_queue_nums, true},
      {"perm", &H::perm, true},
      {"topicFilterType", &H::topic_filter_type, true},
      {"topicSysFlag", &H::topic_sys_flag, false},
      {"order", &H::order, true},
  };
  return spec;
}

const HeaderSpec<DeleteSubscriptionGroupHeader>& DeleteSubscriptionGroupHeader::Spec() {
  using H = DeleteSubscriptionGroupHeader;
  static const HeaderSpec<H> spec = {{"groupName", &H::group_name, true},
                                     {"removeOffset", &H::remove_offset, false}};
  return spec;
}

const HeaderSpec<CreateAccessConfigHeader>& CreateAccessConfigHeader::Spec() {
  using H = CreateAccessConfigHeader;
  static const HeaderSpec<H> spec = {
      {"accessKey", &H::access_key, true},
      {"secretKey", &H::secret_key, false},
      {"whiteRemoteAddress", &H::white_remote_address, false},
      {"admin", &H::admin, false},
      {"defaultTopicPerm", &H::default_topic_perm, false},
      {"defaultGroupPerm", &H::default_group_perm, false},
      {"topicPerms", &H::topic_perms, false},
      {"groupPerms", &H::group_perms, false},
  };
  return spec;
}

const HeaderSpec<AccessKeyHeader>& AccessKeyHeader::Spec() {
  static const HeaderSpec<AccessKeyHeader> spec = {{"accessKey", &AccessKeyHeader::access_key, true}};
  return spec;
}

const HeaderSpec<GlobalWhiteAddrsHeader>& GlobalWhiteAddrsHeader::Spec() {
  using H = GlobalWhiteAddrsHeader;
  static const HeaderSpec<H> spec = {{"globalWhiteAddrs", &H::global_white_addrs, true},
                                     {"aclFileFullPath", &H::acl_file_full_path, false}};
  return spec;
}

const HeaderSpec<AclInfoResponseHeader>& AclInfoResponseHeader::Spec() {
  using H = AclInfoResponseHeader;
  static const HeaderSpec<H> spec = {
      {"version", &H::version, true},          {"allAclFileVersion", &H::all_acl_file_version, true},
      {"brokerName", &H::broker_name, true},   {"brokerAddr", &H::broker_addr, true},
      {"clusterName", &H::cluster_name, true},
  };
  return spec;
}

const HeaderSpec<ViewMessageHeader>& ViewMessageHeader::Spec() {
  static const HeaderSpec<ViewMessageHeader> spec = {{"offset", &ViewMessageHeader::offset, true}};
  return spec;
}

const HeaderSpec<QueryMessageHeader>& QueryMessageHeader::Spec() {
  using H = QueryMessageHeader;
  static const HeaderSpec<H> spec = {
      {"topic", &H::topic, true},
      {"key", &H::key, true},
      {"maxNum", &H::max_num, true},
      {"beginTimestamp", &H::begin_timestamp, true},
      {"endTimestamp", &H::end_timestamp, true},
  };
  return spec;
}

const HeaderSpec<QueryMessageResponseHeader>& QueryMessageResponseHeader::Spec() {
  using H = QueryMessageResponseHeader;
  static const HeaderSpec<H> spec = {
      {"indexLastUpdateTimestamp", &H::index_last_update_timestamp, true},
      {"indexLastUpdatePhyoffset", &H::index_last_update_phyoffset, true},
  };
  return spec;
}

const HeaderSpec<ResetOffsetHeader>& ResetOffsetHeader::Spec() {
  using H = ResetOffsetHeader;
  static const HeaderSpec<H> spec = {
      {"topic", &H::topic, true},
      {"group", &H::group, true},
      {"timestamp", &H::timestamp, true},
      {"isForce", &H::is_force, true},
  };
  return spec;
}

const HeaderSpec<OffsetResponseHeader>& OffsetResponseHeader::Spec() {
  static const HeaderSpec<OffsetResponseHeader> spec = {{"offset", &OffsetResponseHeader::offset, true}};
  return spec;
}

const HeaderSpec<ConsumerSendMsgBackHeader>& ConsumerSendMsgBackHeader::Spec() {
  using H = ConsumerSendMsgBackHeader;
  static const HeaderSpec<H> spec = {
      {"offset", &H::offset, true},
      {"group", &H::group, true},
      {"delayLevel", &H::delay_level, true},
      {"originMsgId", &H::origin_msg_id, false},
      {"originTopic", &H::origin_topic, false},
      {"unitMode", &H::unit_mode, false},
      {"maxReconsumeTimes", &H::max_reconsume_times, false},
  };
  return spec;
}

const HeaderSpec<EndTransactionHeader>& EndTransactionHeader::Spec() {
  using H = EndTransactionHeader;
  static const HeaderSpec<H> spec = {
      {"producerGroup", &H::producer_group, true},
      {"tranStateTableOffset", &H::tran_state_table_offset, true},
      {"commitLogOffset", &H::commit_log_offset, true},
      {"commitOrRollback", &H::commit_or_rollback, true},
      {"fromTransactionCheck", &H::from_transaction_check, false},
      {"msgId", &H::msg_id, true},
      {"transactionId", &H::transaction_id, false},
  };
  return spec;
}

const HeaderSpec<CheckTransactionStateHeader>& CheckTransactionStateHeader::Spec() {
  using H = CheckTransactionStateHeader;
  static const HeaderSpec<H> spec = {
      {"tranStateTableOffset", &H::tran_state_table_offset, true},
      {"commitLogOffset", &H::commit_log_offset, true},
      {"msgId", &H::msg_id, false},
      {"transactionId", &H::transaction_id, false},
      {"offsetMsgId", &H::offset_msg_id, false},
  };
  return spec;
}

}  // namespace fmq::protocol
