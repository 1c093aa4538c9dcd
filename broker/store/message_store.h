#pragma once

// MessageStore: the storage engine (RocketMQ's DefaultMessageStore). It owns the commit log, the consume
// queues, the index, the checkpoint and the background services, and is the only thing the broker talks to
// for storage:
//
//   put  -> CommitLog (append, flush per flushDiskType)
//   dispatcher thread tails the commit log -> ConsumeQueue entries + index keys -> arrival listener
//   pull -> ConsumeQueue entries -> commit-log records (pinned, zero-copy)
//
// Open() takes the store's lock file, checks the store identity (cluster + broker name), loads every file and
// recovers: a torn tail is cut, consume queues and index are rebuilt from the commit log where they are
// missing or behind, and Open() returns only once they match the commit log. Close() flushes everything and
// removes the `abort` marker; a store opened without it was not closed cleanly and recovers abnormally.
//
// Created by the broker's composition root with a FileSystem and a Clock that outlive it.
// Thread-safety: every public method may be called from any thread after Open() returned OK.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/ids.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/message.h"
#include "broker/store/commit_log.h"
#include "broker/store/consume_queue.h"
#include "broker/store/epoch_history.h"
#include "broker/store/index_service.h"
#include "broker/store/store_checkpoint.h"
#include "broker/store/store_config.h"

namespace fmq::store {

// What Apache RocketMQ's broker answers (MESSAGE_ILLEGAL) to a message it cannot store because of its size;
// FerryMQ's refusals start with it, then say what is wrong.
inline constexpr std::string_view kMessageIllegalRemark =
    "the message is illegal, maybe msg body or properties length not matched. msg body length limit 128k, "
    "msg "
    "properties length limit 32k.";

// Decides which messages a pull returns. The consume-queue check sees only the tag hash code; the commit-log
// check (optional, e.g. SQL92) sees the whole record.
class MessageFilter {
 public:
  virtual ~MessageFilter() = default;
  virtual bool IsMatchedByConsumeQueue(int64_t tags_code) const = 0;
  virtual bool IsMatchedByCommitLog(const model::StoredMessageView&) const { return true; }
};

// RocketMQ's GetMessageStatus, with the same meaning (the pull processor maps them to response codes).
enum class GetMessageStatus {
  kFound,
  kNoMatchedMessage,     // entries examined, none matched the filter
  kMessageWasRemoving,   // entries point at commit-log data already deleted
  kOffsetFoundNull,      // no consume-queue file holds the offset
  kOffsetOverflowBadly,  // offset > max
  kOffsetOverflowOne,    // offset == max: nothing new yet (long polling parks here)
  kOffsetTooSmall,       // offset < min
  kNoMatchedLogicQueue,  // the queue does not exist
  kNoMessageInQueue,     // the queue is empty
};
std::string_view GetMessageStatusName(GetMessageStatus s);

struct GetMessageResult {
  GetMessageStatus status = GetMessageStatus::kNoMatchedLogicQueue;
  QueueOffset next_begin_offset{0};
  QueueOffset min_offset{0};
  QueueOffset max_offset{0};
  std::vector<SelectedBuffer> messages;  // whole records, pinned
  size_t total_bytes = 0;
};

struct QueryMessageResult {
  std::vector<SelectedBuffer> messages;
  int64_t index_last_update_timestamp = 0;
  int64_t index_last_update_phy_offset = 0;
};

// Called by the dispatcher for every message it adds to a consume queue (long polling wakes on it).
using MessageArrivingListener =
    std::function<void(std::string_view topic, QueueId queue_id, QueueOffset next_offset, int64_t tags_code)>;

struct QueueStats {
  std::string topic;
  QueueId queue_id{0};
  QueueOffset min_offset{0};
  QueueOffset max_offset{0};
  size_t files = 0;
};

struct StoreStats {
  PhysicalOffset commit_log_min{0};
  PhysicalOffset commit_log_max{0};
  PhysicalOffset commit_log_flushed{0};
  size_t commit_log_files = 0;
  int64_t dispatch_behind_bytes = 0;
  size_t consume_queues = 0;
  size_t index_files = 0;
  double disk_used_ratio = 0;
  int64_t disk_capacity_bytes = 0;   // the commit log's file system, as of the last retention check
  int64_t disk_available_bytes = 0;  // (every 10 s; 0 before the first)
  bool disk_full = false;
  int64_t last_store_timestamp = 0;
  int64_t puts_total = 0;
  int64_t put_bytes_total = 0;
  int64_t commit_log_syncs = 0;
  PhysicalOffset confirm_offset{0};  // dispatch (and so every read) stops here
  PhysicalOffset dispatched{0};      // what consume queues and the index cover
};

struct StoreOptions {
  // Runs the dispatcher, consume-queue flush and retention threads. Tests turn this off and drive them with
  // the TEST_* methods, so every step is deterministic. The commit log's flush services always run.
  bool background_services = true;
  // Consumers may read only what replication confirmed (SYNC_MASTER, or a slave of a FerryMQ master): Open()
  // sets the confirm offset to what the consume queues already covered (which was confirmed when it was
  // dispatched), and replication moves it on with SetConfirmOffset. Otherwise it is unbounded.
  bool bounded_by_confirm_offset = false;
};

class MessageStore {
 public:
  MessageStore(MessageStoreConfig config, io::FileSystem& fs, const Clock& clock, StoreOptions options = {});
  ~MessageStore();
  MessageStore(const MessageStore&) = delete;
  MessageStore& operator=(const MessageStore&) = delete;

  Status Open();
  // Idempotent.
  void Close();

  const MessageStoreConfig& config() const { return config_; }
  // The configuration with what UpdateLiveConfig changed.
  MessageStoreConfig EffectiveConfig() const;
  // Changes a setting while the store runs (UPDATE_BROKER_CONFIG): maxMessageSize, fileReservedTime.
  // InvalidArgument for another key or a value the store cannot take. Not persisted: broker.conf is the
  // source.
  Status UpdateLiveConfig(const std::string& key, const std::string& value);
  // messageDelayLevel, parsed.
  const model::DelayLevels& delay_levels() const { return delay_levels_; }
  // Whether the previous run ended without Close() (known after Open()).
  bool recovered_abnormally() const { return recovered_abnormally_; }

  // What the last Open() did: where the commit-log scan started and where dispatch replayed from.
  struct RecoveryInfo {
    bool abnormal = false;
    int64_t scan_safe_point = 0;  // abnormal: start of the segment scanned from; normal: end of the log
    int64_t dispatched_from = 0;  // consume queues and index were rebuilt from this commit-log offset
  };
  const RecoveryInfo& recovery_info() const { return recovery_; }

  // ---- writes
  // Stores one message; `done` gets the result (after group commit when SYNC_FLUSH and WAIT is not "false").
  void AsyncPutMessage(model::StoredMessage msg, PutCallback done);
  // Stores a batch of messages of one topic and queue atomically (one contiguous append).
  void AsyncPutMessages(std::vector<model::StoredMessage> batch, PutCallback done);
  // Blocking forms of the above.
  Result<PutMessageResult> PutMessage(model::StoredMessage msg);
  Result<PutMessageResult> PutMessages(std::vector<model::StoredMessage> batch);

  // ---- reads
  // Read-your-writes for a pull: when a read of `max_msgs` from `offset` would reach the end of the queue
  // while the dispatcher has not yet covered everything already appended (and acknowledged), dispatch that
  // now, on this thread, so a message whose send returned before the pull arrived is in the answer. Costs
  // nothing when dispatch is caught up or the read ends before the queue's end (a consumer with a backlog).
  void CatchUpForRead(std::string_view topic, QueueId queue_id, QueueOffset offset, int max_msgs)
      FMQ_EXCLUDES(dispatch_mu_);
  Result<GetMessageResult> GetMessage(std::string_view topic, QueueId queue_id, QueueOffset offset,
                                      int max_msgs, const MessageFilter* filter = nullptr) const;
  // The record at a commit-log offset (offset message id lookup).
  Result<model::StoredMessage> LookMessageByOffset(PhysicalOffset offset) const;
  Result<SelectedBuffer> SelectMessageByOffset(PhysicalOffset offset) const;
  // Messages whose UNIQ_KEY or KEYS contain `key`, stored within [begin, end] ms, newest first.
  QueryMessageResult QueryMessage(std::string_view topic, std::string_view key, int max_num, int64_t begin,
                                  int64_t end) const;

  QueueOffset MinOffsetInQueue(std::string_view topic, QueueId queue_id) const;
  QueueOffset MaxOffsetInQueue(std::string_view topic, QueueId queue_id) const;
  // Commit-log offset of the message at a queue offset.
  Result<PhysicalOffset> CommitLogOffsetInQueue(std::string_view topic, QueueId queue_id,
                                                QueueOffset offset) const;
  // The whole consume-queue entry at a queue offset.
  Result<CqEntry> ConsumeQueueEntry(std::string_view topic, QueueId queue_id, QueueOffset offset) const;
  // Calls `fn` with every message record from `from` (a record start, or below the log's start) to the end of
  // the whole records written, in log order; stops early when `fn` returns false. For recovery scans (the
  // deliveries of timer messages since their last checkpoint). Corruption when a record cannot be read.
  Status ScanMessages(PhysicalOffset from,
                      const std::function<bool(PhysicalOffset, const model::StoredMessageView&)>& fn) const;
  // First queue offset stored at or after `timestamp` (reset offset by time, SEARCH_OFFSET_BY_TIMESTAMP).
  QueueOffset OffsetInQueueByTime(std::string_view topic, QueueId queue_id, int64_t timestamp) const;
  // Store timestamp of the message at a queue offset.
  Result<int64_t> MessageStoreTimestamp(std::string_view topic, QueueId queue_id, QueueOffset offset) const;
  // Store time of the oldest message still in the commit log.
  Result<int64_t> EarliestMessageTime() const;

  PhysicalOffset MinPhyOffset() const { return commit_log_->MinOffset(); }
  PhysicalOffset MaxPhyOffset() const { return commit_log_->MaxOffset(); }

  // ---- replication (driven by broker/ha)
  // The confirm offset: consume queues and the index are built only from records that end at or below it,
  // so no pull, key query or long-polling wake-up sees a message beyond it. SYNC_FLUSH further bounds
  // dispatch by what is flushed, so a consumer never reads what a power loss could take back (the shape of
  // apache/rocketmq#8239). Never moves backwards unless the log is truncated below it.
  void SetConfirmOffset(PhysicalOffset offset);
  // Moves the confirm offset to `offset` if that is further (concurrent callers never move it back).
  void AdvanceConfirmOffset(PhysicalOffset offset);
  // INT64_MAX when unbounded.
  PhysicalOffset ConfirmOffset() const {
    return PhysicalOffset(confirm_offset_.load(std::memory_order_acquire));
  }
  // What dispatch has covered: every record below it is readable.
  PhysicalOffset DispatchedOffset() const {
    return PhysicalOffset(reput_progress_.load(std::memory_order_acquire));
  }
  // End of the last whole record (a slave's copy may stop inside one).
  PhysicalOffset CompleteEnd() const { return commit_log_->CompleteEnd(); }
  // Appends bytes copied from the master (CommitLog::AppendReplicated). Unavailable when the store is
  // closed, DiskFull when the disk is above diskSpaceWarningLevelRatio.
  Status AppendReplicated(PhysicalOffset offset, std::span<const uint8_t> bytes);
  // Cuts the commit log, the consume queues, the index and the epoch history at `offset` (a record boundary
  // at or below CompleteEnd()) and rebuilds what dispatch must redo. Crash-safe: the intent is written to the
  // `truncate` file first, and Open() finishes an interrupted cut before anything reads the store.
  Status TruncateTo(PhysicalOffset offset) FMQ_EXCLUDES(dispatch_mu_);
  // Recomputes the next queue offset of every queue from the consume queues and the records not dispatched
  // yet (beyond the confirm offset), so a broker that becomes master continues every queue where the log
  // ends. REQUIRES: no concurrent appends.
  Status RebuildQueueOffsets() FMQ_EXCLUDES(dispatch_mu_);
  // Refuses every later put with Unavailable(`why`) once the puts in progress ended (CommitLog::SealAppends):
  // the log end is then final. Replication seals the log of a slave and of a fenced master.
  void SealAppends(std::string why) { commit_log_->SealAppends(std::move(why)); }
  void UnsealAppends() { commit_log_->UnsealAppends(); }
  // The master terms of this log (epochs.json).
  EpochHistory& epochs() { return *epochs_; }

  void SetMessageArrivingListener(MessageArrivingListener listener) FMQ_EXCLUDES(listener_mu_);
  // Observes the time of every commit-log sync (CommitLog::SetFlushHistogram); null unsets it.
  void SetFlushHistogram(Histogram* h) { commit_log_->SetFlushHistogram(h); }
  // Removes a topic's consume queues (topic deletion).
  Status DeleteTopicQueues(std::string_view topic) FMQ_EXCLUDES(cq_mu_);
  std::vector<QueueStats> ListQueues() const FMQ_EXCLUDES(cq_mu_);
  StoreStats Stats() const;
  bool IsDiskFull() const { return disk_full_.load(); }
  // Asks retention to delete expired files on its next rounds regardless of the hour
  // (DELETE_EXPIRED_COMMITLOG).
  void TriggerDeleteExpiredFiles() { manual_delete_rounds_ = 20; }

  // ---- deterministic drivers for tests (also used when background_services is off)
  // Dispatches everything appended so far to consume queues and the index.
  Status TEST_DispatchAll() { return DispatchAvailable(); }
  // Flushes consume queues, index and checkpoint as the flush service does (thoroughly).
  Status TEST_FlushConsumeQueues() { return FlushConsumeQueues(/*thorough=*/true); }
  // One round of the disk check and retention.
  void TEST_RunRetention() { RunRetention(); }
  CommitLog& TEST_commit_log() { return *commit_log_; }

 private:
  class ServiceLoop;

  struct RecoveryPlan {
    bool last_exit_ok = true;
    bool rebuild_all = false;                // consumequeue/ or index/ was missing
    int64_t index_rebuild_from = INT64_MAX;  // first message of index files dropped after a crash
  };

  Status CheckIdentity();
  Status LoadConsumeQueues() FMQ_EXCLUDES(cq_mu_);
  Status Recover(const RecoveryPlan& plan);
  bool EntryMatchesLog(const ConsumeQueue& cq, const CqEntry& e, QueueOffset qo) const;
  std::shared_ptr<ConsumeQueue> FindConsumeQueue(std::string_view topic, QueueId queue_id) const
      FMQ_EXCLUDES(cq_mu_);
  Result<std::shared_ptr<ConsumeQueue>> FindOrCreateConsumeQueue(std::string_view topic, QueueId queue_id)
      FMQ_EXCLUDES(cq_mu_);
  std::vector<std::shared_ptr<ConsumeQueue>> AllConsumeQueues() const FMQ_EXCLUDES(cq_mu_);

  Status CheckWritable(const model::StoredMessage& msg) const;
  Status CheckDiskWritable() const;
  // Where dispatch may go now: the log's end, bounded by the confirm offset and, for SYNC_FLUSH, by what is
  // flushed.
  int64_t DispatchLimit() const;
  // Next queue offset per queue: consume-queue maxima plus the undispatched records from `from`.
  Result<std::unordered_map<std::string, int64_t>> QueueOffsetsFrom(int64_t from) FMQ_REQUIRES(dispatch_mu_);
  Status TruncateLocked(PhysicalOffset offset) FMQ_REQUIRES(dispatch_mu_);
  std::string TruncateIntentPath() const;
  // Validates and appends. With `defer_flush_wait`, the append does not wait for group commit;
  // *defer_flush_wait says whether the caller must (CommitLog::WaitFlushed).
  void Put(std::vector<model::StoredMessage> msgs, bool* defer_flush_wait, PutCallback done);

  // Dispatcher: from reput_from_ to the end of the commit log.
  Status DispatchAvailable() FMQ_EXCLUDES(dispatch_mu_);
  Status Dispatch(const model::StoredMessageView& msg, int64_t phys, int32_t size);
  Status FlushConsumeQueues(bool thorough);
  void RunRetention();
  Result<int64_t> StoreTimeAt(PhysicalOffset offset, int32_t size) const;

  const MessageStoreConfig config_;
  std::atomic<uint32_t> max_message_size_;     // maxMessageSize, live
  std::atomic<int> file_reserved_time_hours_;  // fileReservedTime, live
  const model::DelayLevels delay_levels_;      // config_.message_delay_level
  io::FileSystem& fs_;                         // not owned
  const Clock& clock_;                         // not owned
  const StoreOptions options_;

  std::unique_ptr<io::FileLock> lock_;
  std::unique_ptr<StoreCheckpoint> checkpoint_;
  std::unique_ptr<CommitLog> commit_log_;
  std::unique_ptr<IndexService> index_;
  std::unique_ptr<EpochHistory> epochs_;

  mutable Mutex cq_mu_;
  std::map<std::string, std::map<int32_t, std::shared_ptr<ConsumeQueue>>, std::less<>> cqs_
      FMQ_GUARDED_BY(cq_mu_);

  Mutex dispatch_mu_;
  int64_t reput_from_ FMQ_GUARDED_BY(dispatch_mu_) = 0;
  // Every record below it has its consume-queue entry. Above reput_from_ after a truncation: the index lost a
  // whole file and is rebuilt from its start, the consume queues were only cut (so the next queue offsets are
  // computed from here, not by reading the log again from reput_from_).
  int64_t cq_covered_ FMQ_GUARDED_BY(dispatch_mu_) = 0;
  std::atomic<int64_t> reput_progress_{0};  // mirror of reput_from_ for lock-free readers
  std::atomic<int64_t> confirm_offset_{INT64_MAX};
  std::atomic<int64_t> last_dispatched_ts_{0};
  std::atomic<int64_t> last_thorough_flush_nanos_{0};
  RecoveryInfo recovery_;

  mutable Mutex listener_mu_;
  MessageArrivingListener listener_ FMQ_GUARDED_BY(listener_mu_);

  std::atomic<bool> open_{false};
  std::atomic<bool> disk_full_{false};
  std::atomic<double> disk_used_ratio_{0};
  std::atomic<int64_t> disk_capacity_{0}, disk_available_{0};  // of the commit log's file system
  std::atomic<int> manual_delete_rounds_{0};
  std::atomic<int64_t> puts_total_{0};
  std::atomic<int64_t> put_bytes_total_{0};
  bool recovered_abnormally_ = false;

  std::vector<std::unique_ptr<ServiceLoop>> services_;
};

}  // namespace fmq::store
