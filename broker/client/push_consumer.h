#pragma once

// PushConsumer: clustering consumption as Java's DefaultMQPushConsumer does it (protocol reference 11.3):
//  * heartbeat (34) with the group's subscriptions to every broker of its routes every 30 s;
//  * rebalance every 20 s and at once on NOTIFY_CONSUMER_IDS_CHANGED (40): per subscribed topic, the
//    readable queues and GET_CONSUMER_LIST_BY_GROUP (38), both sorted, allocated with AllocateAveragely;
//  * a newly assigned queue starts at the group's committed offset (14); QUERY_NOT_FOUND (22) applies
//    consume_from_where (last: GET_MAX_OFFSET, first: 0, timestamp: SEARCH_OFFSET_BY_TIMESTAMP);
//  * one pull loop per queue with long polling (15 s hold), 32 messages per pull, flow control at 1000
//    cached messages per queue, 1 s back-off after errors; OFFSET_ILLEGAL moves to nextBeginOffset;
//  * the listener gets batches of up to consume_batch_size messages on a pool of consume threads; tags are
//    filtered on the client too;
//  * the consumed offset (lowest message still in process, else the highest + 1) is committed every 5 s
//    (oneway), when a queue is taken away, and at Stop(), which then unregisters (35) from every broker.
//  * a batch the listener fails is sent back message by message (CONSUMER_SEND_MSG_BACK, 36: the broker
//    redelivers it through %RETRY%<group>, which this consumer subscribes); a message the broker does not
//    take back is consumed again locally after 1 s.
// Not yet: orderly consumption; broadcasting.
//
// Created by the application; Subscribe()/SetListener() before Start(); Stop() before destruction.
// Thread-safety: Start/Stop from one thread; the listener runs on consume threads concurrently.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/client/client_core.h"
#include "broker/client/internal/periodic.h"
#include "broker/client/internal/scheduler.h"
#include "broker/client/pull_consumer.h"
#include "broker/client/types.h"
#include "broker/model/admin_body.h"
#include "broker/model/heartbeat.h"
#include "broker/net/executor.h"

namespace fmq::client {

enum class ConsumeStatus { kSuccess, kReconsumeLater };
using MessageListener = std::function<ConsumeStatus(const std::vector<MessageExt>&)>;

struct PushConsumerConfig {
  std::string group = "DEFAULT_CONSUMER";
  ClientOptions client;
  model::ConsumeFromWhere consume_from_where = model::ConsumeFromWhere::kLastOffset;
  // For kTimestamp: start time in ms (Java default: 30 minutes ago).
  int64_t consume_timestamp_ms = 0;
  int pull_batch_size = 32;
  int consume_batch_size = 1;  // consumeMessageBatchMaxSize
  int consume_threads = 4;
  // Cached messages per queue above which pulls pause (pullThresholdForQueue).
  int pull_threshold_for_queue = 1000;
  std::chrono::milliseconds suspend_timeout{15'000};  // long-polling hold asked of the broker
  std::chrono::milliseconds pull_timeout{30'000};
  std::chrono::milliseconds rebalance_interval{20'000};
  std::chrono::milliseconds persist_interval{5'000};
  std::chrono::milliseconds pull_delay_on_error{1'000};
  // Deliveries before the broker moves a message to %DLQ%<group> (maxReconsumeTimes).
  int32_t max_reconsume_times = 16;
};

class PushConsumer {
 public:
  explicit PushConsumer(PushConsumerConfig config);
  ~PushConsumer();
  PushConsumer(const PushConsumer&) = delete;
  PushConsumer& operator=(const PushConsumer&) = delete;

  // `expression`: "*" or "tagA || tagB".
  void Subscribe(const std::string& topic, const std::string& expression);
  void SetListener(MessageListener listener) { listener_ = std::move(listener); }

  Status Start();
  void Stop();

  // False from the moment Stop() begins: a listener that holds back a message can wait for it and then
  // return kReconsumeLater, which is then neither sent back nor committed.
  bool IsRunning() const { return running_.load(); }
  // Runs a rebalance now (tests, tools).
  void RebalanceNow();
  // Queues assigned to this consumer.
  std::vector<MessageQueue> AssignedQueues() const FMQ_EXCLUDES(mu_);
  // Committable offset of every assigned queue.
  std::map<MessageQueue, int64_t> ConsumedOffsets() const FMQ_EXCLUDES(mu_);
  const std::string& client_id() const { return pull_.core().client_id(); }
  // What it answers GET_CONSUMER_RUNNING_INFO (consoles, the operator's ConsumerGroup health): push and not
  // orderly, its subscriptions, per assigned queue the messages held and when it last pulled and consumed,
  // per topic its consume rates of the last minute and its failures of the last hour.
  model::ConsumerRunningInfo RunningInfo() const FMQ_EXCLUDES(mu_, stats_mu_);

 private:
  struct ProcessQueue;

  void SendHeartbeat();
  void Rebalance();
  void RebalanceTopic(const Subscription& sub);
  Result<int64_t> InitialOffset(const MessageQueue& mq);
  void PersistOffsets(bool oneway);
  void Unregister();
  void SchedulePull(std::shared_ptr<ProcessQueue> pq, std::chrono::milliseconds delay);
  void DoPull(std::shared_ptr<ProcessQueue> pq);
  void OnPulled(std::shared_ptr<ProcessQueue> pq, Result<PullResult> result);
  void Consume(std::shared_ptr<ProcessQueue> pq, std::vector<MessageExt> msgs);
  bool SendBack(const MessageExt& m);
  void OnBrokerRequest(protocol::RemotingCommand request, net::Responder responder);
  // RESET_CONSUMER_CLIENT_OFFSET, on the task thread (where offsets are also persisted): drop the reset
  // queues and what was pulled from them, commit the broker's new offsets, rebalance to read from there.
  void ApplyResets();

  const PushConsumerConfig config_;
  PullConsumer pull_;
  MessageListener listener_;
  std::vector<Subscription> subscriptions_;  // fixed after Start()
  model::HeartbeatData heartbeat_;           // fixed after Start()
  net::BoundedExecutor consume_executor_;
  internal::Scheduler scheduler_;
  internal::PeriodicTasks tasks_{"push-consumer"};
  size_t rebalance_task_ = 0;
  size_t reset_task_ = 0;
  Mutex reset_mu_;
  std::vector<model::ResetOffsetTable> pending_resets_ FMQ_GUARDED_BY(reset_mu_);
  std::atomic<bool> running_{false};
  mutable Mutex mu_;
  std::map<MessageQueue, std::shared_ptr<ProcessQueue>> queues_ FMQ_GUARDED_BY(mu_);
  // Consumptions per topic and minute, the last hour only (RunningInfo's statusTable).
  struct ConsumeMinute {
    int64_t minute = 0;
    int64_t ok = 0;
    int64_t failed = 0;
    int64_t rt_ms = 0;  // summed over the listener calls
    int64_t calls = 0;
  };
  void CountConsumed(const std::string& topic, int64_t ok, int64_t failed, int64_t rt_ms)
      FMQ_EXCLUDES(stats_mu_);
  mutable Mutex stats_mu_;
  std::map<std::string, std::vector<ConsumeMinute>> consumed_ FMQ_GUARDED_BY(stats_mu_);
  const int64_t started_ms_;
};

}  // namespace fmq::client
