#include "broker/server/pull_message_processor.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::server {

namespace rc = protocol::response_code;
namespace psf = protocol::pull_sys_flag;
using protocol::RemotingCommand;
using store::GetMessageStatus;

// ---------------------------------------------------------------- PullRequestHoldService

PullRequestHoldService::PullRequestHoldService(const store::MessageStore& store, const Clock& clock,
                                               Rerun rerun, std::chrono::milliseconds check_interval)
    : ServiceThread("pull-hold"),
      store_(store),
      clock_(clock),
      rerun_(std::move(rerun)),
      check_interval_(check_interval) {}

PullRequestHoldService::~PullRequestHoldService() { Stop(); }

void PullRequestHoldService::Suspend(const std::string& topic, int32_t queue_id, PullRequest request) {
  {
    MutexLock lock(&mu_);
    table_[Key(topic, queue_id)].push_back(std::move(request));
    parked_.fetch_add(1, std::memory_order_relaxed);
  }
  // A message may have arrived between the read that found nothing and parking: check this queue now.
  NotifyMessageArriving(topic, queue_id, store_.MaxOffsetInQueue(topic, QueueId(queue_id)).value(),
                        /*tags_code=*/0);
  Wakeup();  // re-plan the next deadline
}

std::vector<PullRequestHoldService::PullRequest> PullRequestHoldService::TakeReady(
    std::vector<PullRequest>& queue, int64_t max_offset, std::optional<int64_t> tags_code, int64_t now) {
  std::vector<PullRequest> ready;
  for (auto it = queue.begin(); it != queue.end();) {
    auto conn = it->responder.connection();
    const bool gone = !conn || conn->closed();
    bool wake = gone || now >= it->suspend_at_ms + it->hold_ms;
    if (!wake && max_offset > it->pull_from) {
      // A message for this queue: wake if it may match (an unknown tag code always may).
      wake = !tags_code || it->filter->IsMatchedByConsumeQueue(*tags_code);
    }
    if (!wake) {
      ++it;
      continue;
    }
    if (!gone) ready.push_back(std::move(*it));
    it = queue.erase(it);
    parked_.fetch_sub(1, std::memory_order_relaxed);
  }
  return ready;
}

void PullRequestHoldService::NotifyMessageArriving(std::string_view topic, int32_t queue_id,
                                                   int64_t next_offset, int64_t tags_code) {
  if (parked_.load(std::memory_order_relaxed) == 0) return;  // the dispatcher's common case: nobody waits
  std::vector<PullRequest> ready;
  {
    MutexLock lock(&mu_);
    auto it = table_.find(std::pair<std::string_view, int32_t>(topic, queue_id));
    if (it == table_.end()) return;
    ready = TakeReady(it->second, next_offset, tags_code, clock_.NowMillis());
    if (it->second.empty()) table_.erase(it);
  }
  for (auto& r : ready) rerun_(std::move(r.request), std::move(r.responder));
}

void PullRequestHoldService::CheckAll() {
  std::vector<PullRequest> ready;
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_.NowMillis();
    for (auto it = table_.begin(); it != table_.end();) {
      const int64_t max = store_.MaxOffsetInQueue(it->first.first, QueueId(it->first.second)).value();
      auto woken = TakeReady(it->second, max, std::nullopt, now);
      std::move(woken.begin(), woken.end(), std::back_inserter(ready));
      it = it->second.empty() ? table_.erase(it) : std::next(it);
    }
  }
  for (auto& r : ready) rerun_(std::move(r.request), std::move(r.responder));
}

void PullRequestHoldService::Run() {
  while (!IsStopped()) {
    // Sleep until the earliest hold deadline, at most check_interval.
    std::chrono::milliseconds wait = check_interval_;
    {
      MutexLock lock(&mu_);
      const int64_t now = clock_.NowMillis();
      for (const auto& [key, queue] : table_) {
        for (const auto& r : queue) {
          wait = std::min(wait,
                          std::chrono::milliseconds(std::max<int64_t>(1, r.suspend_at_ms + r.hold_ms - now)));
        }
      }
    }
    WaitForRunning(wait);
    if (IsStopped()) break;
    CheckAll();
  }
  // Answer whoever still waits (not found) so clients do not hang until their timeout.
  std::map<Key, std::vector<PullRequest>, KeyLess> rest;
  {
    MutexLock lock(&mu_);
    rest.swap(table_);
    parked_.store(0);
  }
  for (auto& [key, queue] : rest) {
    for (auto& r : queue) rerun_(std::move(r.request), std::move(r.responder));
  }
}

// ---------------------------------------------------------------- PullMessageProcessor

bool PullMessageProcessor::IsColdRead(const store::GetMessageResult& got) const {
  if (got.messages.empty()) return false;
  static const int64_t memory = [] {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : int64_t{8} << 30;
  }();
  const int64_t behind = store_.MaxPhyOffset().value() - got.messages.back().offset.value();
  return behind > memory / 100 * broker_.replication.access_message_in_memory_max_ratio;
}

PullMessageProcessor::PullMessageProcessor(const BrokerConfig& broker, store::MessageStore& store,
                                           TopicConfigManager& topics, SubscriptionGroupManager& groups,
                                           ClientRegistry& clients, ConsumerOffsetManager& offsets,
                                           const Clock& clock)
    : broker_(broker),
      store_(store),
      topics_(topics),
      groups_(groups),
      clients_(clients),
      offsets_(offsets),
      clock_(clock) {}

namespace {
int32_t PullCode(GetMessageStatus status, int64_t requested_offset) {
  switch (status) {
    case GetMessageStatus::kFound:
      return rc::kSuccess;
    case GetMessageStatus::kNoMatchedMessage:
    case GetMessageStatus::kMessageWasRemoving:
      return rc::kPullRetryImmediately;
    case GetMessageStatus::kNoMessageInQueue:
    case GetMessageStatus::kNoMatchedLogicQueue:
      return requested_offset == 0 ? rc::kPullNotFound : rc::kPullOffsetMoved;
    case GetMessageStatus::kOffsetTooSmall:
    case GetMessageStatus::kOffsetOverflowBadly:
      return rc::kPullOffsetMoved;
    case GetMessageStatus::kOffsetOverflowOne:
    case GetMessageStatus::kOffsetFoundNull:
      return rc::kPullNotFound;
  }
  return rc::kSystemError;
}
}  // namespace

Result<std::shared_ptr<const filter::Sql92Expression>> PullMessageProcessor::CompileSelector(
    const model::SubscriptionData& sub) {
  if (sub.expression_type != kExpressionTypeSql92) {
    return Status::InvalidArgument("unknown expression type " + sub.expression_type);
  }
  return sql92_.Compile(sub.sub_string);
}

void PullMessageProcessor::Process(RemotingCommand request, net::Responder responder, bool allow_suspend) {
  auto answer = [&](int32_t code, std::string remark) {
    responder.Send(RemotingCommand::Answer(code, std::move(remark)));
  };
  auto h = protocol::PullMessageRequestHeader::Spec().Decode(request.ext_fields);
  if (!h.ok()) return answer(rc::kSystemError, std::string(h.status().message()));
  if ((broker_.broker_permission & model::perm::kRead) == 0) {
    return answer(rc::kNoPermission, "the broker[" + broker_.broker_name + "] pulling message is forbidden");
  }
  auto group = groups_.FindOrCreate(h->consumer_group);
  if (!group.ok()) return answer(rc::kSystemError, group.status().ToString());
  if (!group->has_value()) {
    return answer(rc::kSubscriptionGroupNotExist,
                  "subscription group [" + h->consumer_group +
                      "] does not exist; create it (ferryctl group create, mqadmin "
                      "updateSubGroup) or enable autoCreateSubscriptionGroup");
  }
  if (!(*group)->consume_enable) {
    return answer(rc::kNoPermission, "subscription group no permission, " + h->consumer_group);
  }
  auto topic = topics_.Find(h->topic);
  if (!topic) {
    return answer(rc::kTopicNotExist, "topic[" + h->topic + "] not exist, apply first please!");
  }
  if ((topic->perm & model::perm::kRead) == 0) {
    return answer(rc::kNoPermission, "the topic[" + h->topic + "] pulling message is forbidden");
  }
  if (h->queue_id < 0 || h->queue_id >= topic->read_queue_nums) {
    return answer(rc::kSystemError, "queueId[" + std::to_string(h->queue_id) + "] is illegal, topic:[" +
                                        h->topic + "] topicConfig.readQueueNums:[" +
                                        std::to_string(topic->read_queue_nums) + "] consumer:[" +
                                        responder.remote_address() + "]");
  }

  model::SubscriptionData sub;
  std::shared_ptr<const filter::Sql92Expression> selector;
  if (h->sys_flag & psf::kSubscription) {
    sub.topic = h->topic;
    sub.sub_string = h->subscription.value_or("*");
    sub.expression_type = h->expression_type.value_or(kExpressionTypeTag);
    sub.sub_version = h->sub_version;
    if (IsTagType(sub.expression_type)) {
      model::ParseTagExpression(sub.sub_string, &sub.tags_set, &sub.code_set);
    } else {
      // Apache's broker logs a selector it cannot compile and then filters nothing out; FerryMQ refuses it.
      auto compiled = CompileSelector(sub);
      if (!compiled.ok()) {
        GetLogger("server")->warn("pull group={} topic={} selector refused: {}", h->consumer_group, h->topic,
                                  compiled.status().message());
        return answer(rc::kSubscriptionParseFailed, "parse the consumer's subscription failed");
      }
      selector = *std::move(compiled);
    }
  } else {
    auto info = clients_.Consumer(h->consumer_group);
    if (!info) {
      return answer(rc::kSubscriptionNotExist,
                    "the consumer's group info not exist (it has not sent a heartbeat to this broker yet)");
    }
    if (info->message_model == model::MessageModel::kBroadcasting && !(*group)->consume_broadcast_enable) {
      return answer(rc::kNoPermission,
                    "the consumer group[" + h->consumer_group + "] can not consume by broadcast way");
    }
    auto it = info->subscriptions.find(h->topic);
    if (it == info->subscriptions.end()) {
      return answer(rc::kSubscriptionNotExist, "the consumer's subscription not exist");
    }
    if (it->second.sub_version < h->sub_version) {
      return answer(rc::kSubscriptionNotLatest, "the consumer's subscription not latest");
    }
    sub = it->second;
    if (!IsTagType(sub.expression_type)) {
      // RocketMQ compiles the heartbeat's selector into "filter data"; one that does not compile has none.
      auto compiled = CompileSelector(sub);
      if (!compiled.ok()) {
        return answer(rc::kFilterDataNotExist,
                      "The broker's consumer filter data is not exist!Your expression may be wrong!");
      }
      selector = *std::move(compiled);
    }
  }
  if (!IsTagType(sub.expression_type) && !broker_.enable_property_filter) {
    return answer(rc::kSystemError,
                  "The broker does not support consumer to filter message by " + sub.expression_type);
  }
  auto filter = selector ? std::make_shared<const SubscriptionFilter>(std::move(selector))
                         : std::make_shared<const SubscriptionFilter>(sub);

  const auto get_started = std::chrono::steady_clock::now();
  store_.CatchUpForRead(h->topic, QueueId(h->queue_id), QueueOffset(h->queue_offset), h->max_msg_nums);
  auto got = store_.GetMessage(h->topic, QueueId(h->queue_id), QueueOffset(h->queue_offset), h->max_msg_nums,
                               filter.get());
  const auto get_elapsed = std::chrono::steady_clock::now() - get_started;
  if (stats_) stats_->AddGetTime(std::chrono::duration_cast<std::chrono::milliseconds>(get_elapsed).count());
  if (metrics_) metrics_->OnStoreGet(get_elapsed);
  if (!got.ok()) return answer(rc::kSystemError, got.status().ToString());

  RemotingCommand resp;
  resp.code = PullCode(got->status, h->queue_offset);
  resp.remark = std::string(store::GetMessageStatusName(got->status));
  protocol::PullMessageResponseHeader rh;
  rh.next_begin_offset = got->next_begin_offset.value();
  rh.min_offset = got->min_offset.value();
  rh.max_offset = got->max_offset.value();
  const bool slave = ha_ && !ha_->is_master();
  const bool slave_read_enable = broker_.replication.slave_read_enable;
  // RocketMQ's read-from-slave suggestion: data this far behind the log end is no longer in memory, so the
  // consumer is sent to the group's slow-consumption broker.
  rh.suggest_which_broker_id = 0;
  if (slave_read_enable) {
    rh.suggest_which_broker_id =
        IsColdRead(*got) ? (*group)->which_broker_when_consume_slowly : (*group)->broker_id;
  }
  if (slave) {
    // A slave does not move a consumer's offset; it sends it back to the master to decide.
    if (resp.code == rc::kPullOffsetMoved) resp.code = rc::kPullRetryImmediately;
    if (got->status != GetMessageStatus::kFound) rh.next_begin_offset = h->queue_offset;
  }
  protocol::PullMessageResponseHeader::Spec().Encode(rh, &resp.ext_fields);
  if (resp.code == rc::kPullOffsetMoved) {  // once per request: a suspended pull answered nothing yet
    // The client moves the group's offset to next_begin_offset (RocketMQ 4 wrote an OFFSET_MOVED_EVENT).
    GetLogger("server")->warn("offset moved group={} topic={} queue={} requested={} next={} min={} max={}",
                              h->consumer_group, h->topic, h->queue_id, h->queue_offset, rh.next_begin_offset,
                              rh.min_offset, rh.max_offset);
    if (stats_) stats_->AddOffsetMoved(h->topic, h->consumer_group);
    if (metrics_) metrics_->OnOffsetMoved(h->topic, h->consumer_group);
  }

  // The committed offset travels with the pull (first processing only, master only).
  if (allow_suspend && (h->sys_flag & psf::kCommitOffset) && !slave) {
    offsets_.Commit(h->consumer_group, h->topic, h->queue_id, h->commit_offset);
  }

  GetLogger("server")->debug(
      "pull remote={} opaque={} group={} topic={} queue={} offset={} suspend={} status={} next={} found={}",
      responder.remote_address(), request.opaque, h->consumer_group, h->topic, h->queue_id, h->queue_offset,
      allow_suspend, resp.remark.value_or(""), rh.next_begin_offset, got->messages.size());
  if (resp.code == rc::kSuccess) {
    if (stats_) {
      stats_->AddGot(static_cast<int64_t>(got->messages.size()));
      stats_->AddGroupGet(h->topic, h->consumer_group, static_cast<int64_t>(got->messages.size()),
                          static_cast<int64_t>(got->total_bytes));
    }
    if (metrics_) {
      metrics_->OnMessagesOut(h->topic, h->consumer_group, static_cast<int64_t>(got->messages.size()),
                              static_cast<int64_t>(got->total_bytes));
    }
    resp.body.reserve(got->total_bytes);
    for (const auto& buf : got->messages) resp.body.append(reinterpret_cast<const char*>(buf.data), buf.size);
  } else if (resp.code == rc::kPullNotFound && allow_suspend && (h->sys_flag & psf::kSuspend) && hold_) {
    PullRequestHoldService::PullRequest parked;
    parked.pull_from = h->queue_offset;
    parked.suspend_at_ms = clock_.NowMillis();
    parked.hold_ms = broker_.long_polling_enable ? std::max<int64_t>(0, h->suspend_timeout_millis)
                                                 : broker_.short_polling_time_mills;
    parked.filter = std::move(filter);
    parked.request = std::move(request);
    parked.responder = responder;
    responder.MarkLongPolling();
    hold_->Suspend(h->topic, h->queue_id, std::move(parked));
    return;  // answered when a message arrives or the hold ends
  }
  responder.Send(std::move(resp));
}

}  // namespace fmq::server
