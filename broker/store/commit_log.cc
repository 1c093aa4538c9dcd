#include "broker/store/commit_log.h"

#include <algorithm>

#include "broker/base/check.h"
#include "broker/base/coding.h"
#include "broker/base/logging.h"

namespace fmq::store {

using model::kBlankMagic;
using model::kMessageMagicV1;

std::string QueueKey(std::string_view topic, QueueId queue_id) {
  std::string key(topic);
  key += '-';
  key += std::to_string(queue_id.value());
  return key;
}

CheckedRecord CheckRecord(const uint8_t* p, size_t segment_left, size_t written_left, int64_t phys,
                          bool check_crc) {
  CheckedRecord r;
  written_left = std::min(written_left, segment_left);
  if (segment_left == 0) {
    r.kind = RecordKind::kBlank;  // a segment that is exactly full
    return r;
  }
  if (written_left < model::kEndFileMinBlankLength) {
    r.problem = "fewer than 8 bytes left";
    return r;
  }
  const int32_t total = DecodeI32(p);
  const int32_t magic = DecodeI32(p + 4);
  if (magic == kBlankMagic) {
    if (static_cast<size_t>(total) == segment_left) {
      r.kind = RecordKind::kBlank;
      r.size = static_cast<size_t>(total);
    } else {
      r.problem = "blank marker with size " + std::to_string(total) + " but " + std::to_string(segment_left) +
                  " bytes left in the segment";
    }
    return r;
  }
  if (magic != kMessageMagicV1) {
    r.problem = total == 0 && magic == 0 ? "end of data (zeros)" : "bad magic code " + std::to_string(magic);
    return r;
  }
  if (total <= 0 || static_cast<size_t>(total) > written_left) {
    r.problem = "record size " + std::to_string(total) + " exceeds the " + std::to_string(written_left) +
                " bytes written";
    return r;
  }
  auto view = model::DecodeStoredMessageView({p, static_cast<size_t>(total)}, check_crc);
  if (!view.ok()) {
    r.problem = std::string(view.status().message());
    return r;
  }
  if (view->physical_offset.value() != phys) {
    r.problem = "record claims physical offset " + std::to_string(view->physical_offset.value()) +
                " but sits at " + std::to_string(phys);
    return r;
  }
  r.kind = RecordKind::kMessage;
  r.size = static_cast<size_t>(total);
  r.view = *view;
  return r;
}

CheckedRecord CheckRecordAt(const MappedFile& file, size_t pos, size_t limit, bool check_crc) {
  if (pos >= file.size()) return CheckRecord(nullptr, 0, 0, 0, check_crc);
  return CheckRecord(file.data() + pos, file.size() - pos,
                     std::min(limit, file.size()) - std::min(pos, limit),
                     file.base_offset() + static_cast<int64_t>(pos), check_crc);
}

// ---------------------------------------------------------------------------------------------------------
// Flush services

// ASYNC_FLUSH: flushes every flushIntervalCommitLog when enough pages are dirty, everything every
// flushCommitLogThoroughInterval.
class CommitLog::FlushService : public ServiceThread {
 public:
  explicit FlushService(CommitLog* log) : ServiceThread("fmq-cl-flush"), log_(log) {}

 protected:
  void Run() override {
    const auto& cfg = log_->config_;
    int64_t last_thorough = log_->clock_.MonotonicNanos();
    while (!IsStopped()) {
      WaitForRunning(std::chrono::milliseconds(cfg.flush_interval_commit_log_ms));
      int least = cfg.flush_commit_log_least_pages;
      int64_t now = log_->clock_.MonotonicNanos();
      if (now - last_thorough >= int64_t{cfg.flush_commit_log_thorough_interval_ms} * 1'000'000) {
        last_thorough = now;
        least = 0;
      }
      int64_t ts = log_->last_store_ts_.load(std::memory_order_acquire);
      int64_t max = log_->max_offset_.load(std::memory_order_acquire);
      Status s = log_->FlushTo(max, least);
      if (!s.ok()) {
        GetLogger("store")->error("commit log flush failed error={}", s.ToString());
        continue;
      }
      log_->NoteFlushed(ts, max);
    }
  }

 private:
  CommitLog* log_;  // owner
};

// SYNC_FLUSH group commit: waiters queue (offset, deadline, callback); each round takes every queued request,
// makes the log durable up to the furthest one with as few syncs as possible, and answers them all.
class CommitLog::GroupCommitService : public ServiceThread {
 public:
  struct Request {
    int64_t next_offset;
    int64_t deadline_nanos;
    PutMessageResult result;
    PutCallback done;
  };

  explicit GroupCommitService(CommitLog* log) : ServiceThread("fmq-group-commit"), log_(log) {}

  // Asynchronous waiter: `done` runs on this service's thread once the request's bytes are durable.
  void Enqueue(Request req) {
    MutexLock lock(&mu_);
    requests_.push_back(std::move(req));
    if (idle_) work_cv_.Signal();
  }

  // Non-blocking request: the next round flushes at least up to `offset`.
  void RequestFlush(int64_t offset) {
    if (flushed_pub_.load(std::memory_order_acquire) >= offset) return;
    MutexLock lock(&mu_);
    if (offset <= want_) return;
    want_ = offset;
    if (idle_) work_cv_.Signal();
  }

  // Blocking waiter: returns once everything below `offset` is durable, the flush failed, or the deadline
  // passed. Blocking waiters sleep on an atomic round counter (a futex) that each round bumps and wakes once:
  // a woken waiter re-checks two atomics and returns without touching a mutex, so 64 waiters cost one wake-up
  // call per round and no lock convoy. While waiters exist and no round runs, the service ticks the counter
  // every 10 ms so deadlines are noticed.
  Status WaitFlushed(int64_t offset, int64_t deadline_nanos) {
    if (flushed_pub_.load(std::memory_order_acquire) >= offset) return DurableOrFailed(offset);
    {
      MutexLock lock(&mu_);
      want_ = std::max(want_, offset);
      if (idle_) work_cv_.Signal();
    }
    blocked_waiters_.fetch_add(1, std::memory_order_acq_rel);
    Status result;
    while (true) {
      const uint32_t round = rounds_pub_.load(std::memory_order_acquire);
      // A sync that covered this append and failed is reported even if a later round succeeded: after an
      // fdatasync error the kernel may have dropped the dirty pages, so a later success proves nothing.
      if (failed_through_.load(std::memory_order_acquire) >= offset) {
        result = FailedStatus();
        break;
      }
      if (flushed_pub_.load(std::memory_order_acquire) >= offset) {
        result = DurableOrFailed(offset);
        break;
      }
      if (IsStopped()) {
        result = Status::Unavailable("the commit log is shutting down");
        break;
      }
      if (log_->clock_.MonotonicNanos() >= deadline_nanos) {
        result = Status::DeadlineExceeded("flush disk timeout");
        break;
      }
      rounds_pub_.wait(round, std::memory_order_acquire);
    }
    blocked_waiters_.fetch_sub(1, std::memory_order_acq_rel);
    return result;
  }

 protected:
  void Run() override {
    while (!IsStopped()) Round(/*final=*/false);
    Round(/*final=*/true);  // answer whatever arrived before Stop
  }

 private:
  void Round(bool final) {
    std::vector<Request> batch;
    int64_t target;
    {
      MutexLock lock(&mu_);
      // Sleep only when nobody waits; appenders wake us through idle_.
      while (!final && requests_.empty() && want_ <= flushed_ && !IsStopped()) {
        idle_ = true;
        if (!work_cv_.WaitFor(std::chrono::milliseconds(10)) && blocked_waiters_.load() > 0) Tick();
      }
      idle_ = false;
      batch.swap(requests_);
      target = want_;
    }
    for (const auto& r : batch) target = std::max(target, r.next_offset);
    const int64_t ts = log_->last_store_ts_.load(std::memory_order_acquire);
    const int64_t max = log_->max_offset_.load(std::memory_order_acquire);
    Status s = log_->FlushTo(std::max(target, max), 0);
    if (s.ok()) log_->NoteFlushed(ts, max);
    const int64_t flushed = log_->queue_.FlushedWhere();
    {
      MutexLock lock(&mu_);
      flushed_ = flushed;
      if (!s.ok()) last_failure_ = s;
    }
    if (!s.ok()) {
      const int64_t covered = std::max(target, max);
      int64_t prev = failed_through_.load(std::memory_order_acquire);
      while (prev < covered &&
             !failed_through_.compare_exchange_weak(prev, covered, std::memory_order_acq_rel)) {
      }
    }
    flushed_pub_.store(flushed, std::memory_order_release);
    Tick();
    if (!s.ok() && !final) {
      // A failing device is retried every 2 ms, not in a busy loop.
      MutexLock lock(&mu_);
      if (!IsStopped()) (void)work_cv_.WaitFor(std::chrono::milliseconds(2));
    }
    const int64_t now = log_->clock_.MonotonicNanos();
    for (auto& r : batch) {
      if (r.next_offset <= flushed) {
        if (now > r.deadline_nanos) {
          r.done(
              Status::DeadlineExceeded("flush disk timeout: the message is stored but its sync took longer "
                                       "than syncFlushTimeout"));
        } else {
          r.done(std::move(r.result));
        }
      } else {
        r.done(s.ok() ? Status::DeadlineExceeded("flush disk timeout") : s.WithContext("flush disk failed"));
      }
    }
  }

  // After seeing flushed_pub_ >= offset (acquire): a failure recorded by an earlier round is visible now.
  Status DurableOrFailed(int64_t offset) {
    return failed_through_.load(std::memory_order_acquire) >= offset ? FailedStatus() : Status::Ok();
  }

  Status FailedStatus() {
    MutexLock lock(&mu_);
    return last_failure_.WithContext("flush disk failed");
  }

  // Wakes every blocking waiter once.
  void Tick() {
    rounds_pub_.fetch_add(1, std::memory_order_acq_rel);
    rounds_pub_.notify_all();
  }

  CommitLog* log_;  // owner
  Mutex mu_;
  CondVar work_cv_{&mu_};  // wakes the service when it is idle
  std::vector<Request> requests_ FMQ_GUARDED_BY(mu_);
  int64_t want_ FMQ_GUARDED_BY(mu_) = 0;     // furthest offset a blocking waiter needs
  int64_t flushed_ FMQ_GUARDED_BY(mu_) = 0;  // durable offset published by the last round
  Status last_failure_ FMQ_GUARDED_BY(mu_);  // the latest failed sync
  bool idle_ FMQ_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> flushed_pub_{0};  // == flushed_, for lock-free waiters
  std::atomic<uint32_t> rounds_pub_{0};  // futex word blocking waiters sleep on
  // Highest offset a failed sync was meant to cover: appends below it are never reported durable.
  std::atomic<int64_t> failed_through_{-1};
  std::atomic<int> blocked_waiters_{0};
};

// ---------------------------------------------------------------------------------------------------------
// CommitLog

namespace {
// SYNC_FLUSH syncs after every group of appends: positional writes into pre-written pages sync ~2.4x faster
// than mapped pages here. ASYNC_FLUSH appends by memcpy when the pages were pre-touched
// (warmMappedFileEnable), the cheapest append; otherwise by pwrite: a memcpy into a fresh mapped page faults,
// and the fault reads ahead (zeroing) a whole window of the unwritten segment, which cost the broker 12 %
// more CPU per 1 KiB send than pwrite (bench/README.md).
WriteMode WriteModeFor(const MessageStoreConfig& c) {
  if (c.flush_disk_type == FlushDiskType::kSync) return WriteMode::kPositional;
  return c.warm_mapped_file_enable ? WriteMode::kMapped : WriteMode::kPositional;
}
WarmMode WarmFor(const MessageStoreConfig& c) {
  if (c.flush_disk_type == FlushDiskType::kSync) return WarmMode::kPrewrite;
  return c.warm_mapped_file_enable ? WarmMode::kTouch : WarmMode::kNone;
}
}  // namespace

CommitLog::CommitLog(const MessageStoreConfig& config, io::FileSystem& fs, const Clock& clock,
                     StoreCheckpoint* checkpoint)
    : config_(config),
      clock_(clock),
      checkpoint_(checkpoint),
      allocator_(std::make_unique<MappedFileAllocator>(fs, WarmFor(config), WriteModeFor(config))),
      queue_(fs, config.CommitLogDir(), config.mapped_file_size_commit_log, allocator_.get(), WarmFor(config),
             WriteModeFor(config)) {}

CommitLog::~CommitLog() { Stop(); }

Status CommitLog::Load() { return queue_.Load(); }

Result<PhysicalOffset> CommitLog::Recover(bool abnormal, int64_t checkpoint_timestamp) {
  auto log = GetLogger("store");
  auto files = queue_.Files();
  if (files.empty()) {
    max_offset_.store(0);
    complete_end_.store(0);
    return PhysicalOffset(0);
  }
  size_t start = files.size() > 3 ? files.size() - 3 : 0;
  if (abnormal) {
    start = 0;
    const int64_t safe_ts = checkpoint_timestamp - 3000;
    for (size_t i = files.size(); i-- > 0;) {
      CheckedRecord first = CheckRecordAt(*files[i], 0, files[i]->size(), config_.check_crc_on_recover);
      if (first.kind == RecordKind::kMessage && checkpoint_timestamp > 0 &&
          first.view.store_timestamp <= safe_ts) {
        start = i;
        break;
      }
    }
  }
  size_t idx = start;
  size_t pos = 0;
  int64_t last_ts = 0;
  int64_t messages = 0;
  std::string problem;
  while (true) {
    CheckedRecord r = CheckRecordAt(*files[idx], pos, files[idx]->size(), config_.check_crc_on_recover);
    if (r.kind == RecordKind::kMessage) {
      pos += r.size;
      last_ts = r.view.store_timestamp;
      ++messages;
      continue;
    }
    if (r.kind == RecordKind::kBlank && idx + 1 < files.size()) {
      ++idx;
      pos = 0;
      continue;
    }
    if (r.kind == RecordKind::kBlank) pos = files[idx]->size();
    problem = r.problem;
    break;
  }
  const int64_t end = files[idx]->base_offset() + static_cast<int64_t>(pos);
  log->info("commit log recovered mode={} scanned_from={} messages={} valid_end={} stop_reason=\"{}\"",
            abnormal ? "abnormal" : "normal", files[start]->base_offset(), messages, end, problem);
  // Everything after the valid end is a torn or never-acknowledged tail: cut it (zeroing the bytes).
  FMQ_RETURN_IF_ERROR(queue_.Truncate(end));
  max_offset_.store(end, std::memory_order_release);
  complete_end_.store(end, std::memory_order_release);
  if (last_ts > 0) last_store_ts_.store(last_ts, std::memory_order_release);
  return PhysicalOffset(abnormal ? files[start]->base_offset() : end);
}

Status CommitLog::Start() {
  FMQ_RETURN_IF_ERROR(allocator_->Start());
  if (config_.flush_disk_type == FlushDiskType::kSync) {
    group_commit_ = std::make_unique<GroupCommitService>(this);
    return group_commit_->Start();
  }
  flush_service_ = std::make_unique<FlushService>(this);
  return flush_service_->Start();
}

void CommitLog::Stop() {
  if (group_commit_) group_commit_->Stop();
  if (flush_service_) flush_service_->Stop();
  allocator_->Stop();
  Status s = FlushAll();
  if (!s.ok()) GetLogger("store")->error("final commit log flush failed error={}", s.ToString());
}

Status CommitLog::WaitFlushed(int64_t offset) {
  if (!group_commit_) return Status::Ok();
  return group_commit_->WaitFlushed(
      offset, clock_.MonotonicNanos() + int64_t{config_.sync_flush_timeout_ms} * 1'000'000);
}

void CommitLog::RequestFlush(int64_t offset) {
  if (group_commit_) group_commit_->RequestFlush(offset);
}

Status CommitLog::FlushAll() {
  int64_t ts = last_store_ts_.load(std::memory_order_acquire);
  int64_t max = max_offset_.load(std::memory_order_acquire);
  FMQ_RETURN_IF_ERROR(FlushTo(max, 0));
  NoteFlushed(ts, max);
  return Status::Ok();
}

Status CommitLog::FlushTo(int64_t target, int least_pages) {
  // One round per segment crossed; two is the usual worst case (a roll since the last flush).
  for (int i = 0; i < 64 && queue_.FlushedWhere() < target; ++i) {
    const int64_t started = clock_.MonotonicNanos();
    FMQ_ASSIGN_OR_RETURN(bool progressed, queue_.Flush(least_pages));
    if (!progressed) break;
    syncs_.fetch_add(1, std::memory_order_relaxed);
    if (Histogram* h = flush_histogram_.load(std::memory_order_acquire)) {
      h->Observe(static_cast<double>(clock_.MonotonicNanos() - started) / 1e6);
    }
  }
  return Status::Ok();
}

void CommitLog::NoteFlushed(int64_t timestamp_before_flush, int64_t max_offset_before_flush) {
  if (checkpoint_ != nullptr && timestamp_before_flush > 0 &&
      queue_.FlushedWhere() >= max_offset_before_flush) {
    checkpoint_->set_physic_msg_timestamp(timestamp_before_flush);
  }
}

void CommitLog::SetQueueOffsetTable(std::unordered_map<std::string, int64_t> table) {
  MutexLock lock(&put_mu_);
  queue_offsets_.clear();
  for (auto& [k, v] : table) queue_offsets_.emplace(k, v);
}

void CommitLog::RemoveQueueFromTable(std::string_view topic, QueueId queue_id) {
  MutexLock lock(&put_mu_);
  queue_offsets_.erase(QueueKey(topic, queue_id));
}

void CommitLog::AsyncPut(std::vector<model::StoredMessage> messages, bool wait_for_flush, PutCallback done) {
  FMQ_CHECK(!messages.empty());
  // Encode outside the lock: every field but the three the lock assigns, CRC included.
  thread_local std::string buf;
  buf.clear();
  std::vector<EncodedSlot> slots;
  slots.reserve(messages.size());
  for (const auto& m : messages) {
    slots.push_back({buf.size(), buf.size() + m.StoreTimestampPos()});
    model::EncodeStoredMessage(m, /*compute_crc=*/true, &buf);
  }
  if (buf.size() + model::kEndFileMinBlankLength > config_.mapped_file_size_commit_log) {
    done(Status::InvalidArgument("message batch of " + std::to_string(buf.size()) +
                                 " bytes does not fit in a commit-log segment"));
    return;
  }
  const bool dispatchable = model::sysflag::IsDispatchable(messages.front().sys_flag);
  const std::string key = QueueKey(messages.front().topic, messages.front().queue_id);

  PutMessageResult result;
  Status appended;
  {
    MutexLock lock(&put_mu_);
    appended = AppendLocked(buf, slots, dispatchable, key, &result);
  }
  if (!appended.ok()) {
    done(std::move(appended));
    return;
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (i > 0) result.msg_id += ',';
    result.msg_id += model::CreateOffsetMessageId(
        config_.store_host, PhysicalOffset(result.wrote_offset.value() + static_cast<int64_t>(slots[i].pos)));
  }
  if (group_commit_ && wait_for_flush) {
    group_commit_->Enqueue({result.wrote_offset.value() + result.wrote_bytes,
                            clock_.MonotonicNanos() + int64_t{config_.sync_flush_timeout_ms} * 1'000'000,
                            std::move(result), std::move(done)});
    return;
  }
  if (group_commit_) group_commit_->Wakeup();
  done(std::move(result));
}

Status CommitLog::AppendLocked(std::string& buf, const std::vector<EncodedSlot>& slots, bool dispatchable,
                               const std::string& key, PutMessageResult* result) {
  if (!sealed_why_.empty()) return Status::Unavailable(sealed_why_);
  const size_t total = buf.size();
  auto file = queue_.LastOrCreate(max_offset_.load(std::memory_order_relaxed));
  if (!file.ok()) return file.status().WithContext("create commit-log segment");
  std::shared_ptr<MappedFile> f = *file;
  if (total + model::kEndFileMinBlankLength > f->Remaining()) {
    // Does not fit: close this segment with a blank marker and continue in the next one.
    const size_t wrote = f->WrotePosition();
    uint8_t blank[8];
    EncodeI32(blank, static_cast<int32_t>(f->size() - wrote));
    EncodeI32(blank + 4, kBlankMagic);
    FMQ_RETURN_IF_ERROR(f->Write(wrote, blank).WithContext("write end-of-segment marker"));
    f->SetWrotePosition(f->size());
    max_offset_.store(f->base_offset() + static_cast<int64_t>(f->size()), std::memory_order_release);
    complete_end_.store(max_offset_.load(std::memory_order_relaxed), std::memory_order_release);
    file = queue_.LastOrCreate(max_offset_.load(std::memory_order_relaxed));
    if (!file.ok()) return file.status().WithContext("create commit-log segment");
    f = *file;
  }
  const int64_t store_ts = std::max(clock_.NowMillis(), last_store_ts_.load(std::memory_order_relaxed));
  const size_t wrote = f->WrotePosition();
  const int64_t phys = f->base_offset() + static_cast<int64_t>(wrote);
  // PREPARED / ROLLBACK records take no queue offset (they are never dispatched).
  int64_t* next_queue_offset = nullptr;
  if (dispatchable) {
    auto it = queue_offsets_.find(std::string_view(key));
    if (it == queue_offsets_.end()) it = queue_offsets_.emplace(key, 0).first;
    next_queue_offset = &it->second;
  }
  const int64_t first_queue_offset = dispatchable ? *next_queue_offset : 0;
  uint8_t* b = reinterpret_cast<uint8_t*>(buf.data());
  for (size_t i = 0; i < slots.size(); ++i) {
    EncodeI64(b + slots[i].pos + model::kQueueOffsetPos,
              dispatchable ? first_queue_offset + static_cast<int64_t>(i) : 0);
    EncodeI64(b + slots[i].pos + model::kPhysicalOffsetPos, phys + static_cast<int64_t>(slots[i].pos));
    EncodeI64(b + slots[i].store_ts_pos, store_ts);
  }
  // On failure nothing was published: the next append overwrites the same position.
  FMQ_RETURN_IF_ERROR(f->Write(wrote, {b, total}).WithContext("append to commit log"));
  f->SetWrotePosition(wrote + total);
  if (dispatchable) *next_queue_offset += static_cast<int64_t>(slots.size());
  last_store_ts_.store(store_ts, std::memory_order_release);
  max_offset_.store(phys + static_cast<int64_t>(total), std::memory_order_release);
  complete_end_.store(phys + static_cast<int64_t>(total), std::memory_order_release);

  result->wrote_offset = PhysicalOffset(phys);
  result->wrote_bytes = static_cast<int32_t>(total);
  result->queue_offset = QueueOffset(dispatchable ? first_queue_offset : 0);
  result->message_count = static_cast<int32_t>(slots.size());
  result->store_timestamp = store_ts;
  return Status::Ok();
}

void CommitLog::SealAppends(std::string why) {
  FMQ_CHECK(!why.empty());
  MutexLock lock(&put_mu_);
  sealed_why_ = std::move(why);
}

void CommitLog::UnsealAppends() {
  MutexLock lock(&put_mu_);
  sealed_why_.clear();
}

Status CommitLog::AppendReplicated(PhysicalOffset offset, std::span<const uint8_t> bytes) {
  MutexLock lock(&put_mu_);
  int64_t max = max_offset_.load(std::memory_order_relaxed);
  const auto seg = static_cast<int64_t>(config_.mapped_file_size_commit_log);
  if (offset.value() != max && max == queue_.MinOffset() && !queue_.Empty()) {
    // No data yet, only the empty segment prepared for the first append: start where the master's bytes do.
    if (offset.value() < 0 || offset.value() % seg != 0) {
      return Status::FailedPrecondition(
          "an empty commit log can start copying only at a segment start (a "
          "multiple of mappedFileSizeCommitLog " +
          std::to_string(seg) + "), not at " + std::to_string(offset.value()));
    }
    FMQ_RETURN_IF_ERROR(queue_.Clear());
  }
  if (queue_.Empty()) {
    if (offset.value() < 0 || offset.value() % seg != 0) {
      return Status::FailedPrecondition(
          "an empty commit log can start copying only at a segment start (a "
          "multiple of mappedFileSizeCommitLog " +
          std::to_string(seg) + "), not at " + std::to_string(offset.value()));
    }
    max = offset.value();
    max_offset_.store(max, std::memory_order_release);
    complete_end_.store(max, std::memory_order_release);
  } else if (offset.value() != max) {
    return Status::FailedPrecondition("replicated bytes start at " + std::to_string(offset.value()) +
                                      " but this commit log ends at " + std::to_string(max));
  }
  while (!bytes.empty()) {
    FMQ_ASSIGN_OR_RETURN(auto file, queue_.LastOrCreate(max));
    if (file->base_offset() + static_cast<int64_t>(file->WrotePosition()) != max) {
      return Status::Internal("commit-log segment " + file->path() + " does not end at " +
                              std::to_string(max));
    }
    const size_t pos = file->WrotePosition();
    const size_t n = std::min(bytes.size(), file->size() - pos);
    FMQ_RETURN_IF_ERROR(file->Write(pos, bytes.first(n)).WithContext("append replicated bytes"));
    file->SetWrotePosition(pos + n);
    max += static_cast<int64_t>(n);
    max_offset_.store(max, std::memory_order_release);
    bytes = bytes.subspan(n);
  }
  WalkReplicatedRecords();
  return Status::Ok();
}

void CommitLog::WalkReplicatedRecords() {
  const int64_t max = max_offset_.load(std::memory_order_relaxed);
  int64_t walk = complete_end_.load(std::memory_order_relaxed);
  while (!walk_stopped_ && walk < max) {
    auto file = queue_.FindByOffset(walk);
    if (!file) break;
    const size_t pos = static_cast<size_t>(walk - file->base_offset());
    const size_t written = std::min<size_t>(file->WrotePosition(), file->size());
    if (pos >= file->size()) {
      walk = file->base_offset() + static_cast<int64_t>(file->size());
      continue;
    }
    if (written < pos + model::kEndFileMinBlankLength) break;  // the next record's head has not arrived
    const uint8_t* p = file->data() + pos;
    const int32_t total = DecodeI32(p);
    const int32_t magic = DecodeI32(p + 4);
    if (magic == kBlankMagic) {
      // The rest of the segment is the end-of-file filler: whole once the segment's last byte arrived.
      if (written < file->size()) break;
      walk = file->base_offset() + static_cast<int64_t>(file->size());
    } else if (magic == kMessageMagicV1 && total > 0 && static_cast<size_t>(total) <= file->size() - pos) {
      if (written < pos + static_cast<size_t>(total)) break;  // the rest of the record is still coming
      const int32_t sys_flag = DecodeI32(p + model::kSysFlagPos);
      const size_t ts_pos =
          model::kBornHostPos +
          ((sys_flag & model::sysflag::kBornHostV6) ? model::kHostV6Length : model::kHostV4Length);
      if (ts_pos + 8 <= static_cast<size_t>(total)) {
        last_store_ts_.store(DecodeI64(p + ts_pos), std::memory_order_release);
      }
      walk += total;
    } else {
      // Not a record: the master's bytes are not a commit log this broker understands. Dispatch reports the
      // corruption with details; here only the cut point stops moving.
      GetLogger("store")->error(
          "replicated bytes at commit-log offset {} are not a record (size={} magic={})", walk, total, magic);
      walk_stopped_ = true;
      break;
    }
    complete_end_.store(walk, std::memory_order_release);
  }
}

Status CommitLog::TruncateTo(PhysicalOffset offset) {
  MutexLock lock(&put_mu_);
  if (offset > CompleteEnd()) {
    return Status::InvalidArgument("cannot cut the commit log at " + std::to_string(offset.value()) +
                                   ", beyond its last whole record at " +
                                   std::to_string(CompleteEnd().value()));
  }
  FMQ_RETURN_IF_ERROR(FlushTo(offset.value(), 0));
  FMQ_RETURN_IF_ERROR(queue_.Truncate(offset.value()));
  max_offset_.store(offset.value(), std::memory_order_release);
  complete_end_.store(offset.value(), std::memory_order_release);
  last_store_ts_.store(0, std::memory_order_release);
  walk_stopped_ = false;
  return Status::Ok();
}

Result<SelectedBuffer> CommitLog::GetData(PhysicalOffset offset, size_t size) const {
  auto file = queue_.FindByOffset(offset.value());
  if (!file)
    return Status::NotFound("commit-log offset " + std::to_string(offset.value()) + " is not stored");
  size_t pos = static_cast<size_t>(offset.value() - file->base_offset());
  if (pos + size > file->WrotePosition()) {
    return Status::NotFound("commit-log range " + std::to_string(offset.value()) + "+" +
                            std::to_string(size) + " is beyond the written data");
  }
  return SelectedBuffer{file, offset, file->data() + pos, size};
}

Result<SelectedBuffer> CommitLog::GetDataFrom(PhysicalOffset offset) const {
  auto file = queue_.FindByOffset(offset.value());
  if (!file)
    return Status::NotFound("commit-log offset " + std::to_string(offset.value()) + " is not stored");
  size_t pos = static_cast<size_t>(offset.value() - file->base_offset());
  size_t wrote = file->WrotePosition();
  if (pos > wrote) return Status::NotFound("commit-log offset beyond the written data");
  return SelectedBuffer{file, offset, file->data() + pos, wrote - pos};
}

Result<SelectedBuffer> CommitLog::GetMessage(PhysicalOffset offset) const {
  FMQ_ASSIGN_OR_RETURN(auto head, GetData(offset, 8));
  const int32_t total = DecodeI32(head.data);
  const int32_t magic = DecodeI32(head.data + 4);
  if (magic != kMessageMagicV1 || total <= 0) {
    return Status::NotFound("no message starts at commit-log offset " + std::to_string(offset.value()));
  }
  return GetData(offset, static_cast<size_t>(total));
}

PhysicalOffset CommitLog::RollNextFile(PhysicalOffset offset) const {
  const auto size = static_cast<int64_t>(config_.mapped_file_size_commit_log);
  return PhysicalOffset(offset.value() + size - offset.value() % size);
}

}  // namespace fmq::store
