#pragma once

// Transactions (RocketMQ 4.9's TransactionalMessageBridge, EndTransactionProcessor and check service).
//
// * A send with TRAN_MSG=true is a half message: stored in RMQ_SYS_TRANS_HALF_TOPIC queue 0 with its topic
// and
//   queue in REAL_TOPIC / REAL_QID and its transaction type reset, so it is durable (and replicated) but no
//   consumer sees it (ToHalfMessage; the send processor calls it).
// * END_TRANSACTION (37) commit stores the message again under its real topic and queue (type COMMIT,
//   PREPARED_TRANSACTION_OFFSET = the half's offset, without TRAN_MSG / REAL_TOPIC / REAL_QID; a DELAY level
//   still applies), then an op record; rollback writes only the op record; unknown (0) does nothing. An op
//   record is a message of RMQ_SYS_TRANS_OP_HALF_TOPIC queue 0 whose tag is "d" and whose body is the half's
//   queue offset.
// * Every transactionCheckInterval a writable master walks the half queue from its progress offset: halves
//   with an op record are done; a half older than transactionTimeOut (or its CHECK_IMMUNITY_TIME_IN_SECONDS)
//   is stored again at the end of the half queue with TRANSACTION_CHECK_TIMES + 1 and the producer group
//   (PGROUP) is asked for its state: CHECK_TRANSACTION_STATE (39) to one live producer of that group, which
//   answers with END_TRANSACTION. A half checked transactionCheckMax times is discarded to
//   TRANS_CHECK_MAX_TIME_TOPIC and counted. The walk stops at the first half that is too young.
//   Progress of the half and op queues is the consumer offset of group CID_SYS_RMQ_TRANS
//   (consumerOffset.json, copied by slaves), as in RocketMQ, so state survives restarts and failovers: a half
//   whose END_TRANSACTION was lost is checked again, never dropped.
//
// Created by the broker's composition root; everything it references outlives it.
// Thread-safety: HandleEndTransaction may run on many threads at once; CheckOnce runs on the service thread
// (or a test's).

#include <atomic>
#include <cstdint>
#include <functional>

#include "broker/base/clock.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/model/message.h"
#include "broker/net/connection.h"
#include "broker/protocol/remoting_command.h"
#include "broker/server/client_registry.h"
#include "broker/server/consumer_offset_manager.h"
#include "broker/server/topic_config_manager.h"
#include "broker/store/message_store.h"

namespace fmq::server {

inline constexpr const char* kTransHalfTopic = "RMQ_SYS_TRANS_HALF_TOPIC";
inline constexpr const char* kTransOpHalfTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
inline constexpr const char* kTransCheckMaxTimeTopic = "TRANS_CHECK_MAX_TIME_TOPIC";
inline constexpr const char* kTransCheckGroup = "CID_SYS_RMQ_TRANS";

// Turns a prepared send into its half message (parseHalfMessageInner).
void ToHalfMessage(model::StoredMessage* msg);

class TransactionService : public ServiceThread {
 public:
  struct Options {
    int64_t timeout_ms = 6000;
    int64_t check_interval_ms = 60'000;
    int64_t check_max = 15;
  };
  // `may_serve`: whether this broker is a writable master now.
  TransactionService(Options options, store::MessageStore& store, ConsumerOffsetManager& offsets,
                     ClientRegistry& clients, TopicConfigManager& topics, const Clock& clock,
                     std::function<bool()> may_serve, std::function<void()> on_topic_created);
  ~TransactionService() override;

  // END_TRANSACTION (37).
  void HandleEndTransaction(protocol::RemotingCommand request, net::Responder responder);
  // The same without the wire: the answer (tests, and the handler).
  protocol::RemotingCommand EndTransaction(const protocol::RemotingCommand& request);

  struct CheckRound {
    int checked = 0;    // halves renewed and asked about
    int asked = 0;      // of those, sent to a live producer
    int discarded = 0;  // halves past transactionCheckMax
    int64_t half_offset = 0;
  };
  // One check round over the half queue.
  CheckRound CheckOnce();
  int64_t discarded_total() const { return discarded_total_.load(); }

 protected:
  void Run() override;

 private:
  Status WriteOp(const model::StoredMessage& half);
  Status Discard(const model::StoredMessage& half);
  // Sends CHECK_TRANSACTION_STATE for the renewed half (real topic and queue) to one live producer of its
  // group. False when no producer of the group is connected.
  bool AskProducer(const model::StoredMessage& renewed);

  const Options options_;
  store::MessageStore& store_;
  ConsumerOffsetManager& offsets_;
  ClientRegistry& clients_;
  TopicConfigManager& topics_;
  const Clock& clock_;
  const std::function<bool()> may_serve_;
  const std::function<void()> on_topic_created_;
  std::atomic<int64_t> discarded_total_{0};
};

}  // namespace fmq::server
