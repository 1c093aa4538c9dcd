#include "broker/client/pull_consumer.h"

#include "broker/base/clock.h"
#include "broker/client/internal/remoting_util.h"
#include "broker/model/heartbeat.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::client {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

Subscription Subscription::Parse(std::string topic, std::string expression) {
  Subscription s;
  s.topic = std::move(topic);
  s.expression = expression.empty() ? "*" : std::move(expression);
  std::set<int32_t> codes;
  model::ParseTagExpression(s.expression, &s.tags, &codes);
  s.sub_version = SystemClock().NowMillis();
  return s;
}

RemotingCommand MakePullRequest(const std::string& group, const MessageQueue& mq, const Subscription& sub,
                                int64_t offset, int max_nums, std::chrono::milliseconds hold,
                                int64_t commit_offset) {
  protocol::PullMessageRequestHeader h;
  h.consumer_group = group;
  h.topic = mq.topic;
  h.queue_id = mq.queue_id;
  h.queue_offset = offset;
  h.max_msg_nums = max_nums;
  h.sys_flag = protocol::pull_sys_flag::kSubscription;
  if (hold.count() > 0) h.sys_flag |= protocol::pull_sys_flag::kSuspend;
  if (commit_offset > 0) h.sys_flag |= protocol::pull_sys_flag::kCommitOffset;
  h.commit_offset = commit_offset;
  h.suspend_timeout_millis = hold.count();
  h.subscription = sub.expression;
  h.sub_version = sub.sub_version;
  h.expression_type = "TAG";
  return internal::MakeRequest(rq::kPullMessage, h);
}

Result<PullResult> ProcessPullResponse(const RemotingCommand& response, const MessageQueue& mq,
                                       const Subscription& sub) {
  PullResult r;
  switch (response.code) {
    case rc::kSuccess:
      r.status = PullStatus::kFound;
      break;
    case rc::kPullNotFound:
      r.status = PullStatus::kNoNewMsg;
      break;
    case rc::kPullRetryImmediately:
      r.status = PullStatus::kNoMatchedMsg;
      break;
    case rc::kPullOffsetMoved:
      r.status = PullStatus::kOffsetIllegal;
      break;
    default:
      return internal::ResponseError(response, "pull " + QueueName(mq));
  }
  FMQ_ASSIGN_OR_RETURN(auto h, internal::DecodeResponseHeader<protocol::PullMessageResponseHeader>(response));
  r.next_begin_offset = h.next_begin_offset;
  r.min_offset = h.min_offset;
  r.max_offset = h.max_offset;
  r.suggest_which_broker_id = h.suggest_which_broker_id;
  if (r.status != PullStatus::kFound) return r;
  FMQ_ASSIGN_OR_RETURN(auto msgs, DecodeMessages({reinterpret_cast<const uint8_t*>(response.body.data()),
                                                  response.body.size()},
                                                 mq.broker_name));
  r.messages.reserve(msgs.size());
  const std::string min = std::to_string(h.min_offset), max = std::to_string(h.max_offset);
  for (auto& m : msgs) {
    if (!sub.Matches(m.tags)) continue;
    m.properties[property::kMinOffset] = min;
    m.properties[property::kMaxOffset] = max;
    r.messages.push_back(std::move(m));
  }
  if (r.messages.empty()) r.status = PullStatus::kNoMatchedMsg;
  return r;
}

PullConsumer::PullConsumer(PullConsumerConfig config) : config_(std::move(config)), core_(config_.client) {}

PullConsumer::~PullConsumer() { Stop(); }

Status PullConsumer::Start() {
  if (started_) return Status::Ok();
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config_.group));
  FMQ_RETURN_IF_ERROR(core_.Start());
  started_ = true;
  return Status::Ok();
}

void PullConsumer::Stop() {
  if (!started_) return;
  started_ = false;
  core_.Stop();
}

Result<std::vector<MessageQueue>> PullConsumer::FetchSubscribeQueues(const std::string& topic) {
  FMQ_RETURN_IF_ERROR(core_.routes().RefreshTopic(topic));
  return core_.routes().GetSubscribeQueues(topic);
}

Result<std::string> PullConsumer::BrokerOf(const MessageQueue& mq) {
  int64_t preferred = 0;
  {
    MutexLock lock(&mu_);
    if (auto it = pull_from_.find(mq); it != pull_from_.end()) preferred = it->second;
  }
  auto addr = core_.routes().ReadAddr(mq.broker_name, preferred);
  if (!addr) {
    (void)core_.routes().RefreshTopic(mq.topic);
    addr = core_.routes().ReadAddr(mq.broker_name, preferred);
  }
  if (!addr) return Status::NotFound("The broker[" + mq.broker_name + "] not exist");
  return *addr;
}

void PullConsumer::NoteSuggestion(const MessageQueue& mq, const Result<PullResult>& r) {
  if (!r.ok()) return;
  MutexLock lock(&mu_);
  pull_from_[mq] = r->suggest_which_broker_id;
}

Result<PullResult> PullConsumer::Pull(const MessageQueue& mq, const Subscription& sub, int64_t offset,
                                      int max_nums, std::chrono::milliseconds hold) {
  FMQ_ASSIGN_OR_RETURN(auto addr, BrokerOf(mq));
  FMQ_ASSIGN_OR_RETURN(
      auto resp,
      core_.remoting()->InvokeSync(addr, MakePullRequest(config_.group, mq, sub, offset, max_nums, hold, 0),
                                   hold + config_.pull_timeout));
  auto result = ProcessPullResponse(resp, mq, sub);
  NoteSuggestion(mq, result);
  return result;
}

void PullConsumer::PullAsync(const MessageQueue& mq, const Subscription& sub, int64_t offset, int max_nums,
                             std::chrono::milliseconds hold, PullCallback callback) {
  auto addr = BrokerOf(mq);
  if (!addr.ok()) {
    callback(addr.status());
    return;
  }
  core_.remoting()->InvokeAsync(
      *addr, MakePullRequest(config_.group, mq, sub, offset, max_nums, hold, 0), hold + config_.pull_timeout,
      [this, mq, sub, callback = std::move(callback)](Result<RemotingCommand> resp) {
        HandlePullResponse(std::move(resp), mq, sub, callback);
      });
}

// Out of line: inlined into the callback's std::function, GCC 12 -O3 warns that the error Status copied out
// of `resp` may be uninitialized (-Wmaybe-uninitialized, a false positive: it is read only when !resp.ok()).
[[gnu::noinline]] void PullConsumer::HandlePullResponse(Result<RemotingCommand> resp, const MessageQueue& mq,
                                                        const Subscription& sub,
                                                        const PullCallback& callback) {
  if (!resp.ok()) {
    callback(resp.status());
    return;
  }
  auto result = ProcessPullResponse(*resp, mq, sub);
  NoteSuggestion(mq, result);
  callback(std::move(result));
}

Result<int64_t> PullConsumer::QueueOffsetCommand(int32_t code, const MessageQueue& mq,
                                                 std::optional<int64_t> timestamp) {
  FMQ_ASSIGN_OR_RETURN(auto addr, BrokerOf(mq));
  protocol::QueueHeader h;
  h.topic = mq.topic;
  h.queue_id = mq.queue_id;
  h.timestamp = timestamp;
  FMQ_ASSIGN_OR_RETURN(auto resp, core_.remoting()->InvokeSync(addr, internal::MakeRequest(code, h),
                                                               config_.client.rpc_timeout));
  if (resp.code != rc::kSuccess) {
    return internal::ResponseError(resp, std::string(protocol::RequestCodeName(code)) + " " + QueueName(mq));
  }
  FMQ_ASSIGN_OR_RETURN(auto r, internal::DecodeResponseHeader<protocol::OffsetResponseHeader>(resp));
  return r.offset;
}

Result<int64_t> PullConsumer::MaxOffset(const MessageQueue& mq) {
  return QueueOffsetCommand(rq::kGetMaxOffset, mq, std::nullopt);
}
Result<int64_t> PullConsumer::MinOffset(const MessageQueue& mq) {
  return QueueOffsetCommand(rq::kGetMinOffset, mq, std::nullopt);
}
Result<int64_t> PullConsumer::SearchOffset(const MessageQueue& mq, int64_t timestamp_ms) {
  return QueueOffsetCommand(rq::kSearchOffsetByTimestamp, mq, timestamp_ms);
}

Result<std::optional<int64_t>> PullConsumer::FetchConsumeOffset(const MessageQueue& mq) {
  FMQ_ASSIGN_OR_RETURN(auto addr, BrokerOf(mq));
  protocol::ConsumerQueueHeader h;
  h.consumer_group = config_.group;
  h.topic = mq.topic;
  h.queue_id = mq.queue_id;
  FMQ_ASSIGN_OR_RETURN(auto resp,
                       core_.remoting()->InvokeSync(addr, internal::MakeRequest(rq::kQueryConsumerOffset, h),
                                                    config_.client.rpc_timeout));
  if (resp.code == rc::kQueryNotFound) return std::optional<int64_t>();
  if (resp.code != rc::kSuccess)
    return internal::ResponseError(resp, "query consumer offset " + QueueName(mq));
  FMQ_ASSIGN_OR_RETURN(auto r, internal::DecodeResponseHeader<protocol::OffsetResponseHeader>(resp));
  return std::optional<int64_t>(r.offset);
}

Status PullConsumer::UpdateConsumeOffset(const MessageQueue& mq, int64_t offset, bool oneway) {
  FMQ_ASSIGN_OR_RETURN(auto addr, BrokerOf(mq));
  protocol::ConsumerQueueHeader h;
  h.consumer_group = config_.group;
  h.topic = mq.topic;
  h.queue_id = mq.queue_id;
  h.commit_offset = offset;
  RemotingCommand req = internal::MakeRequest(rq::kUpdateConsumerOffset, h);
  if (oneway) return core_.remoting()->InvokeOneway(addr, std::move(req));
  FMQ_ASSIGN_OR_RETURN(auto resp,
                       core_.remoting()->InvokeSync(addr, std::move(req), config_.client.rpc_timeout));
  if (resp.code != rc::kSuccess)
    return internal::ResponseError(resp, "update consumer offset " + QueueName(mq));
  return Status::Ok();
}

}  // namespace fmq::client
