#pragma once

// MemoryFileSystem: an in-memory FileSystem that models durability, for deterministic crash-recovery tests.
//
// Every file keeps two images: the current bytes (the "page cache", what readers and mappings see) and the
// durable bytes (what survived the last File::Sync / Mapping::Sync). Crash() simulates power loss: each file
// reverts to its durable image, except that every 4 KiB page whose current content differs from the durable
// one survives with a chosen probability (a torn, page-granular tail), drawn from a seeded generator so a
// failing run can be replayed.
//
// Semantics and documented simplifications:
//  * Paths are normalised lexically: duplicate and trailing '/' collapse, "." and ".." resolve. There is no
//    working directory: a relative path is resolved against "/" ("a/b" names the same file as "/a/b"). The
//    root
//    "/" always exists. Parent directories must exist before files or directories are created in them.
//  * Creating, renaming and removing entries are durable at once (Crash() never undoes them), as
//  file_system.h
//    allows. SyncDir() only checks that the directory exists.
//  * A removed file stays readable and writable through its open File and Mapping objects (the node is
//    shared), but no longer counts towards UsedBytes().
//  * Capacity: UsedBytes() is the sum of the current sizes of all files in the namespace. Growing a file so
//  that
//    the sum would exceed the capacity fails with Status::DiskFull and changes nothing. Truncate() extension
//    counts like Allocate() (there are no sparse files).
//  * Mappings point straight into a file's current buffer. The buffer never moves while a Mapping of the file
//    is alive: growing a mapped file beyond the buffer's reserved capacity (the largest size the file ever
//    had, rounded up to 4 KiB, or more after append-style growth) fails with FailedPrecondition. Map a file
//    after Allocate()-ing it to its final size, as the store does, and this never happens.
//  * Mapping::Sync(offset, length) makes exactly those bytes durable (not the rest of their pages, which
//  another
//    thread may be writing through the mapping) and raises the durable size to at
//    least the current size (as fdatasync of a mapped range persists a size set by an earlier
//    ftruncate/fallocate). File::Sync makes the whole content and the size durable.
//  * The modification time is clock->NowMillis() at every WriteAt, Truncate, Allocate and File::Sync, and at
//    a Mapping::Sync with length > 0. A directory's time changes when entries are created, removed or renamed
//    in it. Crash() does not change times.
//  * Lock() is an in-process exclusive lock on the file node (like flock, which locks the inode): a second
//    Lock() of the same file fails with FailedPrecondition until the first FileLock is destroyed.
//  * A File opened kReadOnly rejects writes (IOError "Bad file descriptor") and Map() ("Permission denied"),
//    as POSIX does.
//
// Thread-safety: all methods of MemoryFileSystem and of the File, Mapping and FileLock objects it returns are
// safe to call concurrently; one mutex guards everything. Bytes written through Mapping::data() are the
// caller's business (as with a real mmap).
//
// Ownership: the File, Mapping and FileLock objects share the file system's internal state, so they may
// outlive the MemoryFileSystem object itself. `clock` is not owned and must outlive the file system and every
// object it returns.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/clock.h"
#include "broker/io/file_system.h"

namespace fmq::io {

class MemoryFileSystem final : public FileSystem {
 public:
  explicit MemoryFileSystem(const Clock* clock = &SystemClock(), uint64_t capacity_bytes = uint64_t{1} << 40);
  ~MemoryFileSystem() override;
  MemoryFileSystem(const MemoryFileSystem&) = delete;
  MemoryFileSystem& operator=(const MemoryFileSystem&) = delete;

  // FileSystem.
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  bool Exists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status Remove(const std::string& path) override;
  Status RemoveAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& path) override;
  Result<SpaceInfo> Space(const std::string& path) override;
  Result<int64_t> ModifiedTimeMillis(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override;

  // Simulates power loss. For every file: content reverts to its durable image, except that each 4 KiB page
  // whose current content differs from the durable one keeps its current content with probability
  // keep_probability (0.0 = lose all unsynced data, 1.0 = keep all), chosen by a std::mt19937_64 seeded with
  // `seed` so runs are reproducible. The file size becomes the durable size, or (same coin, drawn once per
  // file before its pages) the current size when the file's current size differs. Files are visited in path
  // order. Files and directories created and never synced stay. Existing File and Mapping objects see the
  // post-crash content (buffers are rewritten in place); callers normally destroy them before calling
  // Crash().
  void Crash(uint64_t seed = 0, double keep_probability = 0.0);

  // Space(): capacity = `bytes`, available = capacity - UsedBytes() (clamped at 0).
  void SetCapacity(uint64_t bytes);
  // Sum of the current sizes of all files in the namespace.
  uint64_t UsedBytes() const;

  // Sets the modification time of an existing file or directory. Aborts if `path` does not exist.
  void TEST_SetModifiedTimeMillis(const std::string& path, int64_t millis);

  struct State;  // internal; shared with the File, Mapping and FileLock objects

 private:
  std::shared_ptr<State> state_;
};

}  // namespace fmq::io
