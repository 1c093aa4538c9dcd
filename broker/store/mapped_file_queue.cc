#include "broker/store/mapped_file_queue.h"

#include <cstring>

#include <algorithm>
#include <charconv>

#include "broker/base/check.h"
#include "broker/base/logging.h"

namespace fmq::store {
namespace {

bool ParseSegmentName(const std::string& name, int64_t* base) {
  if (name.size() != 20) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), *base);
  return ec == std::errc() && ptr == name.data() + name.size() && *base >= 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// MappedFileAllocator

MappedFileAllocator::MappedFileAllocator(io::FileSystem& fs, WarmMode warm, WriteMode write_mode)
    : ServiceThread("fmq-allocate"), fs_(fs), warm_(warm), write_mode_(write_mode) {}

MappedFileAllocator::~MappedFileAllocator() = default;

Result<std::shared_ptr<MappedFile>> MappedFileAllocator::Obtain(const std::string& path, int64_t base,
                                                                const std::string& next_path,
                                                                int64_t next_base, size_t size) {
  std::shared_ptr<Request> mine;
  {
    MutexLock lock(&mu_);
    if (pending_ && pending_->path == path && pending_->size == size) {
      mine = pending_;
      while (!mine->done && !IsStopped()) cv_.WaitFor(std::chrono::milliseconds(100));
      pending_.reset();
    }
  }
  Result<std::shared_ptr<MappedFile>> result = Status::Unavailable("allocator stopped");
  if (mine && mine->done && mine->result.ok()) {
    result = std::move(mine->result);
  } else {
    // Not requested, still running at stop, or failed in the background (e.g. disk full): try here so the
    // caller sees the real error.
    if (mine && mine->done && !mine->result.ok()) (void)fs_.RemoveAll(path);
    result = MappedFile::Create(fs_, path, base, size, warm_, write_mode_);
  }
  if (result.ok() && !IsStopped()) {
    MutexLock lock(&mu_);
    auto req = std::make_shared<Request>();
    req->path = next_path;
    req->base = next_base;
    req->size = size;
    pending_ = req;
    Wakeup();
  }
  return result;
}

void MappedFileAllocator::DropPending() {
  std::shared_ptr<Request> req;
  {
    MutexLock lock(&mu_);
    req = pending_;
    // Let the service thread finish it (it only takes work from pending_), then forget it.
    while (req && !req->done && !IsStopped()) cv_.WaitFor(std::chrono::milliseconds(100));
    if (pending_ == req) pending_.reset();
  }
  if (req && req->done && req->result.ok()) {
    Status s = (*req->result)->Unlink();
    if (!s.ok())
      GetLogger("store")->warn("could not remove unused segment file={} error={}", req->path, s.ToString());
  } else if (req && !req->done) {
    (void)fs_.Remove(req->path);  // stopped before it ran
  }
}

bool MappedFileAllocator::Busy() {
  MutexLock lock(&mu_);
  return pending_ && !pending_->done;
}

void MappedFileAllocator::Run() {
  while (!IsStopped()) {
    std::shared_ptr<Request> req;
    {
      MutexLock lock(&mu_);
      if (pending_ && !pending_->done) req = pending_;
    }
    if (!req) {
      WaitForRunning(std::chrono::milliseconds(1000));
      continue;
    }
    auto created = MappedFile::Create(fs_, req->path, req->base, req->size, warm_, write_mode_);
    if (!created.ok()) {
      GetLogger("store")->warn("pre-allocation failed file={} error={}", req->path,
                               created.status().ToString());
    }
    MutexLock lock(&mu_);
    req->result = std::move(created);
    req->done = true;
    cv_.SignalAll();
  }
  // A file pre-created but never handed out stays on disk; the next load treats it as an empty segment.
  MutexLock lock(&mu_);
  cv_.SignalAll();
}

// ---------------------------------------------------------------------------------------------------------
// MappedFileQueue

MappedFileQueue::MappedFileQueue(io::FileSystem& fs, std::string dir, size_t file_size,
                                 MappedFileAllocator* allocator, WarmMode warm, WriteMode write_mode)
    : fs_(fs),
      dir_(std::move(dir)),
      file_size_(file_size),
      allocator_(allocator),
      warm_(warm),
      write_mode_(write_mode) {}

Status MappedFileQueue::Load() {
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(dir_));
  FMQ_ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir_));
  std::vector<std::shared_ptr<MappedFile>> loaded;
  for (const auto& name : names) {
    int64_t base = 0;
    if (!ParseSegmentName(name, &base)) {
      GetLogger("store")->warn("ignoring non-segment file dir={} name={}", dir_, name);
      continue;
    }
    if (base % static_cast<int64_t>(file_size_) != 0) {
      return Status::Corruption("segment " + io::JoinPath(dir_, name) +
                                " does not start at a multiple of the " + "segment size " +
                                std::to_string(file_size_));
    }
    FMQ_ASSIGN_OR_RETURN(auto file,
                         MappedFile::Open(fs_, io::JoinPath(dir_, name), base, file_size_, write_mode_));
    if (!loaded.empty() && loaded.back()->base_offset() + static_cast<int64_t>(file_size_) != base) {
      static constexpr uint8_t kZeros[8] = {};
      if (file_size_ >= sizeof(kZeros) && std::memcmp(file->data(), kZeros, sizeof(kZeros)) == 0) {
        // Prepared ahead by the allocator, then left behind by a cut: never written, so nothing is lost.
        GetLogger("store")->warn("removing unused segment after a gap dir={} name={}", dir_, name);
        FMQ_RETURN_IF_ERROR(file->Unlink());
        continue;
      }
      return Status::Corruption("segments in " + dir_ +
                                " are not contiguous: " + MappedFile::FileName(loaded.back()->base_offset()) +
                                " is followed by " + name);
    }
    file->SetWrotePosition(file_size_);
    file->SetFlushedPosition(file_size_);
    loaded.push_back(std::move(file));
  }
  MutexLock lock(&mu_);
  files_ = std::move(loaded);
  flushed_where_ = files_.empty() ? 0 : files_.back()->base_offset() + static_cast<int64_t>(file_size_);
  return Status::Ok();
}

std::shared_ptr<MappedFile> MappedFileQueue::First() const {
  MutexLock lock(&mu_);
  return files_.empty() ? nullptr : files_.front();
}

std::shared_ptr<MappedFile> MappedFileQueue::Last() const {
  MutexLock lock(&mu_);
  return files_.empty() ? nullptr : files_.back();
}

std::vector<std::shared_ptr<MappedFile>> MappedFileQueue::Files() const {
  MutexLock lock(&mu_);
  return files_;
}

bool MappedFileQueue::Empty() const {
  MutexLock lock(&mu_);
  return files_.empty();
}

Result<std::shared_ptr<MappedFile>> MappedFileQueue::LastOrCreate(int64_t start_offset) {
  int64_t base;
  {
    MutexLock lock(&mu_);
    if (!files_.empty() && !files_.back()->IsFull()) return files_.back();
    base = files_.empty() ? start_offset - start_offset % static_cast<int64_t>(file_size_)
                          : files_.back()->base_offset() + static_cast<int64_t>(file_size_);
  }
  std::string path = io::JoinPath(dir_, MappedFile::FileName(base));
  Result<std::shared_ptr<MappedFile>> created = Status::Unavailable("unset");
  if (allocator_ != nullptr) {
    int64_t next = base + static_cast<int64_t>(file_size_);
    created =
        allocator_->Obtain(path, base, io::JoinPath(dir_, MappedFile::FileName(next)), next, file_size_);
  } else {
    created = MappedFile::Create(fs_, path, base, file_size_, warm_, write_mode_);
  }
  if (!created.ok()) return created.status();
  MutexLock lock(&mu_);
  if (files_.empty()) flushed_where_ = base;
  files_.push_back(*created);
  return *created;
}

std::shared_ptr<MappedFile> MappedFileQueue::FindByOffset(int64_t offset, bool first_if_not_found) const {
  MutexLock lock(&mu_);
  if (files_.empty()) return nullptr;
  int64_t first_base = files_.front()->base_offset();
  if (offset < first_base) return first_if_not_found ? files_.front() : nullptr;
  size_t idx = static_cast<size_t>((offset - first_base) / static_cast<int64_t>(file_size_));
  if (idx >= files_.size()) return nullptr;
  return files_[idx];
}

int64_t MappedFileQueue::MinOffset() const {
  MutexLock lock(&mu_);
  return files_.empty() ? 0 : files_.front()->base_offset();
}

int64_t MappedFileQueue::MaxOffset() const {
  MutexLock lock(&mu_);
  return files_.empty() ? 0
                        : files_.back()->base_offset() + static_cast<int64_t>(files_.back()->WrotePosition());
}

int64_t MappedFileQueue::FlushedWhere() const {
  MutexLock lock(&mu_);
  return flushed_where_;
}

Result<bool> MappedFileQueue::Flush(int least_pages) {
  std::shared_ptr<MappedFile> file;
  int64_t before;
  {
    MutexLock lock(&mu_);
    before = flushed_where_;
    if (files_.empty()) return false;
    int64_t first_base = files_.front()->base_offset();
    if (before < first_base) before = first_base;
    size_t idx = static_cast<size_t>((before - first_base) / static_cast<int64_t>(file_size_));
    if (idx >= files_.size()) return false;
    file = files_[idx];
  }
  FMQ_ASSIGN_OR_RETURN(size_t pos, file->Flush(least_pages));
  int64_t where = file->base_offset() + static_cast<int64_t>(pos);
  MutexLock lock(&mu_);
  if (where > flushed_where_) flushed_where_ = where;
  return where > before;
}

Status MappedFileQueue::Truncate(int64_t offset) {
  if (allocator_ != nullptr) allocator_->DropPending();
  MutexLock lock(&mu_);
  while (!files_.empty() && files_.back()->base_offset() > offset) {
    // A file that starts after the cut holds only torn or never-acknowledged data.
    FMQ_RETURN_IF_ERROR(files_.back()->Unlink());
    files_.pop_back();
  }
  if (!files_.empty()) {
    auto& last = files_.back();
    size_t pos = static_cast<size_t>(std::min<int64_t>(offset - last->base_offset(), file_size_));
    FMQ_RETURN_IF_ERROR(last->ZeroFrom(pos));
    last->SetWrotePosition(pos);
    last->SetFlushedPosition(pos);
  }
  flushed_where_ = offset;
  return Status::Ok();
}

void MappedFileQueue::SetPositions(int64_t offset) {
  MutexLock lock(&mu_);
  for (auto& f : files_) {
    int64_t rel = offset - f->base_offset();
    size_t pos = rel <= 0 ? 0 : static_cast<size_t>(std::min<int64_t>(rel, file_size_));
    f->SetWrotePosition(pos);
    f->SetFlushedPosition(pos);
  }
  flushed_where_ = offset;
}

int MappedFileQueue::DeleteExpired(const std::function<bool(const MappedFile&)>& expired, int max_count) {
  MutexLock lock(&mu_);
  int removed = 0;
  while (removed < max_count && files_.size() > 1 && expired(*files_.front())) {
    Status s = files_.front()->Unlink();
    if (!s.ok())
      GetLogger("store")->warn("delete failed file={} error={}", files_.front()->path(), s.ToString());
    files_.erase(files_.begin());
    ++removed;
  }
  return removed;
}

Status MappedFileQueue::Clear() {
  if (allocator_ != nullptr) allocator_->DropPending();
  MutexLock lock(&mu_);
  for (auto& f : files_) FMQ_RETURN_IF_ERROR(f->Unlink());
  files_.clear();
  flushed_where_ = 0;
  return fs_.SyncDir(dir_);
}

Status MappedFileQueue::DestroyAll() {
  MutexLock lock(&mu_);
  files_.clear();
  flushed_where_ = 0;
  return fs_.RemoveAll(dir_);
}

}  // namespace fmq::store
