#include "broker/store/message_store.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/base/check.h"
#include "broker/base/coding.h"
#include "broker/base/logging.h"
#include "broker/model/names.h"

namespace fmq::store {

std::string_view GetMessageStatusName(GetMessageStatus s) {
  switch (s) {
    case GetMessageStatus::kFound:
      return "FOUND";
    case GetMessageStatus::kNoMatchedMessage:
      return "NO_MATCHED_MESSAGE";
    case GetMessageStatus::kMessageWasRemoving:
      return "MESSAGE_WAS_REMOVING";
    case GetMessageStatus::kOffsetFoundNull:
      return "OFFSET_FOUND_NULL";
    case GetMessageStatus::kOffsetOverflowBadly:
      return "OFFSET_OVERFLOW_BADLY";
    case GetMessageStatus::kOffsetOverflowOne:
      return "OFFSET_OVERFLOW_ONE";
    case GetMessageStatus::kOffsetTooSmall:
      return "OFFSET_TOO_SMALL";
    case GetMessageStatus::kNoMatchedLogicQueue:
      return "NO_MATCHED_LOGIC_QUEUE";
    case GetMessageStatus::kNoMessageInQueue:
      return "NO_MESSAGE_IN_QUEUE";
  }
  return "UNKNOWN";
}

// A background loop that calls `body` every `interval` (or when woken).
class MessageStore::ServiceLoop : public ServiceThread {
 public:
  ServiceLoop(std::string name, std::chrono::milliseconds interval, std::function<void()> body)
      : ServiceThread(std::move(name)), interval_(interval), body_(std::move(body)) {}
  ~ServiceLoop() override { Stop(); }

 protected:
  void Run() override {
    while (!IsStopped()) {
      WaitForRunning(interval_);
      if (!IsStopped()) body_();
    }
  }

 private:
  const std::chrono::milliseconds interval_;
  const std::function<void()> body_;
};

MessageStore::MessageStore(MessageStoreConfig config, io::FileSystem& fs, const Clock& clock,
                           StoreOptions options)
    : config_(std::move(config)),
      max_message_size_(config_.max_message_size),
      file_reserved_time_hours_(config_.file_reserved_time_hours),
      delay_levels_([this] {
        // Validate() refuses a malformed table before a store is built; the default stands in otherwise.
        auto levels = model::DelayLevels::Parse(config_.message_delay_level);
        return levels.ok() ? *levels : model::DelayLevels();
      }()),
      fs_(fs),
      clock_(clock),
      options_(options) {}

MessageStore::~MessageStore() { Close(); }

// ---------------------------------------------------------------------------------------------------------
// Open / recover / close

Status MessageStore::CheckIdentity() {
  const std::string path = config_.IdentityPath();
  nlohmann::json want = {{"clusterName", config_.cluster_name}, {"brokerName", config_.broker_name}};
  if (!fs_.Exists(path)) {
    return io::WriteFileAtomically(fs_, path, want.dump(2) + "\n");
  }
  FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path));
  nlohmann::json have = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (have.is_discarded() || !have.is_object() || !have["clusterName"].is_string() ||
      !have["brokerName"].is_string()) {
    return Status::Corruption("store identity file " + path +
                              " is unreadable; if this directory belongs to " + "broker '" +
                              config_.broker_name + "', delete that file and start again");
  }
  const std::string cluster = have["clusterName"], broker = have["brokerName"];
  if (cluster != config_.cluster_name || broker != config_.broker_name) {
    return Status::FailedPrecondition(
        "the store at " + config_.store_path_root_dir + " belongs to cluster '" + cluster + "' broker '" +
        broker + "', but this broker is configured as cluster '" + config_.cluster_name + "' broker '" +
        config_.broker_name + "'. Point storePathRootDir at the store of broker '" + config_.broker_name +
        "', or, to reuse this data under the new name, delete " + path +
        " (the messages stay), or delete the whole directory to start empty.");
  }
  return Status::Ok();
}

Status MessageStore::Open() {
  if (open_.load()) return Status::FailedPrecondition("store already open");
  FMQ_RETURN_IF_ERROR(config_.Validate());
  auto log = GetLogger("store");
  log->info("opening store {}", config_.ToString());
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(config_.store_path_root_dir));
  auto lock = fs_.Lock(config_.LockPath());
  if (!lock.ok()) {
    return Status::FailedPrecondition(
        "the store at " + config_.store_path_root_dir + " is in use by another broker process (" +
        std::string(lock.status().message()) + "); stop it or use another directory");
  }
  lock_ = std::move(*lock);
  FMQ_RETURN_IF_ERROR(CheckIdentity());
  FMQ_ASSIGN_OR_RETURN(epochs_, EpochHistory::Open(fs_, config_.EpochHistoryPath()));

  const bool last_exit_ok = !fs_.Exists(config_.AbortPath());
  recovered_abnormally_ = !last_exit_ok;
  // The abort marker exists from here until a clean Close(): finding it at the next Open means a crash, even
  // one during this Open's own recovery and rebuild.
  {
    FMQ_ASSIGN_OR_RETURN(auto abort, fs_.Open(config_.AbortPath(), io::OpenMode::kCreateReadWrite));
    FMQ_RETURN_IF_ERROR(abort->Sync());
  }
  FMQ_RETURN_IF_ERROR(fs_.SyncDir(config_.store_path_root_dir));
  FMQ_ASSIGN_OR_RETURN(checkpoint_, StoreCheckpoint::Open(fs_, config_.CheckpointPath()));
  commit_log_ = std::make_unique<CommitLog>(config_, fs_, clock_, checkpoint_.get());
  FMQ_RETURN_IF_ERROR(commit_log_->Load());
  // A missing directory means its structures were never built or were deleted: rebuild them from the log.
  RecoveryPlan plan;
  plan.last_exit_ok = last_exit_ok;
  plan.rebuild_all = !fs_.IsDirectory(config_.ConsumeQueueDir());
  FMQ_RETURN_IF_ERROR(LoadConsumeQueues());
  if (config_.message_index_enable) {
    plan.rebuild_all |= !fs_.IsDirectory(config_.IndexDir());
    index_ = std::make_unique<IndexService>(fs_, config_.IndexDir(), config_.max_hash_slot_num,
                                            config_.max_index_num, clock_);
    FMQ_ASSIGN_OR_RETURN(plan.index_rebuild_from,
                         index_->Load(last_exit_ok, checkpoint_->index_msg_timestamp()));
  }
  FMQ_RETURN_IF_ERROR(Recover(plan));
  if (fs_.Exists(TruncateIntentPath())) {
    // A cut was under way when the broker stopped: finish it before anything reads the store.
    FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, TruncateIntentPath()));
    int64_t offset = -1;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (ec != std::errc() || offset < 0) {
      return Status::Corruption("truncation intent " + TruncateIntentPath() + " holds no offset ('" + text +
                                "'); the broker cannot know where its log must end: restore it or delete "
                                "the store and copy it again from the master");
    }
    offset = std::min(offset, commit_log_->CompleteEnd().value());
    log->warn("finishing an interrupted commit-log truncation offset={}", offset);
    {
      MutexLock lock(&dispatch_mu_);
      FMQ_RETURN_IF_ERROR(TruncateLocked(PhysicalOffset(offset)));
    }
    FMQ_RETURN_IF_ERROR(DispatchAvailable());
  }

  FMQ_RETURN_IF_ERROR(commit_log_->Start());
  // The segment the next append goes to exists before the first put: creating (and warming) a 1 GiB file
  // inside a client's send would take seconds. The allocator then prepares the one after it in the
  // background.
  if (auto seg = commit_log_->queue().LastOrCreate(commit_log_->MaxOffset().value()); !seg.ok())
    return seg.status();
  RunRetention();  // learn the disk state before the first put
  if (options_.background_services) {
    services_.push_back(std::make_unique<ServiceLoop>("fmq-reput", std::chrono::milliseconds(1), [this] {
      Status s = DispatchAvailable();
      if (!s.ok()) GetLogger("store")->error("dispatch failed error={}", s.ToString());
    }));
    services_.push_back(std::make_unique<ServiceLoop>(
        "fmq-cq-flush", std::chrono::milliseconds(config_.flush_interval_consume_queue_ms), [this] {
          Status s = FlushConsumeQueues(false);
          if (!s.ok()) GetLogger("store")->error("consume queue flush failed error={}", s.ToString());
        }));
    services_.push_back(std::make_unique<ServiceLoop>(
        "fmq-retention", std::chrono::milliseconds(config_.clean_resource_interval_ms),
        [this] { RunRetention(); }));
    for (auto& s : services_) FMQ_RETURN_IF_ERROR(s->Start());
  }
  last_thorough_flush_nanos_ = clock_.MonotonicNanos();
  open_ = true;
  log->info("store open recovered={} min_offset={} max_offset={} queues={}",
            last_exit_ok ? "normal" : "abnormal", commit_log_->MinOffset().value(),
            commit_log_->MaxOffset().value(), AllConsumeQueues().size());
  return Status::Ok();
}

Status MessageStore::LoadConsumeQueues() {
  const std::string root = config_.ConsumeQueueDir();
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(root));
  FMQ_ASSIGN_OR_RETURN(auto topics, fs_.ListDir(root));
  MutexLock lock(&cq_mu_);
  for (const auto& topic : topics) {
    const std::string topic_dir = io::JoinPath(root, topic);
    if (!fs_.IsDirectory(topic_dir)) continue;
    FMQ_ASSIGN_OR_RETURN(auto queues, fs_.ListDir(topic_dir));
    for (const auto& q : queues) {
      int32_t qid = -1;
      auto [ptr, ec] = std::from_chars(q.data(), q.data() + q.size(), qid);
      if (ec != std::errc() || ptr != q.data() + q.size() || qid < 0 || std::to_string(qid) != q) continue;
      auto cq = std::make_shared<ConsumeQueue>(fs_, topic, QueueId(qid), root,
                                               config_.mapped_file_size_consume_queue);
      FMQ_RETURN_IF_ERROR(cq->Load());
      cqs_[topic][qid] = std::move(cq);
    }
  }
  return Status::Ok();
}

Status MessageStore::Recover(const RecoveryPlan& plan) {
  auto queues = AllConsumeQueues();
  for (auto& cq : queues) FMQ_RETURN_IF_ERROR(cq->Recover());
  FMQ_ASSIGN_OR_RETURN(
      PhysicalOffset redispatch_from,
      commit_log_->Recover(!plan.last_exit_ok, checkpoint_->MinTimestamp(index_ != nullptr)));
  const int64_t cl_min = commit_log_->MinOffset().value();
  const int64_t cl_max = commit_log_->MaxOffset().value();
  if (commit_log_->queue().Empty()) {
    // No commit log, so nothing any queue or index entry could point at.
    for (auto& cq : queues) FMQ_RETURN_IF_ERROR(cq->Destroy());
    MutexLock lock(&cq_mu_);
    cqs_.clear();
    if (index_) FMQ_RETURN_IF_ERROR(index_->Destroy());
    if (index_) FMQ_RETURN_IF_ERROR(index_->Load(true, 0).status());
  }
  for (auto& cq : AllConsumeQueues()) {
    FMQ_RETURN_IF_ERROR(cq->TruncateDirty(cl_max));
    if (!plan.last_exit_ok) {
      // Only the last entries can be torn (the scan stopped at the first zeroed one): check them.
      FMQ_RETURN_IF_ERROR(cq->TrimTail(
          [&](const CqEntry& e, QueueOffset qo) { return EntryMatchesLog(*cq, e, qo); }, /*max_checks=*/8));
    }
    cq->CorrectMinOffset(cl_min);
  }
  // Where dispatch resumes: the furthest point every derived structure is known to cover.
  int64_t from = 0;
  for (auto& cq : AllConsumeQueues()) from = std::max(from, cq->MaxPhysicalEnd());
  // What the consume queues cover was confirmed when it was dispatched; replication confirms the rest anew.
  if (options_.bounded_by_confirm_offset) confirm_offset_ = std::max(from, cl_min);
  if (!plan.last_exit_ok) from = std::min(from, redispatch_from.value());
  from = std::min(from, plan.index_rebuild_from);
  if (plan.rebuild_all) from = cl_min;
  from = std::clamp(from, cl_min, cl_max);
  recovery_ = {!plan.last_exit_ok, redispatch_from.value(), from};
  {
    MutexLock lock(&dispatch_mu_);
    reput_from_ = from;
    reput_progress_ = from;
    cq_covered_ = from;
  }
  GetLogger("store")->info("rebuilding consume queues and index from={} to={}", from,
                           std::min<int64_t>(cl_max, confirm_offset_.load()));
  FMQ_RETURN_IF_ERROR(DispatchAvailable());
  return RebuildQueueOffsets();
}

Status MessageStore::RebuildQueueOffsets() {
  MutexLock lock(&dispatch_mu_);
  FMQ_ASSIGN_OR_RETURN(auto table, QueueOffsetsFrom(cq_covered_));
  commit_log_->SetQueueOffsetTable(std::move(table));
  return Status::Ok();
}

Result<std::unordered_map<std::string, int64_t>> MessageStore::QueueOffsetsFrom(int64_t from) {
  std::unordered_map<std::string, int64_t> table;
  for (auto& cq : AllConsumeQueues()) table[QueueKey(cq->topic(), cq->queue_id())] = cq->MaxOffset().value();
  // Records not dispatched yet (beyond the confirm offset) already hold their queue offsets.
  const int64_t end = commit_log_->CompleteEnd().value();
  int64_t pos = std::max(from, commit_log_->MinOffset().value());
  while (pos < end) {
    auto buf = commit_log_->GetDataFrom(PhysicalOffset(pos));
    if (!buf.ok()) break;
    const auto& file = *buf->file;
    size_t at = static_cast<size_t>(pos - file.base_offset());
    const size_t limit =
        static_cast<size_t>(std::min<int64_t>(file.WrotePosition(), end - file.base_offset()));
    CheckedRecord r = CheckRecordAt(file, at, limit, /*check_crc=*/false);
    if (r.kind == RecordKind::kMessage) {
      if (model::sysflag::IsDispatchable(r.view.sys_flag)) {
        int64_t& next = table[QueueKey(r.view.topic, r.view.queue_id)];
        next = std::max(next, r.view.queue_offset.value() + 1);
      }
      pos += static_cast<int64_t>(r.size);
    } else if (r.kind == RecordKind::kBlank) {
      pos = commit_log_->RollNextFile(PhysicalOffset(pos)).value();
    } else {
      return Status::Corruption("commit log unreadable at offset " + std::to_string(pos) +
                                " below its last whole "
                                "record at " +
                                std::to_string(end) + ": " + r.problem);
    }
  }
  return table;
}

Status MessageStore::ScanMessages(
    PhysicalOffset from,
    const std::function<bool(PhysicalOffset, const model::StoredMessageView&)>& fn) const {
  const int64_t end = commit_log_->CompleteEnd().value();
  int64_t pos = std::max(from.value(), commit_log_->MinOffset().value());
  while (pos < end) {
    auto buf = commit_log_->GetDataFrom(PhysicalOffset(pos));
    if (!buf.ok()) break;
    const auto& file = *buf->file;
    const size_t at = static_cast<size_t>(pos - file.base_offset());
    if (at >= file.size()) {
      pos = commit_log_->RollNextFile(PhysicalOffset(pos)).value();
      continue;
    }
    const size_t limit =
        static_cast<size_t>(std::min<int64_t>(file.WrotePosition(), end - file.base_offset()));
    CheckedRecord r = CheckRecordAt(file, at, limit, /*check_crc=*/false);
    if (r.kind == RecordKind::kMessage) {
      if (!fn(PhysicalOffset(pos), r.view)) return Status::Ok();
      pos += static_cast<int64_t>(r.size);
    } else if (r.kind == RecordKind::kBlank) {
      pos = commit_log_->RollNextFile(PhysicalOffset(pos)).value();
    } else {
      return Status::Corruption("commit log unreadable at offset " + std::to_string(pos) + ": " + r.problem);
    }
  }
  return Status::Ok();
}

bool MessageStore::EntryMatchesLog(const ConsumeQueue& cq, const CqEntry& e, QueueOffset qo) const {
  auto buf = commit_log_->GetData(e.offset, static_cast<size_t>(e.size));
  if (!buf.ok()) return false;
  auto view = model::DecodeStoredMessageView(buf->bytes(), /*check_crc=*/false);
  if (!view.ok() || static_cast<size_t>(e.size) != view->EncodedSize() || view->physical_offset != e.offset ||
      view->topic != cq.topic() || view->queue_id != cq.queue_id() || view->queue_offset != qo) {
    return false;
  }
  return model::ConsumeQueueTagsCode(view->topic, view->properties, view->store_timestamp, delay_levels_) ==
         e.tags_code;
}

void MessageStore::Close() {
  if (!open_.exchange(false)) {
    services_.clear();
    return;
  }
  auto log = GetLogger("store");
  for (auto& s : services_) s->Stop();
  services_.clear();
  commit_log_->Stop();  // flushes the commit log
  Status dispatched = DispatchAvailable();
  Status flushed = FlushConsumeQueues(true);
  bool clean = dispatched.ok() && flushed.ok() && !disk_full_.load();
  if (!dispatched.ok()) log->error("final dispatch failed error={}", dispatched.ToString());
  if (!flushed.ok()) log->error("final flush failed error={}", flushed.ToString());
  if (clean) {
    Status s = fs_.Remove(config_.AbortPath());
    if (s.ok()) s = fs_.SyncDir(config_.store_path_root_dir);
    if (!s.ok()) log->error("could not mark the store closed error={}", s.ToString());
  }
  log->info("store closed clean={}", clean);
  lock_.reset();
}

// ---------------------------------------------------------------------------------------------------------
// Writes

MessageStoreConfig MessageStore::EffectiveConfig() const {
  MessageStoreConfig c = config_;
  c.max_message_size = max_message_size_.load(std::memory_order_relaxed);
  c.file_reserved_time_hours = file_reserved_time_hours_.load(std::memory_order_relaxed);
  return c;
}

Status MessageStore::UpdateLiveConfig(const std::string& key, const std::string& value) {
  if (key != "maxMessageSize" && key != "fileReservedTime") {
    return Status::InvalidArgument("config key " + key +
                                   " cannot be changed while the broker runs (live: maxMessageSize, "
                                   "fileReservedTime); change broker.conf and restart");
  }
  MessageStoreConfig c = EffectiveConfig();
  FMQ_RETURN_IF_ERROR(c.ApplyProperty(key, value));
  FMQ_RETURN_IF_ERROR(c.Validate());
  if (c.file_reserved_time_hours <= 0)
    return Status::InvalidArgument("fileReservedTime must be at least 1 hour");
  max_message_size_.store(c.max_message_size, std::memory_order_relaxed);
  file_reserved_time_hours_.store(c.file_reserved_time_hours, std::memory_order_relaxed);
  GetLogger("store")->info("config changed {}={} (not persisted; broker.conf is read at start)", key, value);
  return Status::Ok();
}

Status MessageStore::CheckWritable(const model::StoredMessage& msg) const {
  FMQ_RETURN_IF_ERROR(CheckDiskWritable());
  FMQ_RETURN_IF_ERROR(model::ValidateTopicName(msg.topic));
  if (msg.body.size() > max_message_size_.load(std::memory_order_relaxed)) {
    // Apache's remark first (clients and scripts match it), then what is actually wrong.
    return Status::InvalidArgument(std::string(kMessageIllegalRemark) + " The body is " +
                                   std::to_string(msg.body.size()) +
                                   " bytes as stored, above maxMessageSize " +
                                   std::to_string(max_message_size_.load(std::memory_order_relaxed)) + ".");
  }
  if (msg.queue_id.value() < 0) return Status::InvalidArgument("negative queue id");
  return model::ValidateForStore(msg);
}

Status MessageStore::CheckDiskWritable() const {
  if (!open_.load()) return Status::Unavailable("the message store is not open");
  if (disk_full_.load()) {
    return Status::DiskFull("disk full: " + std::to_string(static_cast<int>(disk_used_ratio_.load() * 100)) +
                            "% of the disk holding " + config_.CommitLogDir() + " is used, above " +
                            "diskSpaceWarningLevelRatio " +
                            std::to_string(static_cast<int>(config_.disk_space_warning_level_ratio * 100)) +
                            "%; writes resume once retention or an operator frees space");
  }
  return Status::Ok();
}

void MessageStore::Put(std::vector<model::StoredMessage> msgs, bool* defer_flush_wait, PutCallback done) {
  if (msgs.empty()) {
    done(Status::InvalidArgument("empty message batch"));
    return;
  }
  size_t body_total = 0;
  for (auto& m : msgs) {
    m.store_host = config_.store_host;  // this broker stores it: STOREHOST and the offset message id agree
    if (msgs.size() > 1 &&
        model::sysflag::TransactionType(m.sys_flag) != model::sysflag::kTransactionNotType) {
      done(Status::InvalidArgument("a batch cannot carry transaction messages"));
      return;
    }
    Status s = CheckWritable(m);
    if (!s.ok()) {
      done(std::move(s));
      return;
    }
    if (m.topic != msgs.front().topic || m.queue_id != msgs.front().queue_id) {
      done(Status::InvalidArgument("a batch must target one topic and queue"));
      return;
    }
    body_total += m.body.size();
  }
  if (body_total > max_message_size_.load(std::memory_order_relaxed)) {
    done(Status::InvalidArgument(std::string(kMessageIllegalRemark) + " The batch bodies total " +
                                 std::to_string(body_total) + " bytes, above maxMessageSize " +
                                 std::to_string(max_message_size_.load(std::memory_order_relaxed)) + "."));
    return;
  }
  auto wait = model::FindProperty(msgs.front().properties, model::prop::kWaitStoreMsgOk);
  bool wait_for_flush = !(wait && *wait == "false");
  if (defer_flush_wait != nullptr) {
    // The caller blocks on CommitLog::WaitFlushed itself: append without a flush callback.
    *defer_flush_wait = wait_for_flush && config_.flush_disk_type == FlushDiskType::kSync;
    wait_for_flush = false;
  }
  commit_log_->AsyncPut(std::move(msgs), wait_for_flush, [this, done = std::move(done)](auto r) {
    if (r.ok()) {
      puts_total_.fetch_add(r->message_count, std::memory_order_relaxed);
      put_bytes_total_.fetch_add(r->wrote_bytes, std::memory_order_relaxed);
    }
    done(std::move(r));
  });
}

void MessageStore::AsyncPutMessage(model::StoredMessage msg, PutCallback done) {
  std::vector<model::StoredMessage> v;
  v.push_back(std::move(msg));
  Put(std::move(v), nullptr, std::move(done));
}

void MessageStore::AsyncPutMessages(std::vector<model::StoredMessage> batch, PutCallback done) {
  Put(std::move(batch), nullptr, std::move(done));
}

Result<PutMessageResult> MessageStore::PutMessage(model::StoredMessage msg) {
  std::vector<model::StoredMessage> v;
  v.push_back(std::move(msg));
  return PutMessages(std::move(v));
}

Result<PutMessageResult> MessageStore::PutMessages(std::vector<model::StoredMessage> batch) {
  // Append (the callback runs on this thread, before Put returns), then wait for group commit on the shared
  // condition: one wake-up per group commit round instead of one per waiter.
  Result<PutMessageResult> result = Status::Internal("no answer");
  bool wait = false;
  Put(std::move(batch), &wait, [&](Result<PutMessageResult> r) { result = std::move(r); });
  if (result.ok() && wait) {
    FMQ_RETURN_IF_ERROR(commit_log_->WaitFlushed(result->wrote_offset.value() + result->wrote_bytes));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Dispatch

int64_t MessageStore::DispatchLimit() const {
  const int64_t max = commit_log_->MaxOffset().value();
  int64_t limit = std::min(max, confirm_offset_.load(std::memory_order_acquire));
  if (config_.flush_disk_type == FlushDiskType::kSync) {
    const int64_t flushed = commit_log_->FlushedOffset().value();
    // Sends that do not wait for the flush (WAIT=false) are flushed for their readers.
    if (flushed < limit) commit_log_->RequestFlush(limit);
    limit = std::min(limit, flushed);
  }
  return limit;
}

namespace {
// Whether the bytes at `pos` begin a record that is only partly below `end`: one the dispatcher must wait for
// (beyond the confirm offset, or still being copied from the master), as opposed to bytes that are no record.
bool IsIncompleteRecord(const MappedFile& file, size_t pos, size_t end) {
  if (pos + model::kEndFileMinBlankLength > end) return pos + model::kEndFileMinBlankLength <= file.size();
  const int32_t total = DecodeI32(file.data() + pos);
  const int32_t magic = DecodeI32(file.data() + pos + 4);
  return magic == model::kMessageMagicV1 && total > 0 && static_cast<size_t>(total) <= file.size() - pos &&
         pos + static_cast<size_t>(total) > end;
}
}  // namespace

namespace {
// Set while this thread dispatches: the arrival listener it calls may run a pull inline (tests do), whose
// CatchUpForRead must not wait for the dispatch lock this thread holds.
thread_local bool t_dispatching = false;
}  // namespace

Status MessageStore::DispatchAvailable() {
  MutexLock lock(&dispatch_mu_);
  t_dispatching = true;
  struct Reset {
    ~Reset() { t_dispatching = false; }
  } reset;
  while (true) {
    const int64_t limit = DispatchLimit();
    if (reput_from_ >= limit) break;
    if (reput_from_ < commit_log_->MinOffset().value()) reput_from_ = commit_log_->MinOffset().value();
    auto buf = commit_log_->GetDataFrom(PhysicalOffset(reput_from_));
    if (!buf.ok()) break;  // not visible yet
    const auto& file = *buf->file;
    size_t pos = static_cast<size_t>(reput_from_ - file.base_offset());
    // Bytes of this segment dispatch may look at.
    const size_t end = static_cast<size_t>(
        std::clamp<int64_t>(limit - file.base_offset(), 0, static_cast<int64_t>(file.WrotePosition())));
    bool moved = false;
    while (true) {
      if (pos >= file.size()) {  // a segment that is exactly full
        reput_from_ = commit_log_->RollNextFile(PhysicalOffset(reput_from_)).value();
        moved = true;
        break;
      }
      if (pos >= end) break;
      CheckedRecord r = CheckRecordAt(file, pos, end, /*check_crc=*/false);
      if (r.kind == RecordKind::kMessage) {
        FMQ_RETURN_IF_ERROR(
            Dispatch(r.view, file.base_offset() + static_cast<int64_t>(pos), static_cast<int32_t>(r.size)));
        pos += r.size;
        reput_from_ = file.base_offset() + static_cast<int64_t>(pos);
        moved = true;
      } else if (r.kind == RecordKind::kBlank) {
        reput_from_ = commit_log_->RollNextFile(PhysicalOffset(reput_from_)).value();
        moved = true;
        break;
      } else if (IsIncompleteRecord(file, pos, end)) {
        break;  // the rest of the record is not confirmed, or not copied, yet
      } else {
        return Status::Corruption("dispatch stopped at commit-log offset " +
                                  std::to_string(file.base_offset() + static_cast<int64_t>(pos)) + ": " +
                                  r.problem);
      }
    }
    reput_progress_.store(reput_from_, std::memory_order_release);
    cq_covered_ = std::max(cq_covered_, reput_from_);
    if (!moved) break;
  }
  return Status::Ok();
}

Status MessageStore::Dispatch(const model::StoredMessageView& msg, int64_t phys, int32_t size) {
  const int32_t tx = model::sysflag::TransactionType(msg.sys_flag);
  int64_t tags_code = 0;
  if (model::sysflag::IsDispatchable(msg.sys_flag)) {
    // A delayed message's entry holds the time it is due (RocketMQ's CommitLog.checkMessageAndReturnSize).
    tags_code = model::ConsumeQueueTagsCode(msg.topic, msg.properties, msg.store_timestamp, delay_levels_);
    FMQ_ASSIGN_OR_RETURN(auto cq, FindOrCreateConsumeQueue(msg.topic, msg.queue_id));
    FMQ_RETURN_IF_ERROR(cq->PutEntry({PhysicalOffset(phys), size, tags_code}, msg.queue_offset));
  }
  if (index_ && tx != model::sysflag::kTransactionRollback) {
    auto uniq = model::FindProperty(msg.properties, model::prop::kUniqKey);
    auto keys = model::FindProperty(msg.properties, model::prop::kKeys);
    if (uniq || keys) {
      FMQ_RETURN_IF_ERROR(
          index_->BuildIndex(msg.topic, uniq.value_or(""), keys.value_or(""), phys, msg.store_timestamp));
    }
  }
  last_dispatched_ts_.store(msg.store_timestamp, std::memory_order_release);
  if (model::sysflag::IsDispatchable(msg.sys_flag)) {
    MutexLock lock(&listener_mu_);
    if (listener_) listener_(msg.topic, msg.queue_id, msg.queue_offset + 1, tags_code);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Replication

void MessageStore::SetConfirmOffset(PhysicalOffset offset) {
  confirm_offset_.store(offset.value(), std::memory_order_release);
}

void MessageStore::AdvanceConfirmOffset(PhysicalOffset offset) {
  int64_t prev = confirm_offset_.load(std::memory_order_acquire);
  while (offset.value() > prev && !confirm_offset_.compare_exchange_weak(prev, offset.value())) {
  }
}

Status MessageStore::AppendReplicated(PhysicalOffset offset, std::span<const uint8_t> bytes) {
  FMQ_RETURN_IF_ERROR(CheckDiskWritable());
  return commit_log_->AppendReplicated(offset, bytes);
}

std::string MessageStore::TruncateIntentPath() const {
  return io::JoinPath(config_.store_path_root_dir, "truncate");
}

Status MessageStore::TruncateTo(PhysicalOffset offset) {
  if (!open_.load()) return Status::Unavailable("the message store is not open");
  MutexLock lock(&dispatch_mu_);
  return TruncateLocked(offset);
}

Status MessageStore::TruncateLocked(PhysicalOffset offset) {
  const int64_t cut = offset.value();
  if (cut > commit_log_->CompleteEnd().value() || cut < commit_log_->MinOffset().value()) {
    return Status::InvalidArgument("cannot cut the commit log at " + std::to_string(cut) + ": it holds " +
                                   std::to_string(commit_log_->MinOffset().value()) + ".." +
                                   std::to_string(commit_log_->CompleteEnd().value()));
  }
  if (cut < commit_log_->CompleteEnd().value() &&
      cut % static_cast<int64_t>(config_.mapped_file_size_commit_log)) {
    // Only a record (or blank marker) may start at the cut: its PHYSICALOFFSET field must name the cut.
    auto head = commit_log_->GetDataFrom(offset);
    const bool boundary = head.ok() && head->size >= model::kEndFileMinBlankLength &&
                          (DecodeI32(head->data + 4) == model::kBlankMagic ||
                           CheckRecordAt(*head->file, static_cast<size_t>(cut - head->file->base_offset()),
                                         head->file->WrotePosition(), /*check_crc=*/false)
                                   .kind == RecordKind::kMessage);
    if (!boundary) {
      return Status::InvalidArgument("cannot cut the commit log at " + std::to_string(cut) +
                                     ": no record starts there");
    }
  }
  auto log = GetLogger("store");
  const int64_t old_max = commit_log_->MaxOffset().value();
  FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, TruncateIntentPath(), std::to_string(cut)));
  FMQ_RETURN_IF_ERROR(commit_log_->TruncateTo(offset));
  for (auto& cq : AllConsumeQueues()) FMQ_RETURN_IF_ERROR(cq->TruncateDirty(cut));
  int64_t redo_from = cut;
  if (index_) {
    FMQ_ASSIGN_OR_RETURN(int64_t rebuild, index_->DropFrom(cut));
    redo_from = std::min(redo_from, rebuild);
  }
  FMQ_RETURN_IF_ERROR(epochs_->TruncateAfter(offset));
  // The consume queues keep every entry below the cut; only the index may need an earlier start (it drops
  // whole files), and dispatch skips the consume-queue entries that are still there.
  cq_covered_ = std::clamp(std::min(cq_covered_, cut), commit_log_->MinOffset().value(), cut);
  reput_from_ = std::clamp(std::min(reput_from_, redo_from), commit_log_->MinOffset().value(), cut);
  reput_progress_.store(reput_from_, std::memory_order_release);
  if (confirm_offset_.load() != INT64_MAX) confirm_offset_ = std::min(confirm_offset_.load(), cut);
  // The cut log no longer reaches the times the checkpoint recorded: forget them (an abnormal recovery then
  // scans the whole log) until the flush services record new ones.
  checkpoint_->set_physic_msg_timestamp(0);
  checkpoint_->set_logics_msg_timestamp(0);
  checkpoint_->set_index_msg_timestamp(0);
  FMQ_RETURN_IF_ERROR(checkpoint_->Flush());
  FMQ_ASSIGN_OR_RETURN(auto table, QueueOffsetsFrom(cq_covered_));
  commit_log_->SetQueueOffsetTable(std::move(table));
  FMQ_RETURN_IF_ERROR(fs_.Remove(TruncateIntentPath()));
  FMQ_RETURN_IF_ERROR(fs_.SyncDir(config_.store_path_root_dir));
  log->warn("commit log truncated from={} to={} dropped_bytes={} redispatch_from={}", old_max, cut,
            old_max - cut, reput_from_);
  return Status::Ok();
}

Status MessageStore::FlushConsumeQueues(bool thorough) {
  const int64_t now = clock_.MonotonicNanos();
  if (now - last_thorough_flush_nanos_.load() >=
      int64_t{config_.flush_consume_queue_thorough_interval_ms} * 1'000'000) {
    thorough = true;
  }
  if (thorough) last_thorough_flush_nanos_ = now;
  const int64_t ts = last_dispatched_ts_.load(std::memory_order_acquire);
  const int least = thorough ? 0 : config_.flush_consume_queue_least_pages;
  for (auto& cq : AllConsumeQueues()) {
    // A queue may have rolled since the last flush: flush until nothing more moves.
    for (bool moved = true; moved;) {
      FMQ_ASSIGN_OR_RETURN(moved, cq->Flush(least));
    }
  }
  if (index_) {
    FMQ_ASSIGN_OR_RETURN(int64_t index_ts, index_->Flush());
    if (index_ts > 0) checkpoint_->set_index_msg_timestamp(index_ts);
  }
  // Only a thorough flush makes every dispatched entry durable, so only then may the checkpoint move.
  if (thorough && ts > 0) checkpoint_->set_logics_msg_timestamp(ts);
  return checkpoint_->Flush();
}

// ---------------------------------------------------------------------------------------------------------
// Retention and disk space

void MessageStore::RunRetention() {
  auto log = GetLogger("store");
  auto space = fs_.Space(config_.CommitLogDir());
  double ratio = space.ok() ? space->UsedRatio() : 0.0;
  if (!space.ok())
    log->warn("cannot read disk space dir={} error={}", config_.CommitLogDir(), space.status().ToString());
  disk_used_ratio_ = ratio;
  if (space.ok()) {
    disk_capacity_ = static_cast<int64_t>(space->capacity);
    disk_available_ = static_cast<int64_t>(space->available);
  }
  const bool full = ratio > config_.disk_space_warning_level_ratio;
  if (full != disk_full_.exchange(full)) {
    if (full) {
      log->error("disk full used={:.1f}% threshold={:.1f}%: refusing writes", ratio * 100,
                 config_.disk_space_warning_level_ratio * 100);
    } else {
      log->info("disk usage back to {:.1f}%: accepting writes", ratio * 100);
    }
  }
  const bool force = config_.clean_file_forcibly_enable && ratio > config_.disk_space_clean_forcibly_ratio;
  const bool space_to_delete = ratio > config_.disk_max_used_space_ratio / 100.0;
  const auto hours = config_.DeleteWhenHours();
  const int64_t now = clock_.NowMillis();
  const bool time_to_delete = std::find(hours.begin(), hours.end(), LocalHourOfDay(now)) != hours.end();
  bool manual = false;
  if (manual_delete_rounds_.load() > 0) {
    manual_delete_rounds_.fetch_sub(1);
    manual = true;
  }
  if (time_to_delete || space_to_delete || force || manual) {
    const int64_t reserved_ms =
        int64_t{file_reserved_time_hours_.load(std::memory_order_relaxed)} * 3600 * 1000;
    int removed = commit_log_->queue().DeleteExpired(
        [&](const MappedFile& f) {
          if (force) return true;
          auto mtime = f.LastModifiedMillis();
          return mtime.ok() && *mtime + reserved_ms <= now;
        },
        config_.delete_files_batch_max);
    if (removed > 0) {
      log->info("deleted expired commit-log files count={} forced={} disk_used={:.1f}% new_min_offset={}",
                removed, force, ratio * 100, commit_log_->MinOffset().value());
    }
  }
  const int64_t cl_min = commit_log_->MinOffset().value();
  for (auto& cq : AllConsumeQueues()) cq->DeleteExpired(cl_min);
  if (index_) index_->DeleteExpired(cl_min);
}

// ---------------------------------------------------------------------------------------------------------
// Consume queues

std::shared_ptr<ConsumeQueue> MessageStore::FindConsumeQueue(std::string_view topic, QueueId queue_id) const {
  MutexLock lock(&cq_mu_);
  auto t = cqs_.find(topic);
  if (t == cqs_.end()) return nullptr;
  auto q = t->second.find(queue_id.value());
  return q == t->second.end() ? nullptr : q->second;
}

Result<std::shared_ptr<ConsumeQueue>> MessageStore::FindOrCreateConsumeQueue(std::string_view topic,
                                                                             QueueId queue_id) {
  MutexLock lock(&cq_mu_);
  auto& queues = cqs_[std::string(topic)];
  auto& cq = queues[queue_id.value()];
  if (!cq) {
    cq = std::make_shared<ConsumeQueue>(fs_, std::string(topic), queue_id, config_.ConsumeQueueDir(),
                                        config_.mapped_file_size_consume_queue);
    Status s = cq->Load();
    if (!s.ok()) {
      queues.erase(queue_id.value());
      return s;
    }
  }
  return cq;
}

std::vector<std::shared_ptr<ConsumeQueue>> MessageStore::AllConsumeQueues() const {
  MutexLock lock(&cq_mu_);
  std::vector<std::shared_ptr<ConsumeQueue>> all;
  for (auto& [topic, queues] : cqs_) {
    for (auto& [id, cq] : queues) all.push_back(cq);
  }
  return all;
}

Status MessageStore::DeleteTopicQueues(std::string_view topic) {
  std::map<int32_t, std::shared_ptr<ConsumeQueue>> queues;
  {
    MutexLock lock(&cq_mu_);
    auto it = cqs_.find(topic);
    if (it == cqs_.end()) return Status::Ok();
    queues = std::move(it->second);
    cqs_.erase(it);
  }
  for (auto& [id, cq] : queues) {
    FMQ_RETURN_IF_ERROR(cq->Destroy());
    commit_log_->RemoveQueueFromTable(topic, QueueId(id));
  }
  return fs_.RemoveAll(io::JoinPath(config_.ConsumeQueueDir(), std::string(topic)));
}

std::vector<QueueStats> MessageStore::ListQueues() const {
  std::vector<QueueStats> out;
  for (auto& cq : AllConsumeQueues()) {
    out.push_back({cq->topic(), cq->queue_id(), cq->MinOffset(), cq->MaxOffset(), cq->FileCount()});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Reads

void MessageStore::CatchUpForRead(std::string_view topic, QueueId queue_id, QueueOffset offset,
                                  int max_msgs) {
  if (!open_.load()) return;
  if (reput_progress_.load(std::memory_order_acquire) >= DispatchLimit()) return;
  if (auto cq = FindConsumeQueue(topic, queue_id);
      cq && offset.value() + std::max(1, max_msgs) <= cq->MaxOffset().value()) {
    return;  // the read is answered from entries that are there already
  }
  Status s = DispatchAvailable();
  if (!s.ok()) GetLogger("store")->error("dispatch for a read failed error={}", s.ToString());
}

Result<GetMessageResult> MessageStore::GetMessage(std::string_view topic, QueueId queue_id,
                                                  QueueOffset offset, int max_msgs,
                                                  const MessageFilter* filter) const {
  if (!open_.load()) return Status::Unavailable("the message store is not open");
  GetMessageResult r;
  auto cq = FindConsumeQueue(topic, queue_id);
  if (!cq) {
    r.status = GetMessageStatus::kNoMatchedLogicQueue;
    r.next_begin_offset = QueueOffset(0);
    return r;
  }
  r.min_offset = cq->MinOffset();
  r.max_offset = cq->MaxOffset();
  if (r.max_offset.value() == 0) {
    r.status = GetMessageStatus::kNoMessageInQueue;
    r.next_begin_offset = QueueOffset(0);
  } else if (offset < r.min_offset) {
    r.status = GetMessageStatus::kOffsetTooSmall;
    r.next_begin_offset = r.min_offset;
  } else if (offset == r.max_offset) {
    r.status = GetMessageStatus::kOffsetOverflowOne;
    r.next_begin_offset = offset;
  } else if (offset > r.max_offset) {
    r.status = GetMessageStatus::kOffsetOverflowBadly;
    r.next_begin_offset = r.min_offset.value() == 0 ? r.min_offset : r.max_offset;
  } else {
    const size_t want = static_cast<size_t>(std::max(1, max_msgs));
    // Read more entries than wanted so filtered-out ones do not end the batch early.
    auto entries = cq->GetEntries(offset, std::max<size_t>(want, 16000 / ConsumeQueue::kEntrySize));
    if (!entries.ok() || entries->empty()) {
      r.status = GetMessageStatus::kOffsetFoundNull;
      r.next_begin_offset = offset + 1;
      return r;
    }
    r.status = GetMessageStatus::kNoMatchedMessage;
    const int64_t cl_min = commit_log_->MinOffset().value();
    size_t examined = 0;
    for (const auto& e : *entries) {
      if (!r.messages.empty()) {
        const bool full =
            r.messages.size() >= want ||
            r.total_bytes + static_cast<size_t>(e.size) >
                static_cast<size_t>(config_.max_transfer_bytes_on_message_in_memory) ||
            r.messages.size() >= static_cast<size_t>(config_.max_transfer_count_on_message_in_memory);
        if (full) break;
      }
      ++examined;
      if (e.size == ConsumeQueue::kFillerSize) continue;
      if (e.offset.value() < cl_min) {
        r.status = GetMessageStatus::kMessageWasRemoving;
        continue;
      }
      if (filter && !filter->IsMatchedByConsumeQueue(e.tags_code)) continue;
      auto buf = commit_log_->GetData(e.offset, static_cast<size_t>(e.size));
      if (!buf.ok()) {
        if (r.messages.empty()) r.status = GetMessageStatus::kMessageWasRemoving;
        continue;
      }
      if (filter) {
        auto view = model::DecodeStoredMessageView(buf->bytes(), false);
        if (!view.ok() || !filter->IsMatchedByCommitLog(*view)) continue;
      }
      r.total_bytes += buf->size;
      r.messages.push_back(std::move(*buf));
      r.status = GetMessageStatus::kFound;
    }
    r.next_begin_offset = offset + static_cast<int64_t>(examined);
  }
  return r;
}

Result<SelectedBuffer> MessageStore::SelectMessageByOffset(PhysicalOffset offset) const {
  FMQ_ASSIGN_OR_RETURN(auto buf, commit_log_->GetMessage(offset));
  // Consumers may read only what is confirmed (and, for SYNC_FLUSH, flushed): the same bound as dispatch.
  if (offset.value() + static_cast<int64_t>(buf.size) > DispatchLimit()) {
    return Status::NotFound("the message at commit-log offset " + std::to_string(offset.value()) +
                            " is not confirmed yet");
  }
  return buf;
}

Result<model::StoredMessage> MessageStore::LookMessageByOffset(PhysicalOffset offset) const {
  FMQ_ASSIGN_OR_RETURN(auto buf, SelectMessageByOffset(offset));
  return model::DecodeStoredMessage(buf.bytes(), /*check_crc=*/false);
}

QueryMessageResult MessageStore::QueryMessage(std::string_view topic, std::string_view key, int max_num,
                                              int64_t begin, int64_t end) const {
  QueryMessageResult r;
  if (!index_) return r;
  size_t max = static_cast<size_t>(max_num > 0 ? max_num : config_.default_query_max_num);
  auto found = index_->Query(topic, key, max, begin, end);
  r.index_last_update_timestamp = found.index_last_update_timestamp;
  r.index_last_update_phy_offset = found.index_last_update_phy_offset;
  for (int64_t phys : found.phy_offsets) {
    auto buf = commit_log_->GetMessage(PhysicalOffset(phys));
    if (!buf.ok()) continue;
    auto view = model::DecodeStoredMessageView(buf->bytes(), false);
    if (!view.ok() || view->topic != topic) continue;  // a hash collision with another topic's key
    r.messages.push_back(std::move(*buf));
  }
  return r;
}

QueueOffset MessageStore::MinOffsetInQueue(std::string_view topic, QueueId queue_id) const {
  auto cq = FindConsumeQueue(topic, queue_id);
  return cq ? cq->MinOffset() : QueueOffset(0);
}

QueueOffset MessageStore::MaxOffsetInQueue(std::string_view topic, QueueId queue_id) const {
  auto cq = FindConsumeQueue(topic, queue_id);
  return cq ? cq->MaxOffset() : QueueOffset(0);
}

Result<PhysicalOffset> MessageStore::CommitLogOffsetInQueue(std::string_view topic, QueueId queue_id,
                                                            QueueOffset offset) const {
  FMQ_ASSIGN_OR_RETURN(CqEntry e, ConsumeQueueEntry(topic, queue_id, offset));
  return e.offset;
}

Result<CqEntry> MessageStore::ConsumeQueueEntry(std::string_view topic, QueueId queue_id,
                                                QueueOffset offset) const {
  auto cq = FindConsumeQueue(topic, queue_id);
  if (!cq) return Status::NotFound("no queue " + std::string(topic) + ":" + std::to_string(queue_id.value()));
  return cq->GetEntry(offset);
}

Result<int64_t> MessageStore::StoreTimeAt(PhysicalOffset offset, int32_t size) const {
  FMQ_ASSIGN_OR_RETURN(auto buf, commit_log_->GetData(offset, static_cast<size_t>(size)));
  FMQ_ASSIGN_OR_RETURN(auto view, model::DecodeStoredMessageView(buf.bytes(), false));
  return view.store_timestamp;
}

QueueOffset MessageStore::OffsetInQueueByTime(std::string_view topic, QueueId queue_id,
                                              int64_t timestamp) const {
  auto cq = FindConsumeQueue(topic, queue_id);
  if (!cq) return QueueOffset(0);
  return cq->OffsetByTime(timestamp, [this](PhysicalOffset o, int32_t s) { return StoreTimeAt(o, s); });
}

Result<int64_t> MessageStore::MessageStoreTimestamp(std::string_view topic, QueueId queue_id,
                                                    QueueOffset offset) const {
  auto cq = FindConsumeQueue(topic, queue_id);
  if (!cq) return Status::NotFound("no queue " + std::string(topic) + ":" + std::to_string(queue_id.value()));
  FMQ_ASSIGN_OR_RETURN(CqEntry e, cq->GetEntry(offset));
  return StoreTimeAt(e.offset, e.size);
}

Result<int64_t> MessageStore::EarliestMessageTime() const {
  auto first = commit_log_->queue().First();
  if (!first) return Status::NotFound("the commit log is empty");
  CheckedRecord r = CheckRecordAt(*first, 0, first->WrotePosition(), false);
  if (r.kind != RecordKind::kMessage) return Status::NotFound("no message at the start of the commit log");
  return r.view.store_timestamp;
}

void MessageStore::SetMessageArrivingListener(MessageArrivingListener listener) {
  MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

StoreStats MessageStore::Stats() const {
  StoreStats s;
  s.commit_log_min = commit_log_->MinOffset();
  s.commit_log_max = commit_log_->MaxOffset();
  s.commit_log_flushed = commit_log_->FlushedOffset();
  s.commit_log_files = commit_log_->queue().Files().size();
  s.dispatch_behind_bytes = s.commit_log_max.value() - reput_progress_.load(std::memory_order_acquire);
  s.consume_queues = AllConsumeQueues().size();
  s.index_files = index_ ? index_->FileCount() : 0;
  s.disk_used_ratio = disk_used_ratio_.load();
  s.disk_capacity_bytes = disk_capacity_.load();
  s.disk_available_bytes = disk_available_.load();
  s.disk_full = disk_full_.load();
  s.last_store_timestamp = commit_log_->last_store_timestamp();
  s.puts_total = puts_total_.load();
  s.put_bytes_total = put_bytes_total_.load();
  s.commit_log_syncs = commit_log_->sync_count();
  s.confirm_offset = ConfirmOffset();
  s.dispatched = DispatchedOffset();
  return s;
}

}  // namespace fmq::store
