#pragma once

// AdminProcessor: the broker's admin and query commands (protocol reference 2.8, 2.9), as mqadmin, the
// FerryMQ operator and ferryctl use them: topics (create/update, delete, list all), subscription groups
// (create/update, delete, list all), runtime info, topic stats, consume stats, producer and consumer
// connection lists, which groups consume a topic, all consumer offsets, view message by offset id, query
// message by key, and INVOKE_BROKER_TO_RESET_OFFSET (reset a group's offsets on a topic to a time, or past
// its backlog with timestamp -1: written at once, and every online consumer of the group is sent
// RESET_CONSUMER_CLIENT_OFFSET).
//
// Thread-safety: Handle() may run on many executor threads at once.

#include <functional>
#include <map>
#include <string>

#include "broker/ha/ha_service.h"
#include "broker/net/connection.h"
#include "broker/server/backlog.h"
#include "broker/server/broker_config.h"
#include "broker/server/broker_stats.h"
#include "broker/server/client_registry.h"
#include "broker/server/consumer_offset_manager.h"
#include "broker/server/schedule_message_service.h"
#include "broker/server/subscription_group_manager.h"
#include "broker/server/topic_config_manager.h"
#include "broker/store/message_store.h"

namespace fmq::server {

class AdminProcessor {
 public:
  struct Deps {
    const BrokerConfig* broker;
    store::MessageStore* store;
    TopicConfigManager* topics;
    SubscriptionGroupManager* groups;
    ConsumerOffsetManager* offsets;
    ClientRegistry* clients;
    BrokerStats* stats;
    // Optional (tests run without it): a slave refuses topic and group changes.
    const ha::HaService* ha = nullptr;
    // Optional (tests run without it): delay-level progress (GET_ALL_DELAY_OFFSET).
    ScheduleMessageService* schedule = nullptr;
    // Optional: timer records not delivered yet (the backlog in runtime info).
    std::function<int64_t()> timer_pending;
    // Called after topics or the broker's permission changed (the broker re-registers with its name servers).
    std::function<void()> on_topics_changed;
    // Runtime-info entries only the composition root knows (thread-pool queues, boot time).
    std::function<std::map<std::string, std::string>()> extra_runtime_info;
  };
  // Everything in `deps` outlives the processor.
  explicit AdminProcessor(Deps deps);

  void Handle(protocol::RemotingCommand request, net::Responder responder);
  // GET_BROKER_RUNTIME_INFO's table (also rendered by the rocketmq-exporter family).
  std::map<std::string, std::string> RuntimeTable();

 private:
  using Cmd = protocol::RemotingCommand;
  Cmd UpdateAndCreateTopic(const Cmd& req);
  Cmd DeleteTopic(const Cmd& req);
  Cmd AllTopicConfig();
  Cmd UpdateAndCreateGroup(const Cmd& req);
  Cmd DeleteGroup(const Cmd& req);
  Cmd AllGroupConfig();
  Cmd RuntimeInfo();
  Backlog CountBacklog();
  Cmd TopicStats(const Cmd& req);
  Cmd ConsumeStats(const Cmd& req);
  Cmd ConsumerConnections(const Cmd& req);
  Cmd ProducerConnections(const Cmd& req);
  Cmd TopicConsumedByWho(const Cmd& req);
  Cmd AllConsumerOffsets();
  Cmd ViewMessageById(const Cmd& req);
  Cmd QueryMessage(const Cmd& req);
  Cmd ResetOffset(const Cmd& req);
  Cmd GetBrokerConfig();
  Cmd BrokerStatsData(const Cmd& req);
  Cmd TopicProducers(const Cmd& req);
  void CallConsumer(protocol::RemotingCommand request, net::Responder responder);
  Cmd UpdateBrokerConfig(const Cmd& req);

  Deps d_;
};

}  // namespace fmq::server
