#include "broker/server/timer_message_service.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"
#include "broker/model/delay.h"
#include "broker/model/message_format.h"
#include "broker/model/timer.h"
#include "broker/server/schedule_message_service.h"

namespace fmq::server {

namespace prop = model::prop;
using nlohmann::json;

namespace {
int64_t PropertyInt(std::string_view properties, std::string_view name, int64_t fallback) {
  auto v = model::FindProperty(properties, name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  return ec == std::errc() && p == v->data() + v->size() ? out : fallback;
}

std::string WithoutTimerRequest(std::string_view properties) {
  std::string p = model::WithProperty(properties, prop::kTimerDeliverMs, std::nullopt);
  p = model::WithProperty(p, prop::kTimerDelaySec, std::nullopt);
  return model::WithProperty(p, prop::kTimerDelayMs, std::nullopt);
}
}  // namespace

Status ApplyTimer(const store::MessageStoreConfig& config, int64_t now_ms, model::StoredMessage* msg) {
  const int32_t tx = model::sysflag::TransactionType(msg->sys_flag);
  if (tx != model::sysflag::kTransactionNotType && tx != model::sysflag::kTransactionCommit)
    return Status::Ok();
  if (msg->topic == model::kTimerTopic) return Status::Ok();
  const bool asked = model::FindProperty(msg->properties, prop::kTimerDeliverMs) ||
                     model::FindProperty(msg->properties, prop::kTimerDelaySec) ||
                     model::FindProperty(msg->properties, prop::kTimerDelayMs);
  if (!asked) return Status::Ok();
  if (auto d = model::FindProperty(msg->properties, prop::kDelayTimeLevel)) {
    if (auto level = model::ParseDelayLevelProperty(*d); level.ok() && *level > 0) {
      msg->properties = WithoutTimerRequest(msg->properties);  // a delay level wins, as in RocketMQ 5
      return Status::Ok();
    }
  }
  if (!config.timer_wheel_enable) {
    return Status::InvalidArgument(
        "timer messages are turned off on this broker (timerWheelEnable=false); nothing was stored");
  }
  FMQ_ASSIGN_OR_RETURN(auto deliver_ms, model::TimerDeliverMs(msg->properties, now_ms));
  if (!deliver_ms || *deliver_ms <= now_ms) return Status::Ok();  // due already: a plain message
  if (*deliver_ms - now_ms > config.timer_max_delay_sec * 1000) {
    return Status::InvalidArgument("timer message illegal: it is due in " +
                                   std::to_string((*deliver_ms - now_ms) / 1000) +
                                   " s, beyond timerMaxDelaySec " +
                                   std::to_string(config.timer_max_delay_sec) + " s; nothing was stored");
  }
  const int64_t slot = model::TimerSlotMs(*deliver_ms, config.timer_precision_ms);
  std::string props = model::WithProperty(msg->properties, prop::kTimerOutMs, std::to_string(slot));
  props = model::WithProperty(props, prop::kRealTopic, msg->topic);
  props = model::WithProperty(props, prop::kRealQueueId, std::to_string(msg->queue_id.value()));
  msg->properties = std::move(props);
  msg->topic = model::kTimerTopic;
  msg->queue_id = QueueId(0);
  return Status::Ok();
}

Result<model::StoredMessage> TimerTimeUp(const model::StoredMessage& timer, PhysicalOffset source,
                                         int64_t now_ms) {
  FMQ_ASSIGN_OR_RETURN(model::StoredMessage m, MessageTimeUp(timer));
  std::string props = model::WithProperty(m.properties, prop::kRealTopic, std::nullopt);
  props = model::WithProperty(props, prop::kRealQueueId, std::nullopt);
  props = model::WithProperty(props, prop::kTimerEnqueueMs, std::to_string(timer.store_timestamp));
  props = model::WithProperty(props, prop::kTimerDequeueMs, std::to_string(now_ms));
  props = model::WithProperty(props, prop::kTimerSource, std::to_string(source.value()));
  m.properties = std::move(props);
  return m;
}

TimerMessageService::TimerMessageService(Options options, store::MessageStore& store, io::FileSystem& fs,
                                         const Clock& clock, std::function<bool()> may_deliver)
    : ServiceThread("timer-message"),
      options_(std::move(options)),
      store_(store),
      fs_(fs),
      clock_(clock),
      may_deliver_(std::move(may_deliver)),
      wheel_(fs, options_.dir + "/links", options_.precision_ms, options_.slots) {}

TimerMessageService::~TimerMessageService() { Stop(); }

Status TimerMessageService::Load(bool trust_checkpoint) {
  auto log = GetLogger("server");
  const int64_t start_ms = Now();
  load_started_ms_ = start_ms;
  const std::string path = options_.dir + "/checkpoint.json";
  const QueueId q(0);
  const int64_t cq_min = store_.MinOffsetInQueue(model::kTimerTopic, q).value();
  const int64_t cq_max = store_.MaxOffsetInQueue(model::kTimerTopic, q).value();
  std::optional<Checkpoint> cp;
  if (trust_checkpoint && fs_.Exists(path)) {
    FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path));
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    auto num = [&](const char* k) -> std::optional<int64_t> {
      auto it = j.is_object() ? j.find(k) : j.end();
      if (it == j.end() || !it->is_number_integer()) return std::nullopt;
      return it->get<int64_t>();
    };
    auto d = num("dequeueSlotMs"), e = num("enqueueOffset"), l = num("lowWater"), s = num("scanFrom");
    if (!d || !e || !l || !s) {
      return Status::Corruption(path +
                                " cannot be read; remove it to rebuild timer progress from the commit "
                                "log (slower start, nothing delivered twice)");
    }
    cp = Checkpoint{*d, *e, *l, *s};
  }
  Checkpoint use;
  if (cp) {
    use = *cp;
  } else {
    // Nothing known: every timer record still in the queue may be pending, and any of them may have been
    // delivered already (this broker was a slave, or the file was removed): the whole log tells which.
    use.dequeue_slot_ms = Floor(Now());
    use.enqueue_offset = cq_min;
    use.low_water = cq_min;
    use.scan_from = cq_max > cq_min ? store_.MinPhyOffset().value() : store_.MaxPhyOffset().value();
  }
  dequeue_slot_ms_ = use.dequeue_slot_ms;
  known_offset_ = std::clamp(use.enqueue_offset, cq_min, cq_max);
  known_delivered_before_ms_ = use.dequeue_slot_ms;
  const int64_t base = std::clamp(use.low_water, cq_min, cq_max);
  FMQ_RETURN_IF_ERROR(wheel_.Reset(base));
  delivered_.clear();
  size_t scanned = 0;
  FMQ_RETURN_IF_ERROR(store_.ScanMessages(
      PhysicalOffset(use.scan_from), [&](PhysicalOffset, const model::StoredMessageView& m) {
        ++scanned;
        const int64_t src = PropertyInt(m.properties, prop::kTimerSource, -1);
        if (src >= 0) delivered_.insert(src);
        return true;
      }));
  rebuilding_ = true;
  rebuild_until_ = cq_max;
  loaded_ = true;
  complete_ = false;
  log->info(
      "timer service loaded checkpoint={} dequeue_slot_ms={} relink_from={} queue_end={} scanned_from={} "
      "records_scanned={} deliveries_found={} took_ms={}",
      cp ? "yes" : "no", dequeue_slot_ms_, base, cq_max, use.scan_from, scanned, delivered_.size(),
      Now() - start_ms);
  return Status::Ok();
}

bool TimerMessageService::Fire(const store::CqEntry& entry, int64_t slot_ms, int64_t now) {
  auto log = GetLogger("server");
  if (delivered_.erase(entry.offset.value()) > 0) return true;  // stored again before a restart
  auto timer = store_.LookMessageByOffset(entry.offset);
  if (!timer.ok()) {
    log->error("timer record at commit-log offset {} cannot be read ({}); skipped", entry.offset.value(),
               timer.status().ToString());
    return true;
  }
  model::StoredMessage out;
  if (entry.tags_code > slot_ms) {
    // Beyond the window when it was linked: store it again, to be linked when the window reaches it.
    out = *timer;
    out.properties =
        model::WithProperty(out.properties, prop::kTimerRollTimes,
                            std::to_string(PropertyInt(timer->properties, prop::kTimerRollTimes, 0) + 1));
    out.properties =
        model::WithProperty(out.properties, prop::kTimerSource, std::to_string(entry.offset.value()));
  } else {
    auto real = TimerTimeUp(*timer, entry.offset, now);
    if (!real.ok()) {
      log->error("timer record at commit-log offset {}: {}; skipped", entry.offset.value(),
                 real.status().ToString());
      return true;
    }
    out = std::move(*real);
  }
  auto put = store_.PutMessage(std::move(out));
  if (!put.ok()) {
    log->warn("timer record at commit-log offset {} not stored again yet: {}", entry.offset.value(),
              put.status().ToString());
    return false;
  }
  delivered_total_.fetch_add(1, std::memory_order_relaxed);
  ++fired_;
  return true;
}

bool TimerMessageService::Enqueue() {
  const QueueId q(0);
  const int64_t cq_max = store_.MaxOffsetInQueue(model::kTimerTopic, q).value();
  while (wheel_.next_offset() < cq_max) {
    const int64_t i = wheel_.next_offset();
    auto entry = store_.ConsumeQueueEntry(model::kTimerTopic, q, QueueOffset(i));
    if (!entry.ok()) {
      // Deleted by retention before it was linked: nothing to deliver there any more.
      const int64_t cq_min = store_.MinOffsetInQueue(model::kTimerTopic, q).value();
      if (i >= cq_min) return false;
      GetLogger("server")->warn("timer records {}..{} were deleted by retention before they were linked", i,
                                cq_min);
      while (wheel_.next_offset() < cq_min) {
        if (Status s = wheel_.Skip(wheel_.next_offset()); !s.ok()) return false;
      }
      continue;
    }
    const int64_t slot = entry->tags_code;
    if (rebuilding_) {
      // A rolled copy names the record it replaces: that one is done whenever its slot comes.
      if (auto rec = store_.LookMessageByOffset(entry->offset); rec.ok()) {
        const int64_t src = PropertyInt(rec->properties, prop::kTimerSource, -1);
        if (src >= 0) delivered_.insert(src);
      }
    }
    if (i < known_offset_ && slot < known_delivered_before_ms_) {
      if (Status s = wheel_.Skip(i); !s.ok()) return false;  // delivered before the checkpoint
      continue;
    }
    if (slot < dequeue_slot_ms_) {
      // Due already (linked late): deliver it now rather than in a slot.
      if (!Fire(*entry, dequeue_slot_ms_, Now())) return false;
      if (Status s = wheel_.Skip(i); !s.ok()) return false;
      continue;
    }
    const int64_t last_slot = dequeue_slot_ms_ + wheel_.window_ms() - options_.precision_ms;
    if (Status s = wheel_.Add(i, std::min(slot, last_slot)); !s.ok()) {
      GetLogger("server")->error("timer wheel: {}", s.ToString());
      return false;
    }
  }
  if (rebuilding_ && wheel_.next_offset() >= rebuild_until_) {
    rebuilding_ = false;
    GetLogger("server")->info("timer wheel rebuilt pending={} took_ms={}", wheel_.pending(),
                              Now() - load_started_ms_);
  }
  return true;
}

bool TimerMessageService::DeliverSlot(int64_t slot_ms) {
  const int64_t now = Now();
  std::vector<int64_t> done;
  for (int64_t i : wheel_.Entries(slot_ms)) {
    auto entry = store_.ConsumeQueueEntry(model::kTimerTopic, QueueId(0), QueueOffset(i));
    if (!entry.ok()) continue;  // deleted by retention
    if (!Fire(*entry, slot_ms, now)) {
      // Retried at the next pass: what this pass stored is skipped then.
      for (int64_t d : done) delivered_.insert(d);
      return false;
    }
    done.push_back(entry->offset.value());
  }
  wheel_.Clear(slot_ms);
  return true;
}

int TimerMessageService::RunOnce() {
  fired_ = 0;
  complete_ = false;
  if (!loaded_) return 0;
  bool ok = Enqueue();
  while (ok && dequeue_slot_ms_ <= Now() && !IsStopped()) {
    ok = DeliverSlot(dequeue_slot_ms_);
    if (ok) dequeue_slot_ms_ += options_.precision_ms;
  }
  complete_ = ok;
  pending_.store(wheel_.pending(), std::memory_order_relaxed);
  dequeue_progress_.store(dequeue_slot_ms_, std::memory_order_relaxed);
  return fired_;
}

Status TimerMessageService::Persist() {
  if (!loaded_ || !complete_ || rebuilding_) return Status::Ok();
  const int64_t low = wheel_.LowWater().value_or(wheel_.next_offset());
  json j = {{"dequeueSlotMs", dequeue_slot_ms_},
            {"enqueueOffset", wheel_.next_offset()},
            {"lowWater", low},
            {"scanFrom", store_.MaxPhyOffset().value()},
            {"precisionMs", options_.precision_ms},
            {"slots", options_.slots}};
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(options_.dir));
  FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, options_.dir + "/checkpoint.json", j.dump()));
  // Every delivery up to here is covered by the checkpoint now.
  known_offset_ = wheel_.next_offset();
  known_delivered_before_ms_ = dequeue_slot_ms_;
  return wheel_.DropBelow(low);
}

std::map<std::string, std::string> TimerMessageService::RuntimeStats() const {
  return {{"timerPending", std::to_string(pending())},
          {"timerDelivered", std::to_string(delivered_total())},
          {"timerDequeueSlotMs", std::to_string(dequeue_progress_.load(std::memory_order_relaxed))}};
}

void TimerMessageService::Run() {
  auto log = GetLogger("server");
  bool was_master = false;
  bool was_slave = false;
  const auto tick = std::chrono::milliseconds(std::clamp<int64_t>(options_.precision_ms / 10, 10, 100));
  while (!IsStopped()) {
    const bool master = may_deliver_();
    if (master && !was_master) {
      // Started, or promoted: a promoted slave's checkpoint file is not its own progress.
      if (Status s = Load(/*trust_checkpoint=*/!was_slave); !s.ok()) {
        log->error("timer service cannot load: {}", s.ToString());
        WaitForRunning(std::chrono::milliseconds(1000));
        continue;
      }
    }
    was_master = master;
    if (master) {
      RunOnce();
      if (Now() - last_persist_ms_ >= options_.flush_interval_ms) {
        last_persist_ms_ = Now();
        if (Status s = Persist(); !s.ok()) log->error("timer progress not persisted: {}", s.ToString());
      }
    } else {
      loaded_ = false;
      was_slave = true;
    }
    WaitForRunning(tick);
  }
  if (was_master) {
    if (Status s = Persist(); !s.ok()) log->error("timer progress not persisted at stop: {}", s.ToString());
  }
}

}  // namespace fmq::server
