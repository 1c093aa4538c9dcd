#pragma once

// MappedFile: one fixed-size segment of a commit log or consume queue, named by the 20-digit decimal global
// offset of its first byte and memory-mapped shared/writable (protocol reference 6.2).
//
// Positions: `wrote` is how far appended bytes are visible to readers; `flushed` how far they are durable.
// The single writer (the commit log under its put lock, or the dispatcher for consume queues) copies bytes
// into data() and then publishes them with SetWrotePosition (release); readers load WrotePosition (acquire)
// and read below it.
//
// Lifetime: shared_ptr. Readers pin a file by holding a shared_ptr; retention removes a file from its queue
// and destroys it only when no reader holds it (MappedFileQueue::ReapPendingDeletes), so bytes a reader has
// been given are never unmapped under it.
//
// Thread-safety: data() bytes below WrotePosition() are immutable and safe to read from any thread. Flush()
// is serialised internally. SetWrotePosition / ZeroFrom are for the single writer (or recovery).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::store {

enum class WarmMode {
  kNone,      // map only
  kTouch,     // rewrite one byte of every page through the mapping (with its own value), so the page cache
              // holds the page before the first append (for kMapped writes)
  kPrewrite,  // write zeros with pwrite and fdatasync them: blocks become "written" (fdatasync later has no
              // extent conversion to journal) and the pages stay cached and clean (for kPositional writes)
};

// How appended bytes reach the page cache, and how they are made durable. Measured on the target VM
// (bench/README.md): memcpy into a pre-touched mapping is the cheapest append (ASYNC_FLUSH with warming), but
// into a fresh page it faults and reads ahead zeroed pages (pwrite is cheaper then), and syncing mapped pages
// costs ~2.4x an fdatasync after pwrite, so SYNC_FLUSH writes positionally.
enum class WriteMode {
  kMapped,      // memcpy into data(); flush = msync of the dirty range
  kPositional,  // pwrite into the file (readers still read through data(): same page cache); flush =
                // fdatasync
};

class MappedFile {
 public:
  // Creates the segment file `path` with `size` bytes reserved on disk (DiskFull when the device is full),
  // warms it as asked, and maps it.
  static Result<std::shared_ptr<MappedFile>> Create(io::FileSystem& fs, std::string path, int64_t base_offset,
                                                    size_t size, WarmMode warm,
                                                    WriteMode write_mode = WriteMode::kMapped);
  // Opens and maps an existing segment. Corruption (naming the file) if its size is not `size`.
  static Result<std::shared_ptr<MappedFile>> Open(io::FileSystem& fs, std::string path, int64_t base_offset,
                                                  size_t size, WriteMode write_mode = WriteMode::kMapped);
  // "00000000001073741824"
  static std::string FileName(int64_t base_offset);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  int64_t base_offset() const { return base_offset_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  uint8_t* data() { return map_->data(); }
  const uint8_t* data() const { return map_->data(); }

  // Copies `bytes` to `pos` by this file's write mode. Single writer; publish with SetWrotePosition.
  Status Write(size_t pos, std::span<const uint8_t> bytes);

  size_t WrotePosition() const { return wrote_.load(std::memory_order_acquire); }
  void SetWrotePosition(size_t pos) { wrote_.store(pos, std::memory_order_release); }
  size_t FlushedPosition() const { return flushed_.load(std::memory_order_acquire); }
  void SetFlushedPosition(size_t pos) { flushed_.store(pos, std::memory_order_release); }
  bool IsFull() const { return WrotePosition() == size_; }
  size_t Remaining() const { return size_ - WrotePosition(); }

  // Syncs [flushed, wrote) when at least `least_pages` whole pages are dirty (0: whenever anything is).
  // Returns the flushed position afterwards.
  Result<size_t> Flush(int least_pages) FMQ_EXCLUDES(flush_mu_);

  // Zeroes every non-zero page from `pos` to the end and syncs those pages. Used when a torn tail is
  // truncated, so stale records beyond the valid end can never be mistaken for valid ones by a later
  // recovery.
  Status ZeroFrom(size_t pos);

  Result<int64_t> LastModifiedMillis() const { return fs_.ModifiedTimeMillis(path_); }

  // Removes the file from disk. The mapping stays readable until this object is destroyed.
  Status Unlink();

 private:
  MappedFile(io::FileSystem& fs, std::string path, int64_t base_offset, size_t size,
             std::unique_ptr<io::File> file, std::unique_ptr<io::Mapping> map, WriteMode write_mode);
  static Status Warm(io::File& file, io::Mapping& map, WarmMode warm);

  io::FileSystem& fs_;  // outlives every MappedFile (owned by the composition root)
  const std::string path_;
  const int64_t base_offset_;
  const size_t size_;
  std::unique_ptr<io::File> file_;
  std::unique_ptr<io::Mapping> map_;
  const WriteMode write_mode_;
  std::atomic<size_t> wrote_{0};
  std::atomic<size_t> flushed_{0};
  Mutex flush_mu_;
};

}  // namespace fmq::store
