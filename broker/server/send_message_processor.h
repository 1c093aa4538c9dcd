#pragma once

// SendMessageProcessor: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320), following the
// Java broker's order of checks (protocol reference 2.2): header, topic name, forbidden system topics, topic
// lookup or auto-creation, queue id, then the append. Batch or single is decided by the header's `batch`
// flag, not by the code (C++ clients send batches as 310). The answer is written when the store answers
// (after group commit with SYNC_FLUSH), so no executor thread waits on the disk.
//
// Delay levels: a DELAY=n > 0 send is stored in SCHEDULE_TOPIC_XXXX (ApplyDelayLevel,
// schedule_message_service.h); a batch with DELAY is refused. Sends to %RETRY%<group> whose reconsume times
// reached the group's maxReconsumeTimes (or the header's) go to %DLQ%<group> (RocketMQ's handleRetryAndDLQ).
// CONSUMER_SEND_MSG_BACK (36) is answered here too (SendBack). A TRAN_MSG=true send is stored as a half
// message (ToHalfMessage, transaction_service.h), unless rejectTransactionMessage.
//
// Thread-safety: Handle() may run on many executor threads at once.

#include <functional>

#include "broker/ha/ha_service.h"
#include "broker/net/connection.h"
#include "broker/protocol/remoting_command.h"
#include "broker/server/broker_config.h"
#include "broker/server/broker_metrics.h"
#include "broker/server/broker_stats.h"
#include "broker/server/subscription_group_manager.h"
#include "broker/server/topic_config_manager.h"
#include "broker/store/message_store.h"

namespace fmq::server {

class SendMessageProcessor {
 public:
  // All references are owned by the composition root and outlive the processor.
  // `on_topic_created` (optional) is called after a send auto-created its topic, so the name servers learn of
  // it at once instead of at the next periodic registration.
  // `ha` (optional, tests run without it) gates writes by the replication role and waits for replicas.
  SendMessageProcessor(const BrokerConfig& broker, store::MessageStore& store, TopicConfigManager& topics,
                       SubscriptionGroupManager& groups, std::function<void()> on_topic_created = {},
                       ha::HaService* ha = nullptr);

  void Handle(protocol::RemotingCommand request, net::Responder responder);
  // The clock timer messages are measured against (tests); the system clock by default. Outlives this.
  void set_clock(const Clock* clock) { clock_ = clock; }
  // Optional: per-topic put counts (statsAll). Outlives this.
  void set_stats(BrokerStats* stats) { stats_ = stats; }
  void set_metrics(BrokerMetrics* metrics) { metrics_ = metrics; }

 private:
  using StoreDone =
      std::function<void(Result<store::PutMessageResult>, int32_t code_if_stored, const std::string& remark)>;
  // Appends, then (SYNC_MASTER, `wait_for_replicas`) waits for the in-sync slaves; `done` gets the put's
  // result and the answer code when it was stored.
  void Store(std::vector<model::StoredMessage> messages, bool wait_for_replicas, StoreDone done);
  void SendBack(protocol::RemotingCommand request, net::Responder responder);
  // A %RETRY% or %DLQ% topic, created read-write with `queues` queues when missing
  // (createTopicInSendMessageBackMethod).
  Result<std::optional<model::TopicConfig>> CreateSystemTopic(const std::string& topic, int32_t queues);
  static int32_t RandomQueue(int32_t queues);
  // Answers a put: `code_if_stored` (with `remark`) when `r` holds the stored message, else the put's error.
  void Answer(const net::Responder& responder, int32_t queue_id, Result<store::PutMessageResult> r,
              int32_t code_if_stored, const std::string& remark) const;
  const BrokerConfig& broker_;
  const Clock* clock_ = &SystemClock();
  BrokerStats* stats_ = nullptr;
  BrokerMetrics* metrics_ = nullptr;  // metricsExporterType=PROM only
  store::MessageStore& store_;
  TopicConfigManager& topics_;
  SubscriptionGroupManager& groups_;
  const std::function<void()> on_topic_created_;
  ha::HaService* const ha_;
};

}  // namespace fmq::server
