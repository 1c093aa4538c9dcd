#pragma once

// FaultInjectionFileSystem: a FileSystem decorator that fails chosen operations, for crash-point and
// error-path tests. Wrap a MemoryFileSystem, run the code under test, and:
//  * CrashAfter(n): the "disk" disappears after n more successful mutating operations. Every later mutating
//    operation fails with IOError("injected crash: ...") without reaching the base file system, while reads
//    keep working, so the test can then call MemoryFileSystem::Crash() and recover. Sweeping n over 0, 1, 2,
//    ... crashes the code under test at every mutation point.
//  * FailNext(op, status, count): the next `count` calls of `op` fail with `status` (DiskFull, IOError, ...).
//  * SetSpaceOverride(info): Space() reports a fake free-space figure (disk-full thresholds).
//
// Mutating operations: kWrite, kSync, kMapSync, kAllocate, kTruncate, kRename, kRemove (Remove and
// RemoveAll), kCreateDirs, kSyncDir, and kOpen with OpenMode::kCreateReadWrite. Each one that succeeds (in
// the base too) increments mutation_count(). Exists, IsDirectory, ModifiedTimeMillis, File::Size, File::path
// and Mapping::data/size always pass straight through.
//
// Order of checks for one call: a crash fails it first; then a pending FailNext for its op; then, for a
// mutating operation, the remaining CrashAfter budget (an operation is admitted if budget is left; with
// concurrent mutations the crash point is decided when an operation starts, and a failure in the base gives
// its unit of budget back).
//
// File and Mapping objects returned by Open and Map are wrapped so that their operations go through the same
// checks; Mapping::data() points straight at the base mapping's memory, so bytes stored through it after a
// crash still reach the base's page cache (but their Mapping::Sync fails, so MemoryFileSystem::Crash drops
// them with keep_probability 0).
//
// Thread-safety: all methods are safe to call concurrently (one mutex guards the injection state; it is not
// held while the base file system runs).
//
// Ownership: `base` is not owned and must outlive this object and every File, Mapping and FileLock obtained
// through it. The wrapped File and Mapping objects share the injection state, so they may outlive this
// object.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::io {

enum class FsOp {
  kOpen,
  kRead,
  kWrite,
  kSync,
  kMapSync,
  kAllocate,
  kTruncate,
  kMap,
  kRename,
  kRemove,
  kCreateDirs,
  kSyncDir,
  kList,
  kLock,
  kSpace,
};

class FaultInjectionFileSystem final : public FileSystem {
 public:
  explicit FaultInjectionFileSystem(FileSystem* base);
  ~FaultInjectionFileSystem() override;
  FaultInjectionFileSystem(const FaultInjectionFileSystem&) = delete;
  FaultInjectionFileSystem& operator=(const FaultInjectionFileSystem&) = delete;

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

  // Number of mutating operations that succeeded so far (Reset() keeps it).
  uint64_t mutation_count() const;

  // After `n` more successful mutating operations, every later mutating operation fails with
  // Status::IOError("injected crash: ...") and nothing reaches the base file system (the disk is gone). Reads
  // keep working. CrashAfter(0) crashes at once. crashed() turns true when the n-th operation has completed.
  void CrashAfter(uint64_t n);
  bool crashed() const;

  // Fails the next `count` calls of `op` with `status` (without reaching the base), then behaves normally
  // again. Calls accumulate: FailNext(op, a); FailNext(op, b) fails the next call with a, the one after with
  // b.
  void FailNext(FsOp op, Status status, int count = 1);

  // Replaces Space() answers (a fake free-space figure for disk-full tests); nullopt restores pass-through.
  void SetSpaceOverride(std::optional<SpaceInfo> space);

  // Clears the crash, the CrashAfter budget, pending failures and the space override.
  void Reset();

  struct Injector;  // internal; shared with the wrapped File and Mapping objects

 private:
  FileSystem* const base_;  // not owned; outlives this object
  std::shared_ptr<Injector> injector_;
};

}  // namespace fmq::io
