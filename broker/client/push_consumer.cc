#include "broker/client/push_consumer.h"

#include <algorithm>

#include "broker/base/clock.h"
#include "broker/base/logging.h"
#include "broker/client/allocate.h"
#include "broker/client/internal/remoting_util.h"
#include "broker/model/admin_body.h"
#include "broker/model/message_format.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::client {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

struct PushConsumer::ProcessQueue {
  MessageQueue mq;
  Subscription sub;
  std::atomic<bool> dropped{false};
  std::atomic<bool> reset{false};  // dropped by a broker reset: its offsets are no longer ours to commit
  Mutex mu;
  int64_t next_offset FMQ_GUARDED_BY(mu) = 0;
  std::set<int64_t> in_process FMQ_GUARDED_BY(mu);  // pulled, not yet consumed
  int64_t max_seen FMQ_GUARDED_BY(mu) = -1;
  int64_t consumed_offset FMQ_GUARDED_BY(mu) = -1;  // committable offset; -1: nothing to commit
  int64_t committed FMQ_GUARDED_BY(mu) = -1;        // last value sent
  // Wall-clock ms, for RunningInfo (as Java, "last consumed" starts when the queue is taken).
  std::atomic<int64_t> last_pull_ms{0};
  std::atomic<int64_t> last_consume_ms{SystemClock().NowMillis()};
};

namespace {
auto Log() { return GetLogger("client"); }
std::string RetryTopic(const std::string& group) { return "%RETRY%" + group; }
}  // namespace

PushConsumer::PushConsumer(PushConsumerConfig config)
    : config_(std::move(config)),
      pull_(PullConsumerConfig{config_.group, config_.client, config_.pull_timeout}),
      consume_executor_("consume", std::max(1, config_.consume_threads), 1'000'000),
      started_ms_(SystemClock().NowMillis()) {}

PushConsumer::~PushConsumer() { Stop(); }

void PushConsumer::Subscribe(const std::string& topic, const std::string& expression) {
  subscriptions_.push_back(Subscription::Parse(topic, expression));
}

Status PushConsumer::Start() {
  if (running_) return Status::Ok();
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config_.group));
  if (!listener_) return Status::FailedPrecondition("no message listener set");
  if (subscriptions_.empty()) return Status::FailedPrecondition("no subscription");
  // Clustering consumers also read their group's retry topic (Java adds this subscription at start).
  subscriptions_.push_back(Subscription::Parse(RetryTopic(config_.group), "*"));

  heartbeat_.client_id = pull_.core().client_id();
  model::ConsumerData cd;
  cd.group_name = config_.group;
  cd.consume_type = model::ConsumeType::kPassively;
  cd.message_model = model::MessageModel::kClustering;
  cd.consume_from_where = config_.consume_from_where;
  for (const auto& s : subscriptions_) {
    model::SubscriptionData sd;
    sd.topic = s.topic;
    sd.sub_string = s.expression;
    model::ParseTagExpression(s.expression, &sd.tags_set, &sd.code_set);
    sd.sub_version = s.sub_version;
    cd.subscriptions.push_back(std::move(sd));
  }
  heartbeat_.consumers = {std::move(cd)};

  pull_.core().SetRequestHandler(
      [this](RemotingCommand req, net::Responder responder) { OnBrokerRequest(std::move(req), responder); });
  FMQ_RETURN_IF_ERROR(pull_.Start());
  FMQ_RETURN_IF_ERROR(consume_executor_.Start());
  scheduler_.Start();
  for (const auto& s : subscriptions_) {
    Status st = pull_.core().routes().RefreshTopic(s.topic);
    if (!st.ok() && s.topic != RetryTopic(config_.group)) {
      Log()->warn("no route yet topic={} error=\"{}\"", s.topic, st.message());
    }
  }
  running_ = true;
  tasks_.Add(
      "route-refresh", config_.client.poll_name_server_interval,
      [this] { pull_.core().routes().RefreshAll(); }, false);
  tasks_.Add(
      "heartbeat", config_.client.heartbeat_interval, [this] { SendHeartbeat(); }, true);
  rebalance_task_ = tasks_.Add(
      "rebalance", config_.rebalance_interval, [this] { Rebalance(); }, true);
  tasks_.Add(
      "persist-offsets", config_.persist_interval, [this] { PersistOffsets(true); }, false);
  reset_task_ = tasks_.Add(
      "reset-offsets", config_.rebalance_interval, [this] { ApplyResets(); }, false);
  return tasks_.Start();
}

void PushConsumer::Stop() {
  if (!running_.exchange(false)) return;
  tasks_.Stop();
  {
    MutexLock lock(&mu_);
    for (auto& [mq, pq] : queues_) pq->dropped = true;
  }
  scheduler_.Stop();
  consume_executor_.Stop();
  PersistOffsets(false);
  Unregister();
  pull_.Stop();
}

void PushConsumer::OnBrokerRequest(RemotingCommand request, net::Responder responder) {
  if (request.code == rq::kNotifyConsumerIdsChanged) {
    tasks_.Trigger(rebalance_task_);  // runs on the task thread, not on this network thread
    return;
  }
  if (request.code ==
      rq::kResetConsumerClientOffset) {  // oneway: mqadmin resetOffsetByTime, ferryctl group reset
    auto group = request.ext_fields.find("group");
    if (group == request.ext_fields.end() || group->second != config_.group) return;
    auto table = model::DecodeResetOffsetBody(request.body);
    if (!table.ok()) {
      Log()->warn("bad reset-offset request group={} error=\"{}\"", config_.group, table.status().message());
      return;
    }
    {
      MutexLock lock(&reset_mu_);
      pending_resets_.push_back(std::move(*table));
    }
    tasks_.Trigger(reset_task_);
    return;
  }
  if (request.code == rq::kGetConsumerRunningInfo) {
    RemotingCommand resp = RemotingCommand::Answer(rc::kSuccess, "");
    resp.body = model::EncodeConsumerRunningInfo(RunningInfo());
    responder.Send(std::move(resp));
    return;
  }
  responder.Send(RemotingCommand::Answer(rc::kRequestCodeNotSupported,
                                         " request type " + std::to_string(request.code) + " not supported"));
}

void PushConsumer::CountConsumed(const std::string& topic, int64_t ok, int64_t failed, int64_t rt_ms) {
  const int64_t minute = SystemClock().NowMillis() / 60'000;
  MutexLock lock(&stats_mu_);
  auto& minutes = consumed_[topic];
  if (minutes.empty() || minutes.back().minute != minute) minutes.push_back({minute});
  std::erase_if(minutes, [minute](const ConsumeMinute& m) { return m.minute <= minute - 60; });
  ConsumeMinute& m = minutes.back();
  m.ok += ok;
  m.failed += failed;
  m.rt_ms += rt_ms;
  ++m.calls;
}

model::ConsumerRunningInfo PushConsumer::RunningInfo() const {
  model::ConsumerRunningInfo info;
  info.properties = {{"PROP_CONSUME_TYPE", "CONSUME_PASSIVELY"},
                     {"PROP_CONSUMEORDERLY", "false"},
                     {"PROP_CLIENT_VERSION", "FERRYMQ"},
                     {"PROP_CONSUMER_START_TIMESTAMP", std::to_string(started_ms_)},
                     {"PROP_THREADPOOL_CORE_SIZE", std::to_string(config_.consume_threads)},
                     {"consumerGroup", config_.group},
                     {"maxReconsumeTimes", std::to_string(config_.max_reconsume_times)},
                     {"pullBatchSize", std::to_string(config_.pull_batch_size)},
                     {"consumeMessageBatchMaxSize", std::to_string(config_.consume_batch_size)}};
  if (!heartbeat_.consumers.empty()) info.subscriptions = heartbeat_.consumers.front().subscriptions;
  std::vector<std::shared_ptr<ProcessQueue>> queues;
  {
    MutexLock lock(&mu_);
    for (const auto& [mq, pq] : queues_) queues.push_back(pq);
  }
  for (const auto& pq : queues) {
    model::ProcessQueueInfo q;
    {
      MutexLock lock(&pq->mu);
      q.cached_msg_count = static_cast<int32_t>(pq->in_process.size());
      q.commit_offset = pq->committed;
    }
    q.dropped = pq->dropped;
    q.last_pull_timestamp = pq->last_pull_ms;
    q.last_consume_timestamp = pq->last_consume_ms;
    info.mq_table[{pq->mq.topic, pq->mq.broker_name, pq->mq.queue_id}] = q;
  }
  const int64_t minute = SystemClock().NowMillis() / 60'000;
  MutexLock lock(&stats_mu_);
  for (const auto& [topic, minutes] : consumed_) {
    model::ConsumeStatus st;
    int64_t rt = 0, calls = 0;
    for (const ConsumeMinute& m : minutes) {
      if (m.minute <= minute - 60) continue;
      st.consume_failed_msgs += m.failed;
      if (m.minute >= minute - 1) {  // the last full minute and this one
        st.consume_ok_tps += static_cast<double>(m.ok) / 120;
        st.consume_failed_tps += static_cast<double>(m.failed) / 120;
        rt += m.rt_ms;
        calls += m.calls;
      }
    }
    st.consume_rt = calls > 0 ? static_cast<double>(rt) / static_cast<double>(calls) : 0;
    info.status_table[topic] = st;
  }
  return info;
}

void PushConsumer::ApplyResets() {
  std::vector<model::ResetOffsetTable> resets;
  {
    MutexLock lock(&reset_mu_);
    resets.swap(pending_resets_);
  }
  for (const auto& table : resets) {
    {
      MutexLock lock(&mu_);
      for (const auto& [mq, offset] : table) {
        auto it = queues_.find(mq);
        if (it == queues_.end()) continue;
        it->second->reset = true;
        it->second->dropped = true;  // in-flight pulls and consumptions of it are discarded
        queues_.erase(it);
      }
    }
    for (const auto& [mq, offset] : table) {
      if (Status st = pull_.UpdateConsumeOffset(mq, offset, false); !st.ok()) {
        Log()->warn("reset offset not committed {} offset={} error=\"{}\"", QueueName(mq), offset,
                    st.message());
      }
    }
    Log()->info("offsets reset by the broker group={} queues={}", config_.group, table.size());
  }
  if (!resets.empty()) Rebalance();  // re-takes the queues from the new offsets
}

void PushConsumer::SendHeartbeat() {
  const std::string body = model::EncodeHeartbeat(heartbeat_);
  for (const auto& addr : pull_.core().routes().AllBrokerAddrs(false)) {
    RemotingCommand req = RemotingCommand::Request(rq::kHeartBeat, 0);
    req.body = body;
    auto resp = pull_.core().remoting()->InvokeSync(addr, std::move(req), config_.client.rpc_timeout);
    if (!resp.ok()) {
      Log()->warn("heartbeat failed broker={} error=\"{}\"", addr, resp.status().message());
    } else if (resp->code != rc::kSuccess) {
      Log()->warn("heartbeat refused broker={} code={} remark=\"{}\"", addr, resp->code,
                  resp->remark.value_or(""));
    }
  }
}

void PushConsumer::RebalanceNow() { Rebalance(); }

void PushConsumer::Rebalance() {
  for (const auto& s : subscriptions_) RebalanceTopic(s);
}

void PushConsumer::RebalanceTopic(const Subscription& sub) {
  auto all = pull_.core().routes().GetSubscribeQueues(sub.topic);
  if (!all.ok()) return;  // no route (yet): nothing to consume
  auto broker = pull_.core().routes().AnyBrokerOfTopic(sub.topic);
  if (!broker) return;
  protocol::ConsumerGroupHeader h;
  h.consumer_group = config_.group;
  auto resp = pull_.core().remoting()->InvokeSync(
      *broker, internal::MakeRequest(rq::kGetConsumerListByGroup, h), config_.client.rpc_timeout);
  if (!resp.ok() || resp->code != rc::kSuccess) {
    Log()->warn("get consumer list failed group={} topic={} broker={} error=\"{}\"", config_.group, sub.topic,
                *broker, resp.ok() ? resp->remark.value_or("") : std::string(resp.status().message()));
    return;
  }
  auto ids = model::DecodeConsumerIdList(resp->body);
  if (!ids.ok()) {
    Log()->warn("bad consumer list group={} broker={} error=\"{}\"", config_.group, *broker,
                ids.status().message());
    return;
  }
  std::vector<std::string> cids = std::move(*ids);
  std::sort(cids.begin(), cids.end());
  const std::vector<MessageQueue> mine = AllocateAveragely(pull_.core().client_id(), *all, cids);
  const std::set<MessageQueue> want(mine.begin(), mine.end());

  std::vector<std::shared_ptr<ProcessQueue>> removed;
  std::vector<MessageQueue> added;
  {
    MutexLock lock(&mu_);
    for (auto it = queues_.begin(); it != queues_.end();) {
      if (it->first.topic == sub.topic && !want.count(it->first)) {
        it->second->dropped = true;
        removed.push_back(it->second);
        it = queues_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& mq : mine) {
      if (!queues_.count(mq)) added.push_back(mq);
    }
  }
  for (const auto& pq : removed) {
    MutexLock lock(&pq->mu);
    if (pq->consumed_offset >= 0) (void)pull_.UpdateConsumeOffset(pq->mq, pq->consumed_offset, true);
    Log()->info("queue released group={} {}", config_.group, QueueName(pq->mq));
  }
  for (const auto& mq : added) {
    auto offset = InitialOffset(mq);
    if (!offset.ok()) {
      Log()->warn("cannot compute start offset group={} {} error=\"{}\"", config_.group, QueueName(mq),
                  offset.status().message());
      continue;
    }
    auto pq = std::make_shared<ProcessQueue>();
    pq->mq = mq;
    pq->sub = sub;
    {
      MutexLock lock(&pq->mu);
      pq->next_offset = *offset;
    }
    {
      MutexLock lock(&mu_);
      queues_[mq] = pq;
    }
    Log()->info("queue assigned group={} {} offset={}", config_.group, QueueName(mq), *offset);
    SchedulePull(pq, std::chrono::milliseconds(0));
  }
}

Result<int64_t> PushConsumer::InitialOffset(const MessageQueue& mq) {
  FMQ_ASSIGN_OR_RETURN(auto committed, pull_.FetchConsumeOffset(mq));
  if (committed && *committed >= 0) return *committed;
  const bool retry = mq.topic.rfind("%RETRY%", 0) == 0;
  switch (config_.consume_from_where) {
    case model::ConsumeFromWhere::kFirstOffset:
    case model::ConsumeFromWhere::kMinOffset:
      return int64_t{0};
    case model::ConsumeFromWhere::kTimestamp: {
      if (retry) return pull_.MaxOffset(mq);
      int64_t ts = config_.consume_timestamp_ms;
      if (ts <= 0) ts = SystemClock().NowMillis() - 30 * 60 * 1000;
      return pull_.SearchOffset(mq, ts);
    }
    default:
      if (retry) return int64_t{0};
      return pull_.MaxOffset(mq);
  }
}

void PushConsumer::SchedulePull(std::shared_ptr<ProcessQueue> pq, std::chrono::milliseconds delay) {
  if (!running_ || pq->dropped) return;
  scheduler_.Schedule(delay, [this, pq] { DoPull(pq); });
}

void PushConsumer::DoPull(std::shared_ptr<ProcessQueue> pq) {
  if (!running_ || pq->dropped) return;
  int64_t offset, commit;
  {
    MutexLock lock(&pq->mu);
    if (static_cast<int>(pq->in_process.size()) > config_.pull_threshold_for_queue) {
      SchedulePull(pq, std::chrono::milliseconds(50));  // flow control
      return;
    }
    offset = pq->next_offset;
    commit = pq->consumed_offset;
  }
  auto addr = pull_.core().routes().MasterAddr(pq->mq.broker_name);
  if (!addr) {
    SchedulePull(pq, config_.pull_delay_on_error);
    return;
  }
  RemotingCommand request = MakePullRequest(config_.group, pq->mq, pq->sub, offset, config_.pull_batch_size,
                                            config_.suspend_timeout, commit > 0 ? commit : 0);
  request.serialize_type = config_.client.request_serialize_type;
  pull_.core().remoting()->InvokeAsync(*addr, std::move(request),
                                       config_.suspend_timeout + config_.pull_timeout,
                                       [this, pq](Result<RemotingCommand> resp) {
                                         if (!resp.ok()) {
                                           OnPulled(pq, resp.status());
                                         } else {
                                           OnPulled(pq, ProcessPullResponse(*resp, pq->mq, pq->sub));
                                         }
                                       });
}

void PushConsumer::OnPulled(std::shared_ptr<ProcessQueue> pq, Result<PullResult> result) {
  if (!running_ || pq->dropped) return;
  if (!result.ok()) {
    Log()->warn("pull failed {} error=\"{}\"", QueueName(pq->mq), result.status().message());
    SchedulePull(pq, config_.pull_delay_on_error);
    return;
  }
  PullResult& r = *result;
  pq->last_pull_ms = SystemClock().NowMillis();
  {
    MutexLock lock(&pq->mu);
    pq->next_offset = r.next_begin_offset;
    if (r.status == PullStatus::kOffsetIllegal) {
      Log()->warn("offset illegal {} moving to {}", QueueName(pq->mq), r.next_begin_offset);
      pq->in_process.clear();
      pq->consumed_offset = r.next_begin_offset;
    }
    // Entries the tag filter skipped count as consumed once nothing before them is pending.
    if (r.next_begin_offset - 1 > pq->max_seen) pq->max_seen = r.next_begin_offset - 1;
    for (const auto& m : r.messages) pq->in_process.insert(m.queue_offset);
    if (r.status != PullStatus::kOffsetIllegal) {
      pq->consumed_offset = pq->in_process.empty() ? pq->max_seen + 1 : *pq->in_process.begin();
    }
  }
  // Messages redelivered through %RETRY%<group> carry their original topic (Java's resetRetryAndNamespace).
  if (pq->mq.topic == RetryTopic(config_.group)) {
    for (auto& m : r.messages) {
      auto it = m.properties.find(model::prop::kRetryTopic);
      if (it != m.properties.end() && !it->second.empty()) m.topic = it->second;
    }
  }
  const size_t batch = static_cast<size_t>(std::max(1, config_.consume_batch_size));
  for (size_t i = 0; i < r.messages.size(); i += batch) {
    std::vector<MessageExt> part(
        std::make_move_iterator(r.messages.begin() + i),
        std::make_move_iterator(r.messages.begin() + std::min(i + batch, r.messages.size())));
    auto shared = std::make_shared<std::vector<MessageExt>>(std::move(part));
    if (!consume_executor_.TrySubmit([this, pq, shared] { Consume(pq, std::move(*shared)); })) {
      scheduler_.Schedule(std::chrono::milliseconds(100),
                          [this, pq, shared] { Consume(pq, std::move(*shared)); });
    }
  }
  SchedulePull(pq, std::chrono::milliseconds(0));
}

void PushConsumer::Consume(std::shared_ptr<ProcessQueue> pq, std::vector<MessageExt> msgs) {
  if (pq->dropped) return;
  ConsumeStatus status = ConsumeStatus::kReconsumeLater;
  const auto began = std::chrono::steady_clock::now();
  try {
    status = listener_(msgs);
  } catch (const std::exception& e) {
    Log()->warn("listener threw group={} {} error=\"{}\"", config_.group, QueueName(pq->mq), e.what());
  }
  pq->last_consume_ms = SystemClock().NowMillis();
  if (!msgs.empty()) {
    const int64_t n = static_cast<int64_t>(msgs.size());
    const bool ok = status == ConsumeStatus::kSuccess;
    CountConsumed(
        msgs.front().topic, ok ? n : 0, ok ? 0 : n,
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began)
            .count());
  }
  // As Java: the result for a queue taken away (rebalance, Stop) while its messages were being consumed is
  // dropped; the messages stay uncommitted for whoever reads the queue next.
  if (!running_ || pq->dropped) return;
  std::vector<int64_t> done;
  std::vector<MessageExt> again;
  if (status == ConsumeStatus::kSuccess) {
    for (const auto& m : msgs) done.push_back(m.queue_offset);
  } else {
    // As Java: each failed message goes back to the broker (it lands in %RETRY%<group> with a delay); what
    // cannot be sent back is consumed again here.
    for (auto& m : msgs) {
      if (SendBack(m)) {
        done.push_back(m.queue_offset);
      } else {
        again.push_back(std::move(m));
      }
    }
  }
  if (!again.empty()) {
    auto shared = std::make_shared<std::vector<MessageExt>>(std::move(again));
    scheduler_.Schedule(config_.pull_delay_on_error, [this, pq, shared] {
      if (!consume_executor_.TrySubmit([this, pq, shared] { Consume(pq, std::move(*shared)); })) {
        Log()->warn("consume queue full, dropping re-consumption {}", QueueName(pq->mq));
      }
    });
  }
  MutexLock lock(&pq->mu);
  for (int64_t offset : done) pq->in_process.erase(offset);
  pq->consumed_offset = pq->in_process.empty() ? pq->max_seen + 1 : *pq->in_process.begin();
}

bool PushConsumer::SendBack(const MessageExt& m) {
  auto addr = pull_.core().routes().MasterAddr(m.broker_name);
  if (!addr) return false;
  protocol::ConsumerSendMsgBackHeader h;
  h.offset = m.commit_log_offset;
  h.group = config_.group;
  h.delay_level = 0;  // the broker picks 3 + reconsume times
  h.origin_msg_id = m.msg_id;
  h.origin_topic = m.topic;
  h.max_reconsume_times = config_.max_reconsume_times;
  auto resp = pull_.core().remoting()->InvokeSync(*addr, internal::MakeRequest(rq::kConsumerSendMsgBack, h),
                                                  config_.client.rpc_timeout);
  if (resp.ok() && resp->code == rc::kSuccess) return true;
  Log()->warn("send back failed group={} msgId={} error=\"{}\"", config_.group, m.msg_id,
              resp.ok() ? resp->remark.value_or("code " + std::to_string(resp->code))
                        : std::string(resp.status().message()));
  return false;
}

void PushConsumer::PersistOffsets(bool oneway) {
  std::vector<std::shared_ptr<ProcessQueue>> all;
  {
    MutexLock lock(&mu_);
    for (auto& [mq, pq] : queues_) all.push_back(pq);
  }
  for (const auto& pq : all) {
    if (pq->reset) continue;
    int64_t offset;
    {
      MutexLock lock(&pq->mu);
      if (pq->consumed_offset < 0 || pq->consumed_offset == pq->committed) continue;
      offset = pq->consumed_offset;
    }
    Status s = pull_.UpdateConsumeOffset(pq->mq, offset, oneway);
    if (!s.ok()) {
      Log()->warn("commit offset failed {} offset={} error=\"{}\"", QueueName(pq->mq), offset, s.message());
      continue;
    }
    MutexLock lock(&pq->mu);
    pq->committed = offset;
  }
}

void PushConsumer::Unregister() {
  protocol::UnregisterClientHeader h;
  h.client_id = pull_.core().client_id();
  h.consumer_group = config_.group;
  for (const auto& addr : pull_.core().routes().AllBrokerAddrs(false)) {
    (void)pull_.core().remoting()->InvokeSync(addr, internal::MakeRequest(rq::kUnregisterClient, h),
                                              config_.client.rpc_timeout);
  }
}

std::vector<MessageQueue> PushConsumer::AssignedQueues() const {
  MutexLock lock(&mu_);
  std::vector<MessageQueue> out;
  for (const auto& [mq, pq] : queues_) out.push_back(mq);
  return out;
}

std::map<MessageQueue, int64_t> PushConsumer::ConsumedOffsets() const {
  MutexLock lock(&mu_);
  std::map<MessageQueue, int64_t> out;
  for (const auto& [mq, pq] : queues_) {
    MutexLock l2(&pq->mu);
    out[mq] = pq->consumed_offset;
  }
  return out;
}

}  // namespace fmq::client
