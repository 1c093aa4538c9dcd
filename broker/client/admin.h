#pragma once

// Admin: the operator-side commands of mqadmin, for ferryctl and the operator (protocol reference 2.9, 2.10):
// clusters and routes from the name servers; topics created on every master of a cluster (17) and deleted
// from the brokers (215) and name servers (216); topic stats (202), consume stats (208), broker runtime info
// (28), consumer connections (203), subscription groups (200, 201, 207); a message viewed by its offset id
// (33) or queried by key (12); offsets reset by time (222); stats per minute, hour and day (315); a
// consumer's running info (307). Bodies are read with the model's codecs, which accept fastjson's
// non-standard maps (model/admin_body.h).
//
// Created by its user; Start() before use, Stop() before destruction. Thread-safety: all methods may be
// called from any thread.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/acl/plain_acl.h"
#include "broker/base/status.h"
#include "broker/client/client_core.h"
#include "broker/client/types.h"
#include "broker/model/admin_body.h"
#include "broker/model/ha_body.h"
#include "broker/model/route.h"

namespace fmq::client {

// Lag of a group: sum over queues of broker offset - consumer offset.
int64_t TotalDiff(const model::ConsumeStats& stats);

// A reset target (ferryctl group reset --to, a ConsumerGroup's spec.resetOffset.to) as the timestamp
// ResetOffsetByTime takes: "earliest" 0, "latest" -1 (the end of every queue), "now" `now_ms`, an RFC 3339
// time or Unix milliseconds. InvalidArgument naming the accepted forms otherwise.
Result<int64_t> ResetTimestampOf(std::string_view to, int64_t now_ms);

struct CreateTopicOptions {
  int32_t read_queue_nums = 8;
  int32_t write_queue_nums = 8;
  int32_t perm = 6;  // read | write
  bool order = false;
};

// One VIEW_BROKER_STATS_DATA answer: the sums over the last minute, hour and day.
struct StatsSums {
  int64_t minute = 0;
  int64_t hour = 0;
  int64_t day = 0;
};

class Admin {
 public:
  explicit Admin(ClientOptions options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  Status Start();
  void Stop();

  Result<model::ClusterInfo> GetClusterInfo();
  Result<model::TopicRouteData> GetTopicRoute(const std::string& topic);
  Result<std::set<std::string>> GetTopicList();
  // brokerName -> master address of every broker group in `topic`'s route (groups without a master left out).
  Result<std::map<std::string, std::string>> TopicMasters(const std::string& topic);
  // Master addresses of `cluster` (every cluster when empty). NotFound for an unknown cluster.
  Result<std::vector<std::string>> MasterAddrs(const std::string& cluster);

  // UPDATE_AND_CREATE_TOPIC on every master of `cluster`; returns the masters it was created on.
  Result<std::vector<std::string>> CreateTopic(const std::string& topic, const std::string& cluster,
                                               const CreateTopicOptions& options);
  // DELETE_TOPIC_IN_BROKER on every master of `cluster` (empty: every master), then DELETE_TOPIC_IN_NAMESRV.
  Status DeleteTopic(const std::string& topic, const std::string& cluster);

  // One broker at a time, for the operator, which applies a Topic to the master of each broker group it
  // targets and reads back what that broker has.
  Status CreateTopicAt(const std::string& broker_addr, const std::string& topic,
                       const CreateTopicOptions& options);
  // GET_ALL_TOPIC_CONFIG: the broker's topics.json table.
  Result<std::map<std::string, model::TopicConfig>> GetAllTopicConfig(const std::string& broker_addr);
  Status DeleteTopicAt(const std::string& broker_addr, const std::string& topic);
  // DELETE_TOPIC_IN_NAMESRV on every name server; `cluster` empty: the topic's routes of every cluster.
  Status DeleteTopicInNameServers(const std::string& topic, const std::string& cluster);
  // Clears (writable false: mqadmin wipeWritePerm) or restores (mqadmin addWritePerm) the write permission
  // of broker group `broker_name` on every name server; how many topics it serves.
  Result<int> SetWritePermInNameServers(const std::string& broker_name, bool writable);
  // QUERY_TOPIC_CONSUME_BY_WHO: groups with offsets on, or consumers subscribed to, `topic` at one broker.
  Result<std::set<std::string>> TopicConsumerGroups(const std::string& broker_addr, const std::string& topic);

  // GET_TOPIC_STATS_INFO from every master of the topic, merged.
  Result<model::TopicStatsTable> TopicStats(const std::string& topic);
  Result<model::TopicStatsTable> TopicStatsAt(const std::string& broker_addr, const std::string& topic);
  // FERRYMQ_TOPIC_PRODUCERS (9110) at one broker: producer group -> its last send to `topic` (epoch ms), for
  // the groups that sent in the last day.
  Result<std::map<std::string, int64_t>> TopicProducersAt(const std::string& broker_addr,
                                                          const std::string& topic);
  // GET_CONSUME_STATS from every master, merged; `topic` empty: every topic of the group.
  Result<model::ConsumeStats> GetConsumeStats(const std::string& group, const std::string& topic);
  Result<std::map<std::string, std::string>> BrokerRuntimeInfo(const std::string& broker_addr);
  // UPDATE_BROKER_CONFIG: settings the broker changes while it runs (brokerPermission, maxMessageSize,
  // fileReservedTime); it refuses any other key and then changes nothing.
  Status UpdateBrokerConfig(const std::string& broker_addr,
                            const std::map<std::string, std::string>& properties);
  Result<model::ConsumerConnection> GetConsumerConnections(const std::string& group);
  // One broker's view of `group`: its connected consumers (none when the broker answers CONSUMER_NOT_ONLINE;
  // an error only when the broker cannot be asked) and its consume stats over every topic of the group.
  Result<model::ConsumerConnection> GetConsumerConnectionsAt(const std::string& broker_addr,
                                                             const std::string& group);
  Result<model::ConsumeStats> GetConsumeStatsAt(const std::string& broker_addr, const std::string& group);
  Status CreateSubscriptionGroup(const model::SubscriptionGroupConfig& config, const std::string& cluster);
  // One broker at a time, for the operator's ConsumerGroup: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
  // GET_ALL_SUBSCRIPTIONGROUP_CONFIG (the broker's subscriptionGroup.json table) and
  // DELETE_SUBSCRIPTIONGROUP.
  Status CreateSubscriptionGroupAt(const std::string& broker_addr,
                                   const model::SubscriptionGroupConfig& config);
  Result<std::map<std::string, model::SubscriptionGroupConfig>> GetAllSubscriptionGroupConfig(
      const std::string& broker_addr);
  Status DeleteSubscriptionGroupAt(const std::string& broker_addr, const std::string& group,
                                   bool remove_offsets);
  // DELETE_SUBSCRIPTIONGROUP on every master of `cluster` (every master when empty); `remove_offsets` also
  // drops the group's committed offsets (mqadmin deleteSubGroup -r).
  Status DeleteSubscriptionGroup(const std::string& group, const std::string& cluster, bool remove_offsets);
  // INVOKE_BROKER_TO_RESET_OFFSET on every master of `topic`: the group's offsets move to the first message
  // stored at or after `timestamp_ms` (-1: the end of each queue; without `force` only backwards); the
  // brokers tell the group's online clients. Returns the new offsets of every queue, merged.
  Result<model::ResetOffsetTable> ResetOffsetByTime(const std::string& topic, const std::string& group,
                                                    int64_t timestamp_ms, bool force);
  // Messages stored into `topic` during the last minute over every master of it (VIEW_BROKER_STATS_DATA
  // TOPIC_PUT_NUMS, statsMinute.sum); a broker without stats for the topic counts 0.
  Result<int64_t> TopicPutsLastMinute(const std::string& topic);
  // VIEW_BROKER_STATS_DATA at one broker: `name` TOPIC_PUT_NUMS, SNDBCK_PUT_NUMS, DEAD_PUT_NUMS,
  // OFFSET_MOVED_NUMS, ... with its key (topic, or topic@group); all zero when the broker counted nothing
  // there.
  Result<StatsSums> BrokerStatsAt(const std::string& broker_addr, const std::string& name,
                                  const std::string& key);
  // GET_CONSUMER_RUNNING_INFO through `broker_addr`, which asks client `client_id` of `group` (connected to
  // it) and hands its answer on; without the thread dump.
  Result<model::ConsumerRunningInfo> ConsumerRunningInfoAt(const std::string& broker_addr,
                                                           const std::string& group,
                                                           const std::string& client_id);
  // Subscription groups known to the masters of `cluster` (every cluster when empty).
  Result<std::set<std::string>> GetSubscriptionGroups(const std::string& cluster);
  // VIEW_MESSAGE_BY_ID at the broker named in the offset message id.
  Result<MessageExt> ViewMessage(const std::string& offset_msg_id);
  // Messages of `topic` whose KEYS (or message id) include `key`, stored in [begin_ms, end_ms], from every
  // master of the topic (QUERY_MESSAGE; up to `max` per broker). Empty when none matches.
  Result<std::vector<MessageExt>> QueryMessageByKey(const std::string& topic, const std::string& key,
                                                    int32_t max, int64_t begin_ms, int64_t end_ms);

  // ---- replication (FerryMQ's private codes 9100-9103, docs/replication.md; client/ha_ops.h composes them)
  Result<model::HaStatusBody> HaStatus(const std::string& broker_addr);
  // Returns the broker's state once fenced (its log end is final).
  Result<model::HaStatusBody> HaFence(const std::string& broker_addr, int32_t epoch);
  // `role`: SYNC_MASTER, ASYNC_MASTER or empty (the old master's role).
  Status HaPromote(const std::string& broker_addr, int32_t epoch, const std::string& role);
  Status HaBecomeSlave(const std::string& broker_addr, const std::string& master_addr,
                       const std::string& master_ha_addr, int32_t epoch, int64_t broker_id);

  // ACL accounts of one broker (RocketMQ ACL 1.0 admin requests, as `mqadmin updateAclConfig` and friends
  // send them; each broker keeps its own plain_acl.yml, so a cluster-wide change goes to every broker, slaves
  // too). UPDATE_AND_CREATE_ACL_CONFIG with every field of `account` (creates or replaces it).
  Status UpdateAclAccount(const std::string& broker_addr, const acl::PlainAccessConfig& account);
  // DELETE_ACL_CONFIG; NotFound when the broker has no such account (so a revoke can be repeated).
  Status DeleteAclAccount(const std::string& broker_addr, const std::string& access_key);
  // GET_BROKER_CLUSTER_ACL_CONFIG: every account with its secret, and the global white list.
  Result<acl::PlainAclFile> GetAclConfig(const std::string& broker_addr);

  ClientCore& core() { return core_; }

 private:
  Result<protocol::RemotingCommand> Call(const std::string& addr, protocol::RemotingCommand request,
                                         const std::string& what);

  ClientCore core_;
  bool started_ = false;
};

}  // namespace fmq::client
