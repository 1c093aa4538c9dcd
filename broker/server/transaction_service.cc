#include "broker/server/transaction_service.h"

#include <charconv>
#include <map>
#include <random>
#include <set>

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/response_mapping.h"
#include "broker/server/schedule_message_service.h"
#include "broker/server/timer_message_service.h"

namespace fmq::server {

namespace prop = model::prop;
namespace sysflag = model::sysflag;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

namespace {

constexpr const char* kRemoveTag = "d";

int64_t PropertyNumber(std::string_view properties, const char* name, int64_t fallback) {
  auto v = model::FindProperty(properties, name);
  if (!v) return fallback;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  return ec == std::errc() && p == v->data() + v->size() ? n : fallback;
}

int32_t WithTransactionType(int32_t flag, int32_t type) { return (flag & ~sysflag::kTransactionMask) | type; }

}  // namespace

void ToHalfMessage(model::StoredMessage* msg) {
  std::string props = model::WithProperty(msg->properties, prop::kRealTopic, msg->topic);
  props = model::WithProperty(props, prop::kRealQueueId, std::to_string(msg->queue_id.value()));
  msg->properties = std::move(props);
  msg->sys_flag = WithTransactionType(msg->sys_flag, sysflag::kTransactionNotType);
  msg->topic = kTransHalfTopic;
  msg->queue_id = QueueId(0);
}

TransactionService::TransactionService(Options options, store::MessageStore& store,
                                       ConsumerOffsetManager& offsets, ClientRegistry& clients,
                                       TopicConfigManager& topics, const Clock& clock,
                                       std::function<bool()> may_serve,
                                       std::function<void()> on_topic_created)
    : ServiceThread("transaction-check"),
      options_(options),
      store_(store),
      offsets_(offsets),
      clients_(clients),
      topics_(topics),
      clock_(clock),
      may_serve_(std::move(may_serve)),
      on_topic_created_(std::move(on_topic_created)) {}

TransactionService::~TransactionService() { Stop(); }

void TransactionService::HandleEndTransaction(RemotingCommand request, net::Responder responder) {
  RemotingCommand answer = EndTransaction(request);
  responder.Send(std::move(answer));  // dropped for oneway requests (what producers send)
}

RemotingCommand TransactionService::EndTransaction(const RemotingCommand& request) {
  auto h = protocol::EndTransactionHeader::Spec().Decode(request.ext_fields);
  if (!h.ok()) return RemotingCommand::Answer(rc::kSystemError, std::string(h.status().message()));
  if (!may_serve_()) {
    return RemotingCommand::Answer(rc::kSlaveNotAvailable,
                                   "this broker is not a writable master: end the transaction on the master");
  }
  const int32_t type = h->commit_or_rollback;
  if (type == sysflag::kTransactionNotType) {
    return RemotingCommand::Answer(rc::kSuccess, "");  // unknown: the check-back asks again later
  }
  if (type != sysflag::kTransactionCommit && type != sysflag::kTransactionRollback) {
    return RemotingCommand::Answer(rc::kSystemError, "commitOrRollback " + std::to_string(type) +
                                                         " is not 0 (unknown), 8 (commit) or 12 (rollback)");
  }
  auto half = store_.LookMessageByOffset(PhysicalOffset(h->commit_log_offset));
  if (!half.ok() || half->topic != kTransHalfTopic)
    return RemotingCommand::Answer(rc::kSystemError, "Find prepared transaction message failed");
  if (model::FindProperty(half->properties, prop::kProducerGroup).value_or("") != h->producer_group)
    return RemotingCommand::Answer(rc::kSystemError, "The producer group wrong");
  if (half->queue_offset.value() != h->tran_state_table_offset)
    return RemotingCommand::Answer(rc::kSystemError, "The transaction state table offset wrong");
  if (half->physical_offset.value() != h->commit_log_offset)
    return RemotingCommand::Answer(rc::kSystemError, "The commit log offset wrong");

  if (type == sysflag::kTransactionCommit) {
    auto topic = model::FindProperty(half->properties, prop::kRealTopic);
    const int64_t qid = PropertyNumber(half->properties, prop::kRealQueueId, -1);
    if (!topic || qid < 0 || qid > INT32_MAX)
      return RemotingCommand::Answer(rc::kSystemError, "the half message has no valid REAL_TOPIC / REAL_QID");
    model::StoredMessage m;
    m.topic = std::string(*topic);
    m.queue_id = QueueId(static_cast<int32_t>(qid));
    m.body = half->body;
    m.flag = half->flag;
    m.born_timestamp = half->born_timestamp;
    m.born_host = half->born_host;
    m.reconsume_times = half->reconsume_times;
    m.sys_flag = WithTransactionType(half->sys_flag, sysflag::kTransactionCommit);
    m.prepared_transaction_offset = half->physical_offset;
    std::string props = model::WithProperty(half->properties, prop::kRealTopic, std::nullopt);
    props = model::WithProperty(props, prop::kRealQueueId, std::nullopt);
    m.properties = model::WithProperty(props, prop::kTransactionPrepared, std::nullopt);
    if (Status s = ApplyDelayLevel(store_.delay_levels(), &m); !s.ok())
      return RemotingCommand::Answer(rc::kMessageIllegal, std::string(s.message()));
    if (Status s = ApplyTimer(store_.config(), clock_.NowMillis(), &m); !s.ok())
      return RemotingCommand::Answer(rc::kMessageIllegal, std::string(s.message()));
    auto put = store_.PutMessage(std::move(m));
    if (!put.ok() && put.status().code() != StatusCode::kDeadlineExceeded)
      return RemotingCommand::Answer(PutResponseCode(put.status()), std::string(put.status().message()));
  }
  if (Status s = WriteOp(*half); !s.ok()) {
    // The message is committed; without its op record the check asks the producer once more.
    GetLogger("server")->warn("transaction op record for half offset {} not written: {}",
                              half->queue_offset.value(), s.ToString());
  }
  return RemotingCommand::Answer(rc::kSuccess, "");
}

Status TransactionService::WriteOp(const model::StoredMessage& half) {
  model::StoredMessage op;
  op.topic = kTransOpHalfTopic;
  op.queue_id = QueueId(0);
  op.body = std::to_string(half.queue_offset.value());
  op.properties = model::EncodeProperties({{prop::kTags, kRemoveTag}, {prop::kWaitStoreMsgOk, "false"}});
  op.born_timestamp = clock_.NowMillis();
  op.born_host = store_.config().store_host;
  return store_.PutMessage(std::move(op)).status();
}

Status TransactionService::Discard(const model::StoredMessage& half) {
  model::TopicConfig c;
  c.topic_name = kTransCheckMaxTimeTopic;
  c.read_queue_nums = c.write_queue_nums = 1;
  c.perm = model::perm::kRead | model::perm::kWrite;
  if (auto created = topics_.CreateIfAbsent(c); created.ok() && *created && on_topic_created_)
    on_topic_created_();
  model::StoredMessage m = half;
  m.topic = kTransCheckMaxTimeTopic;
  m.queue_id = QueueId(0);
  return store_.PutMessage(std::move(m)).status();
}

bool TransactionService::AskProducer(const model::StoredMessage& renewed) {
  const std::string group(model::FindProperty(renewed.properties, prop::kProducerGroup).value_or(""));
  auto producers = clients_.Producers(group);
  std::vector<std::shared_ptr<net::Connection>> live;
  for (const auto& p : producers) {
    if (auto c = p.conn.lock(); c && !c->closed()) live.push_back(std::move(c));
  }
  if (live.empty()) return false;
  thread_local std::mt19937 rng{std::random_device{}()};
  auto& conn = live[rng() % live.size()];
  // The producer sees the message under its real topic and queue (AbstractTransactionalMessageCheckListener).
  model::StoredMessage shown = renewed;
  shown.topic =
      std::string(model::FindProperty(renewed.properties, prop::kRealTopic).value_or(renewed.topic));
  shown.queue_id = QueueId(static_cast<int32_t>(PropertyNumber(renewed.properties, prop::kRealQueueId, 0)));
  if (!model::ValidateForStore(shown).ok()) return false;
  RemotingCommand req = RemotingCommand::Request(protocol::request_code::kCheckTransactionState, 0);
  req.flag |= protocol::kFlagOneway;
  protocol::CheckTransactionStateHeader h;
  h.tran_state_table_offset = renewed.queue_offset.value();
  h.commit_log_offset = renewed.physical_offset.value();
  const std::string uniq(model::FindProperty(renewed.properties, prop::kUniqKey).value_or(""));
  h.msg_id = uniq;
  h.transaction_id = uniq;
  h.offset_msg_id = model::CreateOffsetMessageId(renewed.store_host, renewed.physical_offset);
  protocol::CheckTransactionStateHeader::Spec().Encode(h, &req.ext_fields);
  model::EncodeStoredMessage(shown, /*compute_crc=*/true, &req.body);
  conn->Send(std::move(req));
  return true;
}

TransactionService::CheckRound TransactionService::CheckOnce() {
  CheckRound round;
  auto log = GetLogger("server");
  const QueueId q0(0);
  auto progress = [&](const char* topic) {
    auto committed = offsets_.Query(kTransCheckGroup, topic, 0);
    const int64_t min = store_.MinOffsetInQueue(topic, q0).value();
    return std::max(committed.value_or(min), min);
  };
  const int64_t half_start = progress(kTransHalfTopic);
  const int64_t op_start = progress(kTransOpHalfTopic);
  const int64_t half_end = store_.MaxOffsetInQueue(kTransHalfTopic, q0).value();
  const int64_t op_end = store_.MaxOffsetInQueue(kTransOpHalfTopic, q0).value();
  round.half_offset = half_start;
  if (half_start >= half_end && op_start >= op_end) return round;

  // Op records since the op progress: which halves are ended.
  std::map<int64_t, int64_t> removed;  // half queue offset -> op queue offset
  std::set<int64_t> done_ops;
  for (int64_t o = op_start; o < op_end; ++o) {
    auto phys = store_.CommitLogOffsetInQueue(kTransOpHalfTopic, q0, QueueOffset(o));
    auto op = phys.ok() ? store_.LookMessageByOffset(*phys) : Result<model::StoredMessage>(phys.status());
    int64_t half_offset = -1;
    if (op.ok() && model::FindProperty(op->properties, prop::kTags) == kRemoveTag) {
      auto [p, ec] = std::from_chars(op->body.data(), op->body.data() + op->body.size(), half_offset);
      if (ec != std::errc() || p != op->body.data() + op->body.size()) half_offset = -1;
    }
    if (half_offset < half_start) {
      done_ops.insert(o);  // ends a half already passed, or not an op record at all
    } else {
      removed[half_offset] = o;
    }
  }

  const int64_t start = clock_.NowMillis();
  int64_t i = half_start;
  for (; i < half_end && may_serve_() && !IsStopped(); ++i) {
    if (auto r = removed.find(i); r != removed.end()) {
      done_ops.insert(r->second);
      continue;
    }
    auto phys = store_.CommitLogOffsetInQueue(kTransHalfTopic, q0, QueueOffset(i));
    auto half = phys.ok() ? store_.LookMessageByOffset(*phys) : Result<model::StoredMessage>(phys.status());
    if (!half.ok()) {
      log->error("transaction half at queue offset {} cannot be read ({}); skipped", i,
                 half.status().ToString());
      continue;
    }
    const int64_t times = PropertyNumber(half->properties, prop::kTransactionCheckTimes, 0);
    if (times >= options_.check_max) {
      if (Status s = Discard(*half); !s.ok()) break;  // retried next round
      ++round.discarded;
      ++discarded_total_;
      log->warn(
          "transaction {} of producer group {} discarded after {} checks (transactionCheckMax): kept in {}",
          model::FindProperty(half->properties, prop::kUniqKey).value_or("?"),
          model::FindProperty(half->properties, prop::kProducerGroup).value_or("?"), times,
          kTransCheckMaxTimeTopic);
      continue;
    }
    if (half->store_timestamp >= start) break;
    const int64_t age = clock_.NowMillis() - half->born_timestamp;
    int64_t immunity = options_.timeout_ms;
    if (auto secs = PropertyNumber(half->properties, prop::kCheckImmunityTimeInSeconds, -1); secs >= 0)
      immunity = secs * 1000;
    if (age >= 0 && age < immunity) break;  // too young: so is everything after it
    // Renew: the half goes to the end of the queue with one more check, then the producer is asked.
    model::StoredMessage renewed = *half;
    renewed.properties =
        model::WithProperty(renewed.properties, prop::kTransactionCheckTimes, std::to_string(times + 1));
    if (!model::FindProperty(renewed.properties, prop::kTransactionPreparedQueueOffset)) {
      renewed.properties =
          model::WithProperty(renewed.properties, prop::kTransactionPreparedQueueOffset, std::to_string(i));
    }
    auto put = store_.PutMessage(renewed);
    if (!put.ok()) {
      log->warn("transaction check: renewing half {} failed: {}", i, put.status().ToString());
      break;
    }
    renewed.queue_offset = put->queue_offset;
    renewed.physical_offset = put->wrote_offset;
    renewed.store_timestamp = put->store_timestamp;
    renewed.store_host = store_.config().store_host;
    ++round.checked;
    if (AskProducer(renewed)) {
      ++round.asked;
    } else {
      log->warn("transaction check: no producer of group {} is connected; half {} is asked again later",
                model::FindProperty(renewed.properties, prop::kProducerGroup).value_or("?"), i);
    }
  }
  round.half_offset = i;
  if (i != half_start) offsets_.Commit(kTransCheckGroup, kTransHalfTopic, 0, i);
  int64_t op = op_start;
  while (done_ops.count(op)) ++op;
  if (op != op_start) offsets_.Commit(kTransCheckGroup, kTransOpHalfTopic, 0, op);
  return round;
}

void TransactionService::Run() {
  while (!IsStopped()) {
    WaitForRunning(std::chrono::milliseconds(options_.check_interval_ms));
    if (IsStopped()) break;
    if (may_serve_()) CheckOnce();
  }
}

}  // namespace fmq::server
