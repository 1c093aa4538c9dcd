#include "broker/server/schedule_message_service.h"

#include <algorithm>
#include <charconv>

#include "broker/base/logging.h"

namespace fmq::server {

namespace prop = model::prop;

Status ApplyDelayLevel(const model::DelayLevels& levels, model::StoredMessage* msg) {
  const int32_t tx = model::sysflag::TransactionType(msg->sys_flag);
  if (tx != model::sysflag::kTransactionNotType && tx != model::sysflag::kTransactionCommit)
    return Status::Ok();
  auto value = model::FindProperty(msg->properties, prop::kDelayTimeLevel);
  if (!value) return Status::Ok();
  FMQ_ASSIGN_OR_RETURN(int level, model::ParseDelayLevelProperty(*value));
  if (level <= 0) return Status::Ok();
  level = levels.Clamp(level);
  std::string props = model::WithProperty(msg->properties, prop::kDelayTimeLevel, std::to_string(level));
  props = model::WithProperty(props, prop::kRealTopic, msg->topic);
  props = model::WithProperty(props, prop::kRealQueueId, std::to_string(msg->queue_id.value()));
  msg->properties = std::move(props);
  msg->topic = model::kScheduleTopic;
  msg->queue_id = QueueId(level - 1);
  return Status::Ok();
}

Result<model::StoredMessage> MessageTimeUp(const model::StoredMessage& scheduled) {
  auto topic = model::FindProperty(scheduled.properties, prop::kRealTopic);
  auto qid_text = model::FindProperty(scheduled.properties, prop::kRealQueueId);
  int32_t qid = -1;
  if (qid_text) {
    auto [p, ec] = std::from_chars(qid_text->data(), qid_text->data() + qid_text->size(), qid);
    if (ec != std::errc() || p != qid_text->data() + qid_text->size()) qid = -1;
  }
  if (!topic || qid < 0) {
    return Status::InvalidArgument("the delayed message at commit-log offset " +
                                   std::to_string(scheduled.physical_offset.value()) +
                                   " has no valid REAL_TOPIC / REAL_QID property");
  }
  model::StoredMessage m;
  m.topic = std::string(*topic);
  m.queue_id = QueueId(qid);
  m.flag = scheduled.flag;
  m.body = scheduled.body;
  // Properties stay as stored, DELAY, REAL_TOPIC and REAL_QID included: Apache's messageTimeup clears DELAY
  // from the map but writes the properties text it made before, and consumers (rocketmq-e2e's delay checks)
  // read the level from the delivered message.
  m.properties = scheduled.properties;
  m.sys_flag = scheduled.sys_flag;
  m.born_timestamp = scheduled.born_timestamp;
  m.born_host = scheduled.born_host;
  m.reconsume_times = scheduled.reconsume_times;
  return m;
}

ScheduleMessageService::ScheduleMessageService(Options options, store::MessageStore& store,
                                               io::FileSystem& fs, const Clock& clock,
                                               std::function<bool()> may_deliver)
    : ServiceThread("schedule-message"),
      options_(std::move(options)),
      store_(store),
      fs_(fs),
      clock_(clock),
      may_deliver_(std::move(may_deliver)),
      levels_(store.delay_levels()) {}

ScheduleMessageService::~ScheduleMessageService() { Stop(); }

Status ScheduleMessageService::Load() {
  MutexLock lock(&mu_);
  table_.clear();
  for (int level = 1; level <= levels_.max_level(); ++level) table_[level];
  if (fs_.Exists(options_.offsets_path)) {
    FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, options_.offsets_path));
    auto table = model::DecodeDelayOffsetTable(text);
    if (!table.ok()) {
      return Status::Corruption(options_.offsets_path + " cannot be read (" +
                                std::string(table.status().message()) +
                                "); restore it from a backup, or remove it to deliver every delayed message "
                                "the store still holds again");
    }
    for (const auto& [level, offset] : *table) {
      Level& l = table_[level];
      l.delivered = l.confirmed = offset;
    }
    persisted_ = text;
  }
  CorrectLocked();
  return Status::Ok();
}

void ScheduleMessageService::CorrectLocked() {
  for (auto& [level, l] : table_) {
    const QueueId q(level - 1);
    const int64_t min = store_.MinOffsetInQueue(model::kScheduleTopic, q).value();
    const int64_t max = store_.MaxOffsetInQueue(model::kScheduleTopic, q).value();
    const int64_t fixed = std::clamp(l.delivered, min, std::max(min, max));
    if (fixed != l.delivered) {
      GetLogger("server")->warn("delay level {}: progress {} is outside its queue [{}, {}]: continuing at {}",
                                level, l.delivered, min, max, fixed);
      l.delivered = l.confirmed = fixed;
      l.unconfirmed.clear();
    }
  }
}

void ScheduleMessageService::ConfirmLocked() {
  const int64_t confirm = store_.ConfirmOffset().value();
  for (auto& [level, l] : table_) {
    while (!l.unconfirmed.empty() && l.unconfirmed.front().second <= confirm) {
      l.confirmed = l.unconfirmed.front().first;
      l.unconfirmed.pop_front();
    }
  }
}

std::map<int32_t, int64_t> ScheduleMessageService::OffsetTable() {
  MutexLock lock(&mu_);
  ConfirmLocked();
  std::map<int32_t, int64_t> out;
  for (const auto& [level, l] : table_) out[level] = l.confirmed;
  return out;
}

Status ScheduleMessageService::Persist() {
  const std::string text = model::EncodeDelayOffsetTable(OffsetTable());
  MutexLock lock(&mu_);
  if (text == persisted_) return Status::Ok();
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(io::DirName(options_.offsets_path)));
  FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, options_.offsets_path, text));
  persisted_ = text;
  return Status::Ok();
}

Status ScheduleMessageService::ReplaceFromMaster(const std::string& json) {
  FMQ_ASSIGN_OR_RETURN(auto table, model::DecodeDelayOffsetTable(json));
  if (may_deliver_()) return Status::Ok();
  MutexLock lock(&mu_);
  for (const auto& [level, offset] : table) {
    Level& l = table_[level];
    l.delivered = l.confirmed = offset;
    l.unconfirmed.clear();
  }
  return Status::Ok();
}

std::map<std::string, std::string> ScheduleMessageService::RuntimeStats() {
  MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  for (const auto& [level, l] : table_) {
    const int64_t max = store_.MaxOffsetInQueue(model::kScheduleTopic, QueueId(level - 1)).value();
    out["scheduleMessageOffset_" + std::to_string(level)] =
        std::to_string(l.delivered) + "," + std::to_string(max);
  }
  return out;
}

int ScheduleMessageService::DeliverDue() {
  int delivered = 0;
  for (int level = 1; level <= levels_.max_level() && !IsStopped(); ++level) delivered += DeliverLevel(level);
  return delivered;
}

int ScheduleMessageService::DeliverLevel(int level) {
  auto log = GetLogger("server");
  const QueueId q(level - 1);
  int64_t offset;
  {
    MutexLock lock(&mu_);
    offset = table_[level].delivered;
  }
  const int64_t min = store_.MinOffsetInQueue(model::kScheduleTopic, q).value();
  const int64_t max = store_.MaxOffsetInQueue(model::kScheduleTopic, q).value();
  if (offset < min) {
    log->warn(
        "delay level {}: messages from queue offset {} to {} were deleted by retention before they were due",
        level, offset, min);
    offset = min;
  } else if (offset > max) {
    log->warn("delay level {}: progress {} is beyond the queue's end {}: continuing at its end", level,
              offset, max);
    MutexLock lock(&mu_);
    Level& l = table_[level];
    l.delivered = l.confirmed = offset = max;
    l.unconfirmed.clear();
  }
  int count = 0;
  while (may_deliver_()) {
    auto entry = store_.ConsumeQueueEntry(model::kScheduleTopic, q, QueueOffset(offset));
    if (!entry.ok()) break;  // nothing more (beyond the queue's end)
    const int64_t now = clock_.NowMillis();
    int64_t due = entry->tags_code;
    if (due > now + levels_.DelayMs(level)) due = now;  // RocketMQ's correctDeliverTimestamp
    if (due > now) break;
    auto scheduled = store_.LookMessageByOffset(entry->offset);
    if (!scheduled.ok()) {
      log->error(
          "delay level {}: queue offset {} points at commit-log offset {} which cannot be read ({}); skipped",
          level, offset, entry->offset.value(), scheduled.status().ToString());
      ++offset;
      continue;
    }
    auto real = MessageTimeUp(*scheduled);
    if (!real.ok()) {
      log->error("delay level {}: {}; skipped", level, real.status().ToString());
      ++offset;
      continue;
    }
    auto put = store_.PutMessage(std::move(*real));
    if (!put.ok()) {
      // Retried at the next round (disk full, store closing): nothing is skipped.
      log->warn("delay level {}: delivering queue offset {} failed: {}", level, offset,
                put.status().ToString());
      break;
    }
    ++offset;
    ++count;
    MutexLock lock(&mu_);
    Level& l = table_[level];
    l.delivered = offset;
    l.unconfirmed.emplace_back(offset, put->wrote_offset.value() + put->wrote_bytes);
  }
  MutexLock lock(&mu_);
  Level& l = table_[level];
  if (l.delivered < offset) {  // skipped entries only
    l.delivered = offset;
    l.unconfirmed.emplace_back(offset, 0);
  }
  return count;
}

void ScheduleMessageService::Run() {
  auto last_persist = clock_.NowMillis();
  while (!IsStopped()) {
    if (may_deliver_()) DeliverDue();
    if (clock_.NowMillis() - last_persist >= options_.flush_interval.count()) {
      last_persist = clock_.NowMillis();
      if (Status s = Persist(); !s.ok())
        GetLogger("server")->error("delay progress not persisted: {}", s.ToString());
    }
    WaitForRunning(options_.poll_interval);
  }
  if (Status s = Persist(); !s.ok())
    GetLogger("server")->error("delay progress not persisted at stop: {}", s.ToString());
}

}  // namespace fmq::server
