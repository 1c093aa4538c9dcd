#pragma once

// Producer: sends messages the way Java's DefaultMQProducer does (protocol reference 2.2, 11.2):
//  * SEND_MESSAGE_V2 (310) for single messages, SEND_BATCH_MESSAGE (320) with a batch body for batches;
//  * every message gets a UNIQ_KEY (UniqueIdGenerator, Java's layout), plus TAGS, KEYS and WAIT=true;
//  * queues are chosen round-robin over the topic's writable queues; a failed attempt (transport error,
//    timeout, or response code 17/14/1/16/204/205) is retried on a queue of another broker, up to
//    1 + retry_times_when_send_failed attempts within send_timeout; codes 10/11/12 are successes with a
//    degraded status;
//  * a topic without a route fails with "No route info of this topic: <topic>", the Java client's text.
// Routes are refreshed every 30 s, and the producer group heartbeats to every master every 30 s.
//
// Created by the application; Start() before sending, Stop() (idempotent; unregisters from the brokers)
// before destruction. Thread-safety: every Send* may be called from any thread concurrently. SendAsync
// callbacks run on a network thread: they must not block and must not call synchronous APIs.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/client/client_core.h"
#include "broker/client/internal/periodic.h"
#include "broker/client/types.h"
#include "broker/client/unique_id.h"
#include "broker/net/executor.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::client {

struct ProducerConfig {
  std::string group = "DEFAULT_PRODUCER";
  ClientOptions client;
  // Overall time budget of one send including its retries (sendMsgTimeout).
  std::chrono::milliseconds send_timeout{3'000};
  // Extra attempts after a failed synchronous send (retryTimesWhenSendFailed); another broker is preferred.
  int retry_times_when_send_failed = 2;
  // Extra attempts after a failed asynchronous send (retryTimesWhenSendAsyncFailed).
  int retry_times_when_send_async_failed = 2;
  // WAIT property: the broker answers only after the message is flushed/replicated as it is configured.
  bool wait_store_msg_ok = true;
  // Largest body accepted (the broker's maxMessageSize default).
  size_t max_message_size = 4 * 1024 * 1024;
  // Heartbeat the producer group to the masters (lets admin tools list producer connections).
  bool heartbeat = true;
};

class Producer {
 public:
  using SendCallback = std::function<void(Result<SendResult>)>;

  explicit Producer(ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  Status Start();
  void Stop();

  Result<SendResult> Send(const Message& msg);
  // Sends to one queue, without retries on other queues.
  Result<SendResult> Send(const Message& msg, const MessageQueue& queue);
  void SendAsync(const Message& msg, SendCallback callback);
  // Fire and forget: one attempt, no response.
  Status SendOneway(const Message& msg);
  // All messages must have the same topic; one SEND_BATCH_MESSAGE.
  Result<SendResult> SendBatch(const std::vector<Message>& msgs);

  const std::string& client_id() const { return core_.client_id(); }
  ClientCore& core() { return core_; }

 private:
  struct Prepared;
  struct AsyncSend;

  // `copy_body`: false when the caller's message outlives the send (synchronous sends).
  Result<std::shared_ptr<Prepared>> Prepare(const Message& msg, bool copy_body);
  Result<std::shared_ptr<Prepared>> PrepareBatch(const std::vector<Message>& msgs);
  Result<SendResult> SendWithRetries(const std::shared_ptr<Prepared>& p, int max_attempts);
  protocol::RemotingCommand CommandFor(Prepared& p, const MessageQueue& mq) const;
  void AsyncAttempt(std::shared_ptr<AsyncSend> send);
  void SendHeartbeat();

  const ProducerConfig config_;
  ClientCore core_;
  UniqueIdGenerator ids_;
  net::BoundedExecutor retry_executor_{"producer-retry", 1, 100'000};
  internal::PeriodicTasks tasks_{"producer-tasks"};
  bool started_ = false;
};

// True for the response codes a producer retries on another broker (Java's retryResponseCodes).
bool IsRetriableSendCode(int32_t code);
// Maps a SEND_MESSAGE response to a SendResult or an error.
Result<SendResult> ProcessSendResponse(const protocol::RemotingCommand& response, const MessageQueue& mq,
                                       const std::string& uniq_id);

}  // namespace fmq::client
