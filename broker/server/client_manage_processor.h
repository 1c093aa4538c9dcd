#pragma once

// ClientManageProcessor: HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38),
// CHECK_CLIENT_CONFIG (46), LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) (protocol reference 2.5, 2.6, 2.8).
//
// CHECK_CLIENT_CONFIG is how a Java consumer with an SQL92 subscription asks, at start, whether the broker
// takes it: SUCCESS, SUBSCRIPTION_PARSE_FAILED with the parser's message, or SYSTEM_ERROR when
// enablePropertyFilter is off (the consumer's start() then throws with that remark).
//
// A heartbeat registers the channel under each producer and consumer group it names. For a consumer group
// the subscription group is found or auto-created, and its retry topic %RETRY%<group> is created when missing
// (the name servers then learn of it through `on_topics_changed`).
//
// Queue locks (orderly consumption): a queue is locked by one client id at a time; a lock not renewed for 60
// s (rocketmq.broker.rebalance.lockMaxLiveTime) may be taken by another client.
//
// Thread-safety: Handle() may run on many executor threads at once.

#include <functional>
#include <map>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/model/admin_body.h"
#include "broker/net/connection.h"
#include "broker/server/broker_config.h"
#include "broker/server/client_registry.h"
#include "broker/server/subscription_group_manager.h"
#include "broker/server/topic_config_manager.h"

namespace fmq::server {

// Queue locks per consumer group (RocketMQ's RebalanceLockManager). Thread-safe.
class RebalanceLockManager {
 public:
  static constexpr int64_t kLockMaxLiveMillis = 60'000;
  explicit RebalanceLockManager(const Clock& clock) : clock_(clock) {}

  // Locks (or renews) what `client_id` may hold; returns the queues it now holds.
  std::set<model::MessageQueue> TryLockBatch(const std::string& group,
                                             const std::set<model::MessageQueue>& mqs,
                                             const std::string& client_id) FMQ_EXCLUDES(mu_);
  void UnlockBatch(const std::string& group, const std::set<model::MessageQueue>& mqs,
                   const std::string& client_id) FMQ_EXCLUDES(mu_);

 private:
  struct Entry {
    std::string client_id;
    int64_t last_update_ms = 0;
  };
  const Clock& clock_;
  Mutex mu_;
  std::map<std::string, std::map<model::MessageQueue, Entry>> locks_ FMQ_GUARDED_BY(mu_);
};

class ClientManageProcessor {
 public:
  // References outlive the processor. `on_topics_changed` is called after a retry topic was created.
  ClientManageProcessor(const BrokerConfig& broker, ClientRegistry& clients, SubscriptionGroupManager& groups,
                        TopicConfigManager& topics, RebalanceLockManager& locks,
                        std::function<void()> on_topics_changed);

  void Handle(protocol::RemotingCommand request, net::Responder responder);

 private:
  protocol::RemotingCommand HeartBeat(const protocol::RemotingCommand& req, const net::Responder& responder);
  protocol::RemotingCommand Unregister(const protocol::RemotingCommand& req, const net::Responder& responder);
  protocol::RemotingCommand ConsumerList(const protocol::RemotingCommand& req);
  protocol::RemotingCommand CheckClientConfig(const protocol::RemotingCommand& req);
  protocol::RemotingCommand LockBatch(const protocol::RemotingCommand& req);
  protocol::RemotingCommand UnlockBatch(const protocol::RemotingCommand& req);

  const BrokerConfig& broker_;
  ClientRegistry& clients_;
  SubscriptionGroupManager& groups_;
  TopicConfigManager& topics_;
  RebalanceLockManager& locks_;
  const std::function<void()> on_topics_changed_;
};

}  // namespace fmq::server
