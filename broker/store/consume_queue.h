#pragma once

// ConsumeQueue: the index of one (topic, queue id): entry n (queue offset n) at byte n*20 says where message
// n of the queue lives in the commit log (protocol reference 6.5; docs/formats/consumequeue.md):
//   int64 commit-log offset | int32 record size | int64 tag hash code
// Files live in consumequeue/<topic>/<queueId>/ and are named by their 20-digit start byte offset.
//
// Written only by the dispatcher (ReputMessageService) and by recovery; read by pulls from any thread.
// Created by MessageStore (on load or on first dispatch to the queue), which owns it.
//
// Thread-safety: PutEntry / Truncate* / Delete* come from one thread at a time (the dispatcher or recovery or
// retention, which the store serialises); reads are safe concurrently with them.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "broker/base/ids.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/store/mapped_file_queue.h"

namespace fmq::store {

struct CqEntry {
  PhysicalOffset offset{0};
  int32_t size = 0;
  int64_t tags_code = 0;
};

class ConsumeQueue {
 public:
  static constexpr size_t kEntrySize = 20;
  // Entries written in front of the first real entry of a queue whose files start above offset 0.
  static constexpr int32_t kFillerSize = 0x7FFFFFFF;

  ConsumeQueue(io::FileSystem& fs, std::string topic, QueueId queue_id, const std::string& root_dir,
               size_t file_size);
  ConsumeQueue(const ConsumeQueue&) = delete;
  ConsumeQueue& operator=(const ConsumeQueue&) = delete;

  const std::string& topic() const { return topic_; }
  QueueId queue_id() const { return queue_id_; }

  Status Load();
  // Scans from the third-last file and cuts everything after the last valid entry (offset >= 0, size > 0).
  Status Recover();

  // Appends the entry of `queue_offset`. An entry the queue already covers is ignored (re-dispatch after
  // recovery is idempotent). The first entry of an empty queue at an offset above 0 gets filler entries in
  // front of it within its file.
  Status PutEntry(const CqEntry& entry, QueueOffset queue_offset);

  // Drops entries from the end while `matches(entry, queue offset)` is false (at most `max_checks`). An entry
  // that straddles a page boundary can survive a crash half written (offset and size intact, tag code
  // zeroed); recovery checks the tail against the commit log and re-dispatch writes the dropped entries
  // again.
  Status TrimTail(const std::function<bool(const CqEntry&, QueueOffset)>& matches, int max_checks);

  // Removes entries whose message ends beyond commit-log offset `phys_end` (after a commit-log truncation).
  Status TruncateDirty(int64_t phys_end);
  // Advances the min offset past entries pointing below `commit_log_min` (their messages were deleted).
  void CorrectMinOffset(int64_t commit_log_min);
  // Removes files whose last entry points below `commit_log_min` (never the last file). Returns how many.
  int DeleteExpired(int64_t commit_log_min);

  QueueOffset MinOffset() const { return QueueOffset(min_logic_offset_.load() / int64_t{kEntrySize}); }
  QueueOffset MaxOffset() const { return QueueOffset(queue_.MaxOffset() / int64_t{kEntrySize}); }
  // End (offset + size) of the furthest message referenced; 0 when empty.
  int64_t MaxPhysicalEnd() const { return max_physical_end_.load(); }

  Result<CqEntry> GetEntry(QueueOffset offset) const;
  // Up to `max` consecutive entries from `from`, stopping at the end of the file holding `from`.
  Result<std::vector<CqEntry>> GetEntries(QueueOffset from, size_t max) const;

  // First queue offset whose message was stored at or after `timestamp` (MaxOffset() if none; MinOffset() if
  // all are). `store_time_of` reads a message's store timestamp by commit-log offset.
  QueueOffset OffsetByTime(
      int64_t timestamp, const std::function<Result<int64_t>(PhysicalOffset, int32_t)>& store_time_of) const;

  Result<bool> Flush(int least_pages) { return queue_.Flush(least_pages); }
  Status Destroy() { return queue_.DestroyAll(); }
  size_t FileCount() const { return queue_.Files().size(); }
  MappedFileQueue& files() { return queue_; }

 private:
  static bool DecodeEntry(const uint8_t* p, CqEntry* e);
  static void WriteEntry(uint8_t* p, const CqEntry& e);
  Status Append(const CqEntry& entry);

  const std::string topic_;
  const QueueId queue_id_;
  MappedFileQueue queue_;
  std::atomic<int64_t> min_logic_offset_{0};  // bytes
  std::atomic<int64_t> max_physical_end_{0};
};

}  // namespace fmq::store
