#pragma once

// Admin: the operator-side commands of mqadmin, for ferryctl and the operator (protocol reference 2.9, 2.10):
// clusters and routes from the name servers; topics created on every master of a cluster (17) and deleted
// from the brokers (215) and name servers (216); topic stats (202), consume stats (208), broker runtime info
// (28), consumer connections (203), subscription groups (200, 201); a message viewed by its offset id (33).
// Java-written bodies with fastjson's non-standard maps are read too (internal/fastjson.h).
//
// Created by its user; Start() before use, Stop() before destruction. Thread-safety: all methods may be called
// from any thread.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/client/client_core.h"
#include "broker/client/types.h"
#include "broker/model/route.h"

namespace fmq::client {

struct QueueStats {
  MessageQueue queue;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int64_t last_update_timestamp = 0;
};

struct QueueProgress {
  MessageQueue queue;
  int64_t broker_offset = 0;
  int64_t consumer_offset = 0;
  int64_t last_timestamp = 0;
};

struct ConsumeStats {
  std::vector<QueueProgress> queues;  // sorted by queue
  double consume_tps = 0;
  int64_t TotalDiff() const;
};

struct ConsumerConnection {
  struct Client {
    std::string client_id, client_addr, language;
    int32_t version = 0;
  };
  std::vector<Client> connections;
  std::map<std::string, std::string> subscriptions;  // topic -> expression
  std::string consume_type, message_model, consume_from_where;
};

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
};

struct CreateTopicOptions {
  int32_t read_queue_nums = 8;
  int32_t write_queue_nums = 8;
  int32_t perm = 6;  // read | write
  bool order = false;
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
  // Master addresses of `cluster` (every cluster when empty). NotFound for an unknown cluster.
  Result<std::vector<std::string>> MasterAddrs(const std::string& cluster);

  // UPDATE_AND_CREATE_TOPIC on every master of `cluster`; returns the masters it was created on.
  Result<std::vector<std::string>> CreateTopic(const std::string& topic, const std::string& cluster,
                                               const CreateTopicOptions& options);
  // DELETE_TOPIC_IN_BROKER on every master of `cluster` (empty: every master), then DELETE_TOPIC_IN_NAMESRV.
  Status DeleteTopic(const std::string& topic, const std::string& cluster);

  Result<std::vector<QueueStats>> TopicStats(const std::string& topic);
  // GET_CONSUME_STATS from every master, merged; `topic` empty: every topic of the group.
  Result<ConsumeStats> GetConsumeStats(const std::string& group, const std::string& topic);
  Result<std::map<std::string, std::string>> BrokerRuntimeInfo(const std::string& broker_addr);
  Result<ConsumerConnection> GetConsumerConnections(const std::string& group);
  Status CreateSubscriptionGroup(const SubscriptionGroupConfig& config, const std::string& cluster);
  // Subscription groups known to the masters of `cluster` (every cluster when empty).
  Result<std::set<std::string>> GetSubscriptionGroups(const std::string& cluster);
  // VIEW_MESSAGE_BY_ID at the broker named in the offset message id.
  Result<MessageExt> ViewMessage(const std::string& offset_msg_id);

  ClientCore& core() { return core_; }

 private:
  Result<protocol::RemotingCommand> Call(const std::string& addr, protocol::RemotingCommand request,
                                         const std::string& what);

  ClientCore core_;
  bool started_ = false;
};

// Body decoders, exposed for tests: Java's forms (MessageQueue object keys) and standard JSON alike.
Result<std::vector<QueueStats>> DecodeTopicStatsTable(std::string_view body);
Result<ConsumeStats> DecodeConsumeStats(std::string_view body);
Result<ConsumerConnection> DecodeConsumerConnection(std::string_view body);
std::string EncodeSubscriptionGroupConfig(const SubscriptionGroupConfig& config);

}  // namespace fmq::client
