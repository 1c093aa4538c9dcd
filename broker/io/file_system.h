#pragma once

// The file-system seam. The store never calls POSIX directly: it goes through FileSystem, so tests can run it
// on an in-memory file system (memory_file_system.h) and crash it at any point through a fault-injecting one
// (fault_injection_file_system.h). This is what makes crash-recovery tests deterministic and sleep-free.
//
// Durability model (shared by every implementation):
//  * Data written with File::WriteAt or through a Mapping is "in the page cache": visible to every reader at
//    once, durable only after File::Sync() or Mapping::Sync() covering it. A crash keeps every synced byte
//    and an arbitrary subset of the unsynced 4 KiB pages (the kernel may have written some back): a torn
//    tail.
//  * Creating a file or directory, Rename and Remove are durable once SyncDir() of the parent returns
//    (MemoryFileSystem treats them as durable at once; recovery code must not rely on either).
//  * Allocate() reserves blocks so that later writes inside [0, size) cannot fail for lack of space; it fails
//    with Status::DiskFull when the device is full. Writes through a Mapping beyond allocated blocks would be
//    a SIGBUS on Linux, so the store only maps allocated files.
//
// Errors: every failure is a Status naming the path and the operation ("open /x: Permission denied").
// ENOSPC and EDQUOT become StatusCode::kDiskFull.
//
// Thread-safety: FileSystem methods are safe to call concurrently. A File may be used from several threads
// for reads and positional writes to disjoint ranges; a Mapping's bytes are synchronised by the caller.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "broker/base/status.h"

namespace fmq::io {

inline constexpr size_t kPageSize = 4096;

// A shared, writable mapping of the first size() bytes of a file. Unmapped by the destructor; the file may be
// closed or even removed while the mapping lives (its bytes stay valid until the mapping is destroyed).
class Mapping {
 public:
  virtual ~Mapping() = default;
  virtual uint8_t* data() = 0;
  virtual size_t size() const = 0;
  // Makes bytes [offset, offset + length) durable (msync MS_SYNC on the covering pages).
  virtual Status Sync(size_t offset, size_t length) = 0;
};

// Bytes [begin, end) of a file.
struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const ByteRange&) const = default;
};

class File {
 public:
  virtual ~File() = default;
  virtual const std::string& path() const = 0;
  virtual Result<uint64_t> Size() = 0;
  // Sets the size (shrinks or extends with zeros; extension allocates nothing).
  virtual Status Truncate(uint64_t size) = 0;
  // Grows the file to at least `size` bytes and reserves its blocks (posix_fallocate). DiskFull on ENOSPC.
  virtual Status Allocate(uint64_t size) = 0;
  // Writes all of `data` at `offset` (pwrite loop).
  virtual Status WriteAt(uint64_t offset, std::span<const uint8_t> data) = 0;
  // Reads up to out.size() bytes at `offset`; returns how many were read (fewer only at end of file).
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) = 0;
  // Makes all written data of this file durable (fdatasync).
  virtual Status Sync() = 0;
  // Maps [0, size) shared and writable. REQUIRES: Size() >= size.
  virtual Result<std::unique_ptr<Mapping>> Map(size_t size) = 0;
  // The parts of [from, to) that may hold non-zero bytes, in order; every byte outside them reads as zero.
  // Holes and never-written preallocated extents are left out (lseek SEEK_DATA / SEEK_HOLE; the bytes written
  // through a mapping count as soon as they are written, flushed or not). A file system that cannot tell
  // reports the whole range. Recovery uses it so that looking for stale bytes after the end of a segment's
  // data reads only what was ever written, not the never-touched rest of a 1 GiB segment (faulting every page
  // of it in took 12 s on the target machine).
  virtual Result<std::vector<ByteRange>> DataRanges(uint64_t from, uint64_t to) {
    if (from >= to) return std::vector<ByteRange>{};
    return std::vector<ByteRange>{{from, to}};
  }
};

enum class OpenMode {
  kReadOnly,         // must exist
  kReadWrite,        // must exist
  kCreateReadWrite,  // created (empty) if missing
};

struct SpaceInfo {
  uint64_t capacity = 0;   // bytes used plus bytes available (blocks reserved for root excluded, as df)
  uint64_t available = 0;  // bytes an unprivileged writer can still use
  // Fraction of capacity in use, 0.0 - 1.0 (the figure RocketMQ compares with its 75/85/90 % thresholds).
  double UsedRatio() const {
    return capacity == 0 ? 1.0 : 1.0 - static_cast<double>(available) / static_cast<double>(capacity);
  }
};

// An exclusive advisory lock on a file (flock); released by the destructor.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  // Creates `path` and missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted ascending. NotFound if it does not exist.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Removes a file or an empty directory. NotFound if missing.
  virtual Status Remove(const std::string& path) = 0;
  // Removes a file or a directory tree; OK if missing.
  virtual Status RemoveAll(const std::string& path) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes entry changes (create, rename, remove) in directory `path` durable.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Result<SpaceInfo> Space(const std::string& path) = 0;
  // Last modification time in ms since the epoch. Writes through a Mapping count from their Sync().
  virtual Result<int64_t> ModifiedTimeMillis(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing). FailedPrecondition if another holder has it.
  virtual Result<std::unique_ptr<FileLock>> Lock(const std::string& path) = 0;
};

// The real POSIX file system. Stateless; one instance may be shared by everything.
FileSystem& PosixFileSystem();

// Convenience helpers built on the interface (file_util.cc).
Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path);
// Writes `path` so that a crash leaves either the old or the new content: write `path.tmp`, sync it, rename
// over `path`, sync the directory.
Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view content);
std::string JoinPath(std::string_view a, std::string_view b);
std::string DirName(std::string_view path);
std::string BaseName(std::string_view path);

}  // namespace fmq::io
