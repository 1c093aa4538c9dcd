#pragma once

// MappedFileQueue: a directory of equally sized MappedFiles forming one contiguous byte space (the commit
// log, or one consume queue). File i covers [base_i, base_i + file_size); names are the 20-digit bases.
//
// The writer asks LastOrCreate() for the file to append to; readers find files with FindByOffset() and hold
// the returned shared_ptr while they read. Retention removes old files with DeleteExpired(): the file's name
// is unlinked at once (so a segment recreated under the same name is never touched), while its mapping, and
// so every byte a reader was handed, stays valid until the last reader drops its shared_ptr; only then are
// the pages unmapped and the disk blocks released.
//
// Thread-safety: all methods are safe to call concurrently; the file list is guarded by a mutex and lookups
// copy shared_ptrs out. Appending into the last file is the single writer's business.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/store/mapped_file.h"

namespace fmq::store {

// Pre-creates the next commit-log file in the background so a roll does not wait for allocation and page
// warming (protocol reference 6.2; performance note B.4). Created by the store, stopped before it.
//
// Thread-safety: Obtain() may be called from the writer while the service thread works.
class MappedFileAllocator : public ServiceThread {
 public:
  MappedFileAllocator(io::FileSystem& fs, WarmMode warm, WriteMode write_mode);
  ~MappedFileAllocator() override;

  // Returns the file `path` (pre-created if it was requested earlier, else created now) and queues the
  // creation of `next_path` so the following roll finds it ready.
  Result<std::shared_ptr<MappedFile>> Obtain(const std::string& path, int64_t base,
                                             const std::string& next_path, int64_t next_base, size_t size)
      FMQ_EXCLUDES(mu_);
  // True while the next file is being created or warmed (for metrics and steady-state benchmarks).
  bool Busy() FMQ_EXCLUDES(mu_);
  // Forgets the file being prepared (waiting for it if it is under way) and removes it from disk: the queue
  // was cut or reset, so it would not follow the queue's last file.
  void DropPending() FMQ_EXCLUDES(mu_);

 protected:
  void Run() override;

 private:
  struct Request {
    std::string path;
    int64_t base = 0;
    size_t size = 0;
    bool done = false;
    Result<std::shared_ptr<MappedFile>> result = Status::Unavailable("not created yet");
  };

  io::FileSystem& fs_;
  const WarmMode warm_;
  const WriteMode write_mode_;
  Mutex mu_;
  CondVar cv_{&mu_};
  std::shared_ptr<Request> pending_ FMQ_GUARDED_BY(mu_);  // at most one file ahead
};

class MappedFileQueue {
 public:
  // `allocator` may be null (files are then created synchronously, unwarmed); not owned, outlives the queue.
  MappedFileQueue(io::FileSystem& fs, std::string dir, size_t file_size,
                  MappedFileAllocator* allocator = nullptr, WarmMode warm = WarmMode::kNone,
                  WriteMode write_mode = WriteMode::kMapped);

  MappedFileQueue(const MappedFileQueue&) = delete;
  MappedFileQueue& operator=(const MappedFileQueue&) = delete;

  // Creates the directory if needed and maps every segment in it (wrote/flushed positions = file size until
  // recovery sets them). Corruption if a segment has the wrong size or the bases are not contiguous, except
  // that segments after a gap that were never written (first bytes zero: files the allocator prepared before
  // the queue was cut) are removed.
  Status Load();

  const std::string& dir() const { return dir_; }
  size_t file_size() const { return file_size_; }

  std::shared_ptr<MappedFile> First() const;
  std::shared_ptr<MappedFile> Last() const;
  std::vector<std::shared_ptr<MappedFile>> Files() const;
  bool Empty() const;

  // The last file if it has room; else a new file starting at `start_offset` when the queue is empty, or
  // right after the last file otherwise.
  Result<std::shared_ptr<MappedFile>> LastOrCreate(int64_t start_offset);

  // The file holding `offset`, or null. With `first_if_not_found`, offsets below the first file yield it.
  std::shared_ptr<MappedFile> FindByOffset(int64_t offset, bool first_if_not_found = false) const;

  int64_t MinOffset() const;  // base of the first file (0 when empty)
  int64_t MaxOffset() const;  // base of the last file + its wrote position
  int64_t FlushedWhere() const;

  // Flushes the file holding the flushed position (moving on when it is complete). Returns true if anything
  // new became durable.
  Result<bool> Flush(int least_pages);

  // Sets every position to `offset`: later files are removed, the file holding it keeps bytes below it and
  // has the rest zeroed. Used by recovery to cut a torn tail.
  Status Truncate(int64_t offset);

  // Removes every file, keeping the directory: the next LastOrCreate(offset) starts the queue at `offset`.
  Status Clear();

  // Sets wrote and flushed positions of every file from the queue's content end `offset` (recovery, no
  // truncation of data).
  void SetPositions(int64_t offset);

  // Removes files oldest first while `expired(file)` holds, never the last file, at most `max_count`. Returns
  // how many were removed from the queue.
  int DeleteExpired(const std::function<bool(const MappedFile&)>& expired, int max_count);

  // Removes every file (and the directory).
  Status DestroyAll();

 private:
  io::FileSystem& fs_;  // not owned
  const std::string dir_;
  const size_t file_size_;
  MappedFileAllocator* const allocator_;  // not owned, may be null
  const WarmMode warm_;
  const WriteMode write_mode_;
  mutable Mutex mu_;
  std::vector<std::shared_ptr<MappedFile>> files_ FMQ_GUARDED_BY(mu_);
  int64_t flushed_where_ FMQ_GUARDED_BY(mu_) = 0;
};

}  // namespace fmq::store
