#pragma once

// PullMessageProcessor: PULL_MESSAGE (11) with long polling (protocol reference 2.3).
//
// Checks in the Java broker's order (broker readable, subscription group, topic, queue id, subscription),
// reads up to maxMsgNums records from the store through the subscription's filter (tag hash codes, or an
// SQL92 selector on the properties, subscription_filter.h) and answers with the raw records back to back.
// When nothing is there yet and the client allowed suspension, the request is parked in the
// PullRequestHoldService and answered later: when a matching message arrives or the hold time ends (the
// client's suspendTimeoutMillis with longPollingEnable, else shortPollingTimeMills). A pull with the
// COMMIT_OFFSET flag also stores the client's committed offset (master only, first processing only).
//
// Thread-safety: Handle() and Process() may run on many executor threads at once.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/ha/ha_service.h"
#include "broker/model/heartbeat.h"
#include "broker/net/connection.h"
#include "broker/server/broker_config.h"
#include "broker/server/broker_metrics.h"
#include "broker/server/broker_stats.h"
#include "broker/server/client_registry.h"
#include "broker/server/consumer_offset_manager.h"
#include "broker/server/subscription_filter.h"
#include "broker/server/subscription_group_manager.h"
#include "broker/server/topic_config_manager.h"
#include "broker/store/message_store.h"

namespace fmq::server {

// Parked pulls by queue (RocketMQ's PullRequestHoldService). The store's dispatcher calls
// NotifyMessageArriving for every message it makes consumable; a housekeeping pass (every `check_interval`
// and at the earliest hold deadline) wakes requests whose queue grew or whose hold time ended. Woken requests
// are handed to `rerun`, which re-executes them on the pull executor with suspension disabled.
//
// Created and stopped by the broker's composition root. Thread-safety: all public methods from any thread.
class PullRequestHoldService : public ServiceThread {
 public:
  struct PullRequest {
    protocol::RemotingCommand request;
    net::Responder responder;
    int64_t pull_from = 0;
    int64_t suspend_at_ms = 0;
    int64_t hold_ms = 0;
    std::shared_ptr<const SubscriptionFilter> filter;
  };
  using Rerun = std::function<void(protocol::RemotingCommand, net::Responder)>;

  PullRequestHoldService(const store::MessageStore& store, const Clock& clock, Rerun rerun,
                         std::chrono::milliseconds check_interval = std::chrono::milliseconds(5000));
  ~PullRequestHoldService() override;

  void Suspend(const std::string& topic, int32_t queue_id, PullRequest request) FMQ_EXCLUDES(mu_);
  // From the dispatcher: `next_offset` is the queue's new max offset.
  void NotifyMessageArriving(std::string_view topic, int32_t queue_id, int64_t next_offset, int64_t tags_code)
      FMQ_EXCLUDES(mu_);
  size_t parked() const { return parked_.load(std::memory_order_relaxed); }
  // Wakes requests whose queue grew or whose hold ended, now (tests; Run() does this periodically).
  void CheckAll() FMQ_EXCLUDES(mu_);

 protected:
  void Run() override;

 private:
  using Key = std::pair<std::string, int32_t>;
  // Orders keys and lets the dispatcher look up with a string_view (no allocation per message).
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const std::string_view at(a.first), bt(b.first);
      return at != bt ? at < bt : a.second < b.second;
    }
  };
  // Takes the requests of `queue` that `ready` accepts out of the table.
  std::vector<PullRequest> TakeReady(std::vector<PullRequest>& queue, int64_t max_offset,
                                     std::optional<int64_t> tags_code, int64_t now);

  const store::MessageStore& store_;
  const Clock& clock_;
  const Rerun rerun_;
  const std::chrono::milliseconds check_interval_;
  Mutex mu_;
  std::map<Key, std::vector<PullRequest>, KeyLess> table_ FMQ_GUARDED_BY(mu_);
  std::atomic<size_t> parked_{0};
};

class PullMessageProcessor {
 public:
  // References outlive the processor.
  PullMessageProcessor(const BrokerConfig& broker, store::MessageStore& store, TopicConfigManager& topics,
                       SubscriptionGroupManager& groups, ClientRegistry& clients,
                       ConsumerOffsetManager& offsets, const Clock& clock);

  // Must be called before the first Handle() (the hold service is created after the processor).
  void set_hold_service(PullRequestHoldService* hold) { hold_ = hold; }
  // Optional (tests run without it): the replication role. As RocketMQ 4.9.7, a slave answers pulls with what
  // it holds (bounded by the master's confirm offset) whatever slaveReadEnable says; without slaveReadEnable
  // it suggests the master (suggestWhichBrokerId 0) for the next pull, and never moves a consumer's offset.
  void set_ha(const ha::HaService* ha) { ha_ = ha; }
  // Optional: counts the messages pulls return (msgGetTotal*, getTransferedTps).
  void set_stats(BrokerStats* stats) { stats_ = stats; }
  void set_metrics(BrokerMetrics* metrics) { metrics_ = metrics; }

  void Handle(protocol::RemotingCommand request, net::Responder responder) {
    Process(std::move(request), std::move(responder), /*allow_suspend=*/true);
  }
  // `allow_suspend` is false when a parked request is re-executed.
  void Process(protocol::RemotingCommand request, net::Responder responder, bool allow_suspend);

 private:
  // RocketMQ's accessMessageInMemoryMaxRatio test: the pulled data lies further behind the log end than that
  // share of the machine's memory.
  bool IsColdRead(const store::GetMessageResult& got) const;
  // The SQL92 selector of a non-TAG subscription (InvalidArgument: not SQL92, or does not compile).
  Result<std::shared_ptr<const filter::Sql92Expression>> CompileSelector(const model::SubscriptionData& sub);
  const BrokerConfig& broker_;
  store::MessageStore& store_;
  TopicConfigManager& topics_;
  SubscriptionGroupManager& groups_;
  ClientRegistry& clients_;
  ConsumerOffsetManager& offsets_;
  const Clock& clock_;
  PullRequestHoldService* hold_ = nullptr;
  const ha::HaService* ha_ = nullptr;
  BrokerStats* stats_ = nullptr;
  BrokerMetrics* metrics_ = nullptr;  // metricsExporterType=PROM only
  Sql92Cache sql92_;
};

}  // namespace fmq::server
