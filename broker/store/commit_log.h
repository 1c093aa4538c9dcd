#pragma once

// CommitLog: the append-only log every message goes to first (protocol reference 4.1, 6.2, 6.3, 6.8;
// docs/formats/commitlog.md). Segments are MappedFiles of `mapped_file_size_commit_log` bytes; a record that
// does not fit (with 8 spare bytes) in the current segment is preceded by a blank end-of-file marker and
// written at the start of the next one.
//
// Appends: records are encoded (CRC included) by the caller's thread; under the put lock the commit log
// assigns the physical offset, the queue offset and a monotonic store timestamp, patches them into the bytes
// and copies them into the segment. Then, by flushDiskType:
//   ASYNC_FLUSH: the caller is answered at once; FlushService syncs in the background.
//   SYNC_FLUSH:  the answer waits for GroupCommitService, which serves every waiter with one sync.
//
// Created and owned by MessageStore, which calls Load/Recover before Start and Stop before destruction.
// Thread-safety: Put* from any thread (serialised by the put lock); reads from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/ids.h"
#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/message.h"
#include "broker/store/mapped_file_queue.h"
#include "broker/store/store_checkpoint.h"
#include "broker/store/store_config.h"

namespace fmq::store {

struct PutMessageResult {
  PhysicalOffset wrote_offset{0};  // physical offset of the first record
  int32_t wrote_bytes = 0;         // bytes of all records
  QueueOffset queue_offset{0};     // queue offset of the first record
  int32_t message_count = 0;
  int64_t store_timestamp = 0;
  std::string msg_id;  // offset message id; for a batch the ids joined with ','
};

using PutCallback = std::function<void(Result<PutMessageResult>)>;

// Bytes of the commit log pinned in their segment (the shared_ptr keeps them mapped).
struct SelectedBuffer {
  std::shared_ptr<MappedFile> file;
  PhysicalOffset offset{0};
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::span<const uint8_t> bytes() const { return {data, size}; }
};

// What a scan finds at a position of a segment.
enum class RecordKind {
  kMessage,  // a valid V1 record
  kBlank,    // the end-of-file marker: the rest of the segment is empty, continue in the next one
  kEnd,      // zeros, a torn or otherwise invalid record: the log's valid data ends here
};

struct CheckedRecord {
  RecordKind kind = RecordKind::kEnd;
  size_t size = 0;                // bytes to skip (record size, or the blank's remaining length)
  model::StoredMessageView view;  // valid for kMessage; views into the segment
  std::string problem;            // why kEnd, for logs and `ferrymq store verify`
};

// Checks the record at `pos` of `file` (bytes below `limit`). Verifies the magic, every length, that the
// record's PHYSICALOFFSET field equals its real position (so stale bytes are never taken for a record) and,
// if `check_crc`, the body CRC.
CheckedRecord CheckRecordAt(const MappedFile& file, size_t pos, size_t limit, bool check_crc);
// The same check on raw bytes: `p` is the record's first byte at commit-log offset `phys`, `segment_left` the
// bytes from it to the end of its segment, `written_left` how many of those hold written data.
CheckedRecord CheckRecord(const uint8_t* p, size_t segment_left, size_t written_left, int64_t phys,
                          bool check_crc);

class CommitLog {
 public:
  CommitLog(const MessageStoreConfig& config, io::FileSystem& fs, const Clock& clock,
            StoreCheckpoint* checkpoint);
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  Status Load();

  // Finds the end of valid data, truncates a torn tail (never fatal) and returns the physical offset from
  // which consume queues and the index must be re-dispatched:
  //  * normal (clean previous shutdown): scans the last three segments; dispatch offset = the end.
  //  * abnormal: scans from the newest segment whose first message is older than `checkpoint_timestamp`
  //    minus 3 s (everything before it is known durable) and returns that segment's start.
  Result<PhysicalOffset> Recover(bool abnormal, int64_t checkpoint_timestamp);

  // Starts the flush service matching flushDiskType.
  Status Start();
  // Stops the services and flushes everything.
  void Stop();

  // Appends `messages` (one record, or a batch of one topic/queue) and calls `done` once the result is final
  // (after group commit when SYNC_FLUSH and `wait_for_flush`). `done` may run on this thread or on the
  // group-commit thread. REQUIRES: each message passed model::ValidateForStore.
  void AsyncPut(std::vector<model::StoredMessage> messages, bool wait_for_flush, PutCallback done);
  // Refuses every later AsyncPut with Unavailable(`why`) (not empty). Returns once no append is in progress,
  // so MaxOffset() is then final: replication seals the log of a fenced master or a slave, so an append that
  // passed the broker's write gate before the fence cannot land after the log end the fence reported
  // (a switchover would promote a slave without it, and the old master and the other slaves would then cut
  // it although it may have been acknowledged). AppendReplicated is not affected.
  void SealAppends(std::string why) FMQ_EXCLUDES(put_mu_);
  void UnsealAppends() FMQ_EXCLUDES(put_mu_);

  // Record at `offset` (kMessage) pinned in its segment. NotFound if the offset is outside the log or does
  // not start a record.
  Result<SelectedBuffer> GetMessage(PhysicalOffset offset) const;
  // `size` bytes at `offset`, inside one segment and below the write position.
  Result<SelectedBuffer> GetData(PhysicalOffset offset, size_t size) const;
  // The largest readable span starting at `offset` inside its segment (for scans).
  Result<SelectedBuffer> GetDataFrom(PhysicalOffset offset) const;

  PhysicalOffset MinOffset() const { return PhysicalOffset(queue_.MinOffset()); }
  PhysicalOffset MaxOffset() const { return PhysicalOffset(max_offset_.load(std::memory_order_acquire)); }
  PhysicalOffset FlushedOffset() const { return PhysicalOffset(queue_.FlushedWhere()); }
  // Every sync of a segment (flush service or group commit) is observed here, in milliseconds (the broker's
  // rocketmq_storage_flush_latency_milliseconds); null: none. The histogram must outlive the log or be unset.
  void SetFlushHistogram(Histogram* h) { flush_histogram_.store(h, std::memory_order_release); }
  // Start of the segment after the one holding `offset` (for skipping blanks and deleted segments).
  PhysicalOffset RollNextFile(PhysicalOffset offset) const;

  // Next queue offset per "topic-queueId" (rebuilt from consume queues after recovery).
  void SetQueueOffsetTable(std::unordered_map<std::string, int64_t> table) FMQ_EXCLUDES(put_mu_);
  void RemoveQueueFromTable(std::string_view topic, QueueId queue_id) FMQ_EXCLUDES(put_mu_);

  // SYNC_FLUSH: blocks until everything below `offset` is durable (DeadlineExceeded after syncFlushTimeout,
  // or the flush error). ASYNC_FLUSH: returns at once. For callers that block a thread per append anyway; the
  // network path uses AsyncPut's callback instead.
  Status WaitFlushed(int64_t offset);

  // SYNC_FLUSH: asks group commit to make everything below `offset` durable soon, without waiting (readers of
  // appends that did not wait for their flush). ASYNC_FLUSH: nothing.
  void RequestFlush(int64_t offset);

  // Flushes everything written so far (used at shutdown and by tests).
  Status FlushAll();

  // ---- replication
  // Appends bytes copied from a master's commit log at `offset` (protocol reference 9.2): they may start or
  // end inside a record and include blank markers; segments are created at the master's bases. `offset` must
  // be MaxOffset(), or, for an empty log, the start of a segment. Records completed by the bytes advance
  // CompleteEnd() and the newest store timestamp. Serialised with Put by the put lock.
  Status AppendReplicated(PhysicalOffset offset, std::span<const uint8_t> bytes) FMQ_EXCLUDES(put_mu_);
  // End of the last whole record (or segment): where the log can be cut without splitting a record. Equals
  // MaxOffset() except on a slave whose copy stops inside a record.
  PhysicalOffset CompleteEnd() const { return PhysicalOffset(complete_end_.load(std::memory_order_acquire)); }
  // Cuts the log at `offset` (at or below CompleteEnd()): everything before it is made durable first, the
  // bytes after it are zeroed and later segments removed. The newest store timestamp is forgotten (0), so
  // the checkpoint cannot claim durability for a time the cut log no longer reaches.
  Status TruncateTo(PhysicalOffset offset) FMQ_EXCLUDES(put_mu_);

  MappedFileQueue& queue() { return queue_; }
  bool AllocatorBusy() { return allocator_->Busy(); }
  int64_t last_store_timestamp() const { return last_store_ts_.load(std::memory_order_acquire); }
  // Syncs that made new commit-log bytes durable (messages per sync = group commit efficiency).
  int64_t sync_count() const { return syncs_.load(std::memory_order_relaxed); }

 private:
  class FlushService;
  class GroupCommitService;

  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using QueueOffsetTable = std::unordered_map<std::string, int64_t, TransparentHash, std::equal_to<>>;

  // Flushes until everything below `target` is durable or no progress is possible.
  Status FlushTo(int64_t target, int least_pages);
  // Records the newest store timestamp known durable in the checkpoint.
  void NoteFlushed(int64_t timestamp_before_flush, int64_t max_offset_before_flush);

  struct EncodedSlot {
    size_t pos;           // where the record starts in the encoded batch
    size_t store_ts_pos;  // where its store timestamp is
  };
  // Assigns offsets and the store timestamp in `buf` and appends it (AsyncPut under the put lock).
  Status AppendLocked(std::string& buf, const std::vector<EncodedSlot>& slots, bool dispatchable,
                      const std::string& key, PutMessageResult* result) FMQ_REQUIRES(put_mu_);
  // Moves the record walker over whole records appended by AppendReplicated.
  void WalkReplicatedRecords() FMQ_REQUIRES(put_mu_);

  const MessageStoreConfig& config_;  // owned by MessageStore, outlives this
  const Clock& clock_;
  StoreCheckpoint* const checkpoint_;  // owned by MessageStore
  std::unique_ptr<MappedFileAllocator> allocator_;
  MappedFileQueue queue_;

  Mutex put_mu_;
  QueueOffsetTable queue_offsets_ FMQ_GUARDED_BY(put_mu_);
  std::atomic<int64_t> last_store_ts_{0};
  std::atomic<int64_t> max_offset_{0};
  std::atomic<int64_t> complete_end_{0};
  std::atomic<int64_t> syncs_{0};
  std::atomic<Histogram*> flush_histogram_{nullptr};
  bool walk_stopped_ FMQ_GUARDED_BY(put_mu_) = false;  // the walker met bytes that are not a record
  std::string sealed_why_ FMQ_GUARDED_BY(put_mu_);     // not empty: AsyncPut refuses (SealAppends)

  std::unique_ptr<FlushService> flush_service_;
  std::unique_ptr<GroupCommitService> group_commit_;
};

std::string QueueKey(std::string_view topic, QueueId queue_id);

}  // namespace fmq::store
