#pragma once

// SlaveSynchronizer: a slave's copy of its master's metadata (RocketMQ's SlaveSynchronize; protocol reference
// 9.4), so that a promoted slave serves the same topics, subscription groups and consumer offsets
// (apache/rocketmq#9804 lost topics at a failover). Every haSyncMetadataInterval (and at Start) a slave whose
// master is known asks it for GET_ALL_TOPIC_CONFIG and GET_ALL_SUBSCRIPTIONGROUP_CONFIG (tables replaced when
// their data versions differ) and GET_ALL_CONSUMER_OFFSET (offsets overwritten, as RocketMQ merges them).
// GET_ALL_DELAY_OFFSET (delay-level progress, replaced). A master does nothing. Transaction state needs no
// copy of its own: half and op records replicate with the log, and the check's progress is consumer offsets.
//
// Created by the broker's composition root; everything it references outlives it.
// Thread-safety: SyncOnce() from any thread (the service thread calls it).

#include <chrono>
#include <functional>

#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/ha/ha_service.h"
#include "broker/net/remoting_client.h"
#include "broker/server/consumer_offset_manager.h"
#include "broker/server/schedule_message_service.h"
#include "broker/server/subscription_group_manager.h"
#include "broker/server/topic_config_manager.h"

namespace fmq::server {

class SlaveSynchronizer : public ServiceThread {
 public:
  SlaveSynchronizer(std::chrono::milliseconds period, const ha::HaService& ha, TopicConfigManager& topics,
                    SubscriptionGroupManager& groups, ConsumerOffsetManager& offsets,
                    ScheduleMessageService& schedule, net::RemotingClient& client);
  ~SlaveSynchronizer() override;

  // One round: OK when this broker is a master, its master is unknown, or everything was copied.
  Status SyncOnce();

 protected:
  void Run() override;

 private:
  const std::chrono::milliseconds period_;
  const ha::HaService& ha_;
  TopicConfigManager& topics_;
  SubscriptionGroupManager& groups_;
  ConsumerOffsetManager& offsets_;
  ScheduleMessageService& schedule_;
  net::RemotingClient& client_;
};

}  // namespace fmq::server
