#pragma once

// StoreInspector: read-only access to a store directory for operators (`ferrymq store verify|dump|stats`).
//
// Unlike MessageStore::Open it never writes: no recovery, no truncation, no lock file. It reads segments with
// positional reads, so it can inspect a store as it was left by a crash (a torn tail shows up as the first
// bad offset) or a copy taken from another machine. Run it while no broker uses the store, or on a copy: a
// running broker keeps appending, so the tail it reports may already be stale.
//
// Thread-safety: not thread-safe; one inspector per thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/message.h"

namespace fmq::store {

struct CommitLogScan {
  int64_t min_offset = 0;  // start of the first segment
  int64_t end_offset = 0;  // end of valid data
  int64_t messages = 0;
  int64_t bytes = 0;
  int64_t segments = 0;
  int64_t segment_size = 0;
  int64_t first_store_timestamp = 0;
  int64_t last_store_timestamp = 0;
  // First offset where a record is damaged (-1 if the log ends cleanly), why, and how many bytes of data
  // follow it in the segments (what recovery would cut).
  int64_t first_bad_offset = -1;
  std::string first_bad_reason;
};

struct QueueCheck {
  std::string topic;
  int32_t queue_id = 0;
  int64_t min_offset = 0;  // first entry that is not a filler
  int64_t max_offset = 0;  // next offset to be written
  int64_t entries = 0;
  int64_t entries_below_commit_log = 0;  // point at deleted segments (normal after retention)
};

struct ConsumeQueueReport {
  std::vector<QueueCheck> queues;
  int64_t problem_count = 0;
  std::vector<std::string> problems;  // at most 100
};

struct IndexFileInfo {
  std::string name;
  int64_t begin_timestamp = 0, end_timestamp = 0, begin_phy_offset = 0, end_phy_offset = 0;
  int32_t hash_slot_count = 0, index_count = 0;
};

struct StoreSummary {
  std::string root;
  std::string identity;       // content of ferrymq-identity.json, if any
  bool abort_marker = false;  // present: the broker is running or did not shut down cleanly
  int64_t checkpoint_physic = 0, checkpoint_logics = 0, checkpoint_index = 0;
  CommitLogScan commit_log;  // only the last segment is scanned (end offset), not every record
  std::vector<QueueCheck> queues;
  std::vector<IndexFileInfo> index_files;
};

class StoreInspector {
 public:
  // `root` is storePathRootDir; `commit_log_dir` defaults to <root>/commitlog.
  StoreInspector(io::FileSystem& fs, std::string root, std::string commit_log_dir = "");
  ~StoreInspector();

  // Lists the segments and learns the segment size from them. NotFound if there is no commit log.
  Status Load();

  // Walks records from `from` (-1: the start) with CRC checks, calling `fn` for each valid message until it
  // returns false or the valid data ends.
  Result<CommitLogScan> ScanCommitLog(
      int64_t from, const std::function<bool(const model::StoredMessageView&, int64_t phys)>& fn);

  // Checks every consume-queue entry against the record it points at: size, topic, queue id, queue offset.
  Result<ConsumeQueueReport> CheckConsumeQueues(int64_t commit_log_min);

  Result<StoreSummary> Summarize();

 private:
  struct Segment;
  Result<Segment*> SegmentFor(int64_t offset);
  Result<QueueCheck> CheckQueue(const std::string& topic, int32_t queue_id, int64_t commit_log_min,
                                ConsumeQueueReport* report);

  io::FileSystem& fs_;
  const std::string root_;
  const std::string commit_log_dir_;
  int64_t segment_size_ = 0;
  std::map<int64_t, std::unique_ptr<Segment>> segments_;  // by base offset
};

}  // namespace fmq::store
