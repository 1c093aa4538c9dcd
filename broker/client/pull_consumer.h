#pragma once

// PullConsumer: the application chooses queues and offsets itself (Java's DefaultMQPullConsumer):
// PULL_MESSAGE (11) of one queue from an offset, with long polling, the body decoded into messages and
// filtered by tag on the client too (the broker's tag-hash check is only a pre-filter); plus the offset
// commands (14, 15, 29, 30, 31) the PushConsumer builds on. Pulls carry the subscription (SUBSCRIPTION flag),
// so no heartbeat is needed.
//
// Created by the application (ferryctl consume, the bench); Start() before use, Stop() before destruction.
// Thread-safety: all methods may be called from any thread. PullAsync callbacks run on a network thread and
// must not block or call synchronous APIs.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/client/client_core.h"
#include "broker/client/types.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::client {

// A TAG subscription: "*" or "a || b".
struct Subscription {
  std::string topic;
  std::string expression = "*";
  std::set<std::string> tags;  // empty: every message
  int64_t sub_version = 0;     // creation time in ms (Java's subVersion)

  static Subscription Parse(std::string topic, std::string expression);
  bool Matches(const std::string& message_tags) const { return tags.empty() || tags.count(message_tags) > 0; }
};

struct PullConsumerConfig {
  std::string group = "DEFAULT_CONSUMER";
  ClientOptions client;
  // Network timeout of a pull; must exceed the long-polling hold (Java: 30 s vs 15 s).
  std::chrono::milliseconds pull_timeout{30'000};
};

class PullConsumer {
 public:
  using PullCallback = std::function<void(Result<PullResult>)>;

  explicit PullConsumer(PullConsumerConfig config);
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  Status Start();
  void Stop();

  Result<std::vector<MessageQueue>> FetchSubscribeQueues(const std::string& topic);
  // `hold`: long-polling time the broker may park the request when nothing is new (0: answer at once).
  Result<PullResult> Pull(const MessageQueue& mq, const Subscription& sub, int64_t offset, int max_nums,
                          std::chrono::milliseconds hold);
  void PullAsync(const MessageQueue& mq, const Subscription& sub, int64_t offset, int max_nums,
                 std::chrono::milliseconds hold, PullCallback callback);

  Result<int64_t> MaxOffset(const MessageQueue& mq);
  Result<int64_t> MinOffset(const MessageQueue& mq);
  Result<int64_t> SearchOffset(const MessageQueue& mq, int64_t timestamp_ms);
  // The group's committed offset; nullopt when the broker has none (QUERY_NOT_FOUND, code 22).
  Result<std::optional<int64_t>> FetchConsumeOffset(const MessageQueue& mq);
  // UPDATE_CONSUMER_OFFSET; oneway as Java's periodic commit, or waiting for the answer.
  Status UpdateConsumeOffset(const MessageQueue& mq, int64_t offset, bool oneway);

  ClientCore& core() { return core_; }
  const ClientCore& core() const { return core_; }
  const std::string& group() const { return config_.group; }

 private:
  // The broker a queue is read from: the one the last pull's suggestWhichBrokerId named, else the master,
  // else any member of the group (Java's pullFromWhichNodeTable and findBrokerAddressInSubscribe). Offset
  // commits and queries go to the same place, as Java's do when the master is gone.
  Result<std::string> BrokerOf(const MessageQueue& mq) FMQ_EXCLUDES(mu_);
  void NoteSuggestion(const MessageQueue& mq, const Result<PullResult>& r) FMQ_EXCLUDES(mu_);
  void HandlePullResponse(Result<protocol::RemotingCommand> resp, const MessageQueue& mq,
                          const Subscription& sub, const PullCallback& callback);
  Result<int64_t> QueueOffsetCommand(int32_t code, const MessageQueue& mq, std::optional<int64_t> timestamp);

  const PullConsumerConfig config_;
  ClientCore core_;
  bool started_ = false;
  Mutex mu_;
  std::map<MessageQueue, int64_t> pull_from_ FMQ_GUARDED_BY(mu_);
};

// The PULL_MESSAGE request (sysFlag: SUSPEND when `hold` > 0, SUBSCRIPTION, COMMIT_OFFSET when
// `commit_offset` > 0).
protocol::RemotingCommand MakePullRequest(const std::string& group, const MessageQueue& mq,
                                          const Subscription& sub, int64_t offset, int max_nums,
                                          std::chrono::milliseconds hold, int64_t commit_offset);
// Maps a pull response: 0 FOUND (body decoded, tag-filtered, MIN/MAX_OFFSET added), 19 NO_NEW_MSG,
// 20 NO_MATCHED_MSG, 21 OFFSET_ILLEGAL, anything else an error.
Result<PullResult> ProcessPullResponse(const protocol::RemotingCommand& response, const MessageQueue& mq,
                                       const Subscription& sub);

}  // namespace fmq::client
