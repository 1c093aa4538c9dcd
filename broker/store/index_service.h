#pragma once

// The message index (protocol reference 6.7; docs/formats/index.md): files in index/ named by their creation
// time (yyyyMMddHHmmssSSS), each a hash table of `max_hash_slot_num` int32 slots followed by `max_index_num`
// 20-byte entries chained per slot:
//   header (40): beginTimestamp, endTimestamp, beginPhyOffset, endPhyOffset (int64), hashSlotCount,
//   indexCount slot (4):    number of the newest entry whose key hashes to the slot (0 = empty) entry (20):
//   keyHash int32 | commit-log offset int64 | seconds since beginTimestamp int32 | previous int32
// Keys are "topic#key" for the message's UNIQ_KEY and each space-separated token of KEYS.
//
// IndexService owns the files; the dispatcher adds keys, queries read them. Created by MessageStore.
// Thread-safety: every method is safe to call concurrently (one mutex guards the files and their bytes;
// queries are rare and short).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::store {

class IndexFile {
 public:
  static constexpr size_t kHeaderSize = 40;
  static constexpr size_t kSlotSize = 4;
  static constexpr size_t kEntrySize = 20;

  static size_t FileSize(int slots, int max_index) {
    return kHeaderSize + size_t(slots) * kSlotSize + size_t(max_index) * kEntrySize;
  }
  static Result<std::unique_ptr<IndexFile>> Create(io::FileSystem& fs, const std::string& path, int slots,
                                                   int max_index);
  static Result<std::unique_ptr<IndexFile>> Open(io::FileSystem& fs, const std::string& path, int slots,
                                                 int max_index);
  // Non-negative Java hashCode of the key (Math.abs with MIN_VALUE mapped to 0).
  static int32_t KeyHash(std::string_view key);

  // Adds `key` -> `phys`. Returns false (adding nothing) when the file is full.
  bool Put(std::string_view key, int64_t phys, int64_t store_timestamp);
  // Appends to `out` the offsets of entries for `key` stored within [begin, end] (ms), newest first.
  void Select(std::string_view key, size_t max, int64_t begin, int64_t end, std::vector<int64_t>* out) const;

  bool IsFull() const { return index_count_ >= max_index_; }
  int64_t begin_timestamp() const { return begin_ts_; }
  int64_t end_timestamp() const { return end_ts_; }
  int64_t begin_phy_offset() const { return begin_phy_; }
  int64_t end_phy_offset() const { return end_phy_; }
  int32_t index_count() const { return index_count_; }
  int32_t hash_slot_count() const { return slot_count_; }
  const std::string& path() const { return path_; }

  Status Flush();
  Status Unlink() { return fs_.Remove(path_); }

 private:
  IndexFile(io::FileSystem& fs, std::string path, int slots, int max_index, std::unique_ptr<io::File> file,
            std::unique_ptr<io::Mapping> map);
  void WriteHeader();

  io::FileSystem& fs_;
  const std::string path_;
  const int slots_;
  const int max_index_;
  std::unique_ptr<io::File> file_;
  std::unique_ptr<io::Mapping> map_;
  int64_t begin_ts_ = 0, end_ts_ = 0, begin_phy_ = 0, end_phy_ = 0;
  int32_t slot_count_ = 0;
  int32_t index_count_ = 1;  // entry 0 is never used
  bool dirty_ = false;
};

struct IndexQueryResult {
  std::vector<int64_t> phy_offsets;  // may include hash collisions
  int64_t index_last_update_timestamp = 0;
  int64_t index_last_update_phy_offset = 0;
};

class IndexService {
 public:
  IndexService(io::FileSystem& fs, std::string dir, int slots, int max_index, const Clock& clock);

  // Maps the index files. After an abnormal exit, files holding entries newer than `checkpoint_timestamp` may
  // be torn and are deleted; the result is the commit-log offset from which re-dispatch rebuilds them (the
  // first message they held), or INT64_MAX when nothing was deleted.
  Result<int64_t> Load(bool last_exit_ok, int64_t checkpoint_timestamp) FMQ_EXCLUDES(mu_);

  // Indexes one message: its UNIQ_KEY and KEYS. Messages below the newest file's endPhyOffset are already
  // indexed and skipped.
  Status BuildIndex(std::string_view topic, std::string_view uniq_key, std::string_view keys, int64_t phys,
                    int64_t store_timestamp) FMQ_EXCLUDES(mu_);

  // Offsets of entries whose key hashes like "topic#key" (collisions included: callers decode the message
  // and compare what they need).
  IndexQueryResult Query(std::string_view topic, std::string_view key, size_t max, int64_t begin,
                         int64_t end) const FMQ_EXCLUDES(mu_);

  // Flushes the newest file if it changed; returns the end timestamp now durable (0 if unknown).
  Result<int64_t> Flush() FMQ_EXCLUDES(mu_);
  // Deletes files (never the newest) whose entries all point below `commit_log_min`.
  int DeleteExpired(int64_t commit_log_min) FMQ_EXCLUDES(mu_);
  // Deletes the files holding entries at or beyond commit-log offset `phys` (the log was cut there) and
  // returns the offset re-dispatch must rebuild the index from (the first message of the oldest deleted
  // file), or INT64_MAX when nothing was deleted.
  Result<int64_t> DropFrom(int64_t phys) FMQ_EXCLUDES(mu_);
  // End of the indexed range (endPhyOffset of the newest file; 0 when none).
  int64_t EndPhyOffset() const FMQ_EXCLUDES(mu_);
  size_t FileCount() const FMQ_EXCLUDES(mu_);
  Status Destroy() FMQ_EXCLUDES(mu_);

 private:
  Result<IndexFile*> Writable() FMQ_REQUIRES(mu_);
  Status PutKey(std::string_view topic, std::string_view key, int64_t phys, int64_t store_timestamp)
      FMQ_REQUIRES(mu_);

  io::FileSystem& fs_;
  const std::string dir_;
  const int slots_;
  const int max_index_;
  const Clock& clock_;
  mutable Mutex mu_;
  std::vector<std::unique_ptr<IndexFile>> files_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::store
