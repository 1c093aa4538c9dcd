#include "broker/io/fault_injection_file_system.h"

#include <array>
#include <deque>
#include <string_view>
#include <utility>

#include "broker/base/check.h"
#include "broker/base/mutex.h"

namespace fmq::io {

namespace {

constexpr size_t kNumOps = static_cast<size_t>(FsOp::kSpace) + 1;

std::string_view OpName(FsOp op) {
  switch (op) {
    case FsOp::kOpen:
      return "open";
    case FsOp::kRead:
      return "read";
    case FsOp::kWrite:
      return "write";
    case FsOp::kSync:
      return "sync";
    case FsOp::kMapSync:
      return "msync";
    case FsOp::kAllocate:
      return "allocate";
    case FsOp::kTruncate:
      return "truncate";
    case FsOp::kMap:
      return "mmap";
    case FsOp::kRename:
      return "rename";
    case FsOp::kRemove:
      return "remove";
    case FsOp::kCreateDirs:
      return "mkdir";
    case FsOp::kSyncDir:
      return "syncdir";
    case FsOp::kList:
      return "list";
    case FsOp::kLock:
      return "lock";
    case FsOp::kSpace:
      return "statvfs";
  }
  return "unknown";
}

}  // namespace

// The injection state: crash budget, pending failures, space override and the mutation counter.
struct FaultInjectionFileSystem::Injector {
  // Gate for a non-mutating operation: the pending FailNext status for `op`, if any.
  Status Check(FsOp op) FMQ_EXCLUDES(mu) {
    MutexLock lock(&mu);
    return TakePending(op);
  }

  // Gate for a mutating operation. On OK the caller runs it on the base and must then call End().
  Status Begin(FsOp op, std::string_view path) FMQ_EXCLUDES(mu) {
    MutexLock lock(&mu);
    if (crashed) return CrashError(op, path);
    FMQ_RETURN_IF_ERROR(TakePending(op));
    if (armed) {
      if (budget == 0) {
        if (in_flight == 0) crashed = true;
        return CrashError(op, path);
      }
      --budget;
    }
    ++in_flight;
    return Status::Ok();
  }

  void End(bool succeeded) FMQ_EXCLUDES(mu) {
    MutexLock lock(&mu);
    --in_flight;
    if (succeeded) {
      ++mutations;
    } else if (armed) {
      ++budget;  // only successful operations use up the budget
    }
    if (armed && budget == 0 && in_flight == 0) crashed = true;
  }

  // Runs `fn` (returning Status) as the mutating operation `op` on `path`.
  template <typename Fn>
  Status Mutate(FsOp op, std::string_view path, Fn&& fn) {
    FMQ_RETURN_IF_ERROR(Begin(op, path));
    Status status = fn();
    End(status.ok());
    return status;
  }

  Status TakePending(FsOp op) FMQ_REQUIRES(mu) {
    std::deque<Status>& queue = pending[static_cast<size_t>(op)];
    if (queue.empty()) return Status::Ok();
    Status status = std::move(queue.front());
    queue.pop_front();
    return status;
  }

  static Status CrashError(FsOp op, std::string_view path) {
    std::string msg = "injected crash: ";
    msg += OpName(op);
    msg += ' ';
    msg += path;
    return Status::IOError(std::move(msg));
  }

  mutable Mutex mu;
  bool crashed FMQ_GUARDED_BY(mu) = false;
  bool armed FMQ_GUARDED_BY(mu) = false;   // a CrashAfter budget is in force
  uint64_t budget FMQ_GUARDED_BY(mu) = 0;  // mutating operations still allowed (when armed)
  int in_flight FMQ_GUARDED_BY(mu) = 0;    // admitted mutating operations not yet ended
  uint64_t mutations FMQ_GUARDED_BY(mu) = 0;
  std::array<std::deque<Status>, kNumOps> pending FMQ_GUARDED_BY(mu);
  std::optional<SpaceInfo> space_override FMQ_GUARDED_BY(mu);
};

namespace {

using Injector = FaultInjectionFileSystem::Injector;

// Wraps a base Mapping; Sync goes through the injector. Owns the base mapping; shares the injector.
// Thread-safety: as the base mapping's.
class FaultMapping final : public Mapping {
 public:
  FaultMapping(std::shared_ptr<Injector> injector, std::unique_ptr<Mapping> base, std::string path)
      : injector_(std::move(injector)), base_(std::move(base)), path_(std::move(path)) {}

  uint8_t* data() override { return base_->data(); }
  size_t size() const override { return base_->size(); }
  Status Sync(size_t offset, size_t length) override {
    return injector_->Mutate(FsOp::kMapSync, path_, [&] { return base_->Sync(offset, length); });
  }

 private:
  const std::shared_ptr<Injector> injector_;
  const std::unique_ptr<Mapping> base_;
  const std::string path_;
};

// Wraps a base File; every operation but path() and Size() goes through the injector. Owns the base file;
// shares the injector. Thread-safety: as the base file's.
class FaultFile final : public File {
 public:
  FaultFile(std::shared_ptr<Injector> injector, std::unique_ptr<File> base)
      : injector_(std::move(injector)), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }
  Result<uint64_t> Size() override { return base_->Size(); }

  Status Truncate(uint64_t size) override {
    return injector_->Mutate(FsOp::kTruncate, path(), [&] { return base_->Truncate(size); });
  }
  Status Allocate(uint64_t size) override {
    return injector_->Mutate(FsOp::kAllocate, path(), [&] { return base_->Allocate(size); });
  }
  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    return injector_->Mutate(FsOp::kWrite, path(), [&] { return base_->WriteAt(offset, data); });
  }
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    FMQ_RETURN_IF_ERROR(injector_->Check(FsOp::kRead));
    return base_->ReadAt(offset, out);
  }
  Status Sync() override {
    return injector_->Mutate(FsOp::kSync, path(), [&] { return base_->Sync(); });
  }
  Result<std::unique_ptr<Mapping>> Map(size_t size) override {
    FMQ_RETURN_IF_ERROR(injector_->Check(FsOp::kMap));
    FMQ_ASSIGN_OR_RETURN(std::unique_ptr<Mapping> mapping, base_->Map(size));
    return std::unique_ptr<Mapping>(new FaultMapping(injector_, std::move(mapping), path()));
  }
  Result<std::vector<ByteRange>> DataRanges(uint64_t from, uint64_t to) override {
    FMQ_RETURN_IF_ERROR(injector_->Check(FsOp::kRead));
    return base_->DataRanges(from, to);
  }

 private:
  const std::shared_ptr<Injector> injector_;
  const std::unique_ptr<File> base_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base)
    : base_(base), injector_(std::make_shared<Injector>()) {
  FMQ_CHECK(base_ != nullptr);
}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

Result<std::unique_ptr<File>> FaultInjectionFileSystem::Open(const std::string& path, OpenMode mode) {
  // Creating a file is a mutation; opening an existing one is not.
  const bool creating = mode == OpenMode::kCreateReadWrite;
  FMQ_RETURN_IF_ERROR(creating ? injector_->Begin(FsOp::kOpen, path) : injector_->Check(FsOp::kOpen));
  Result<std::unique_ptr<File>> file = base_->Open(path, mode);
  if (creating) injector_->End(file.ok());
  if (!file.ok()) return std::move(file).status();
  return std::unique_ptr<File>(new FaultFile(injector_, std::move(file).value()));
}

bool FaultInjectionFileSystem::Exists(const std::string& path) { return base_->Exists(path); }

bool FaultInjectionFileSystem::IsDirectory(const std::string& path) { return base_->IsDirectory(path); }

Status FaultInjectionFileSystem::CreateDirs(const std::string& path) {
  return injector_->Mutate(FsOp::kCreateDirs, path, [&] { return base_->CreateDirs(path); });
}

Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(const std::string& path) {
  FMQ_RETURN_IF_ERROR(injector_->Check(FsOp::kList));
  return base_->ListDir(path);
}

Status FaultInjectionFileSystem::Remove(const std::string& path) {
  return injector_->Mutate(FsOp::kRemove, path, [&] { return base_->Remove(path); });
}

Status FaultInjectionFileSystem::RemoveAll(const std::string& path) {
  return injector_->Mutate(FsOp::kRemove, path, [&] { return base_->RemoveAll(path); });
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  return injector_->Mutate(FsOp::kRename, from + " -> " + to, [&] { return base_->Rename(from, to); });
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  return injector_->Mutate(FsOp::kSyncDir, path, [&] { return base_->SyncDir(path); });
}

Result<SpaceInfo> FaultInjectionFileSystem::Space(const std::string& path) {
  {
    MutexLock lock(&injector_->mu);
    FMQ_RETURN_IF_ERROR(injector_->TakePending(FsOp::kSpace));
    if (injector_->space_override.has_value()) return *injector_->space_override;
  }
  return base_->Space(path);
}

Result<int64_t> FaultInjectionFileSystem::ModifiedTimeMillis(const std::string& path) {
  return base_->ModifiedTimeMillis(path);
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::Lock(const std::string& path) {
  FMQ_RETURN_IF_ERROR(injector_->Check(FsOp::kLock));
  return base_->Lock(path);
}

uint64_t FaultInjectionFileSystem::mutation_count() const {
  MutexLock lock(&injector_->mu);
  return injector_->mutations;
}

void FaultInjectionFileSystem::CrashAfter(uint64_t n) {
  MutexLock lock(&injector_->mu);
  injector_->armed = true;
  injector_->budget = n;
  if (n == 0 && injector_->in_flight == 0) injector_->crashed = true;
}

bool FaultInjectionFileSystem::crashed() const {
  MutexLock lock(&injector_->mu);
  return injector_->crashed;
}

void FaultInjectionFileSystem::FailNext(FsOp op, Status status, int count) {
  FMQ_CHECK_MSG(!status.ok(), "FailNext needs an error status");
  MutexLock lock(&injector_->mu);
  for (int i = 0; i < count; ++i) injector_->pending[static_cast<size_t>(op)].push_back(status);
}

void FaultInjectionFileSystem::SetSpaceOverride(std::optional<SpaceInfo> space) {
  MutexLock lock(&injector_->mu);
  injector_->space_override = space;
}

void FaultInjectionFileSystem::Reset() {
  MutexLock lock(&injector_->mu);
  injector_->crashed = false;
  injector_->armed = false;
  injector_->budget = 0;
  for (std::deque<Status>& queue : injector_->pending) queue.clear();
  injector_->space_override.reset();
}

}  // namespace fmq::io
