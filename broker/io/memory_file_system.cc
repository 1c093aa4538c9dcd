#include "broker/io/memory_file_system.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <string_view>
#include <utility>

#include "broker/base/check.h"
#include "broker/base/mutex.h"

namespace fmq::io {

namespace {

constexpr const char* kNoEntry = "No such file or directory";
constexpr const char* kNotDir = "Not a directory";
constexpr const char* kIsDir = "Is a directory";
constexpr const char* kNotEmpty = "Directory not empty";
constexpr const char* kBusy = "Device or resource busy";

std::string Msg(std::string_view op, std::string_view path, std::string_view reason) {
  std::string m(op);
  m += ' ';
  m += path;
  m += ": ";
  m += reason;
  return m;
}

// Lexical normalisation: "a//b/./c/../" -> "/a/b". Relative paths are resolved against "/". "" stays "" (a
// path that names nothing).
std::string Normalize(std::string_view path) {
  if (path.empty()) return "";
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

// Parent of a normalised path: "/a/b" -> "/a", "/a" -> "/", "/" -> "" (none).
std::string ParentOf(const std::string& norm) {
  if (norm.size() <= 1) return "";
  const size_t slash = norm.rfind('/');
  return slash == 0 ? "/" : norm.substr(0, slash);
}

// Prefix shared by the keys of every entry below directory `norm`.
std::string ChildPrefix(const std::string& norm) { return norm == "/" ? norm : norm + "/"; }

uint64_t RoundUpToPage(uint64_t n) { return (n + kPageSize - 1) / kPageSize * kPageSize; }

// Copies bytes [begin, end) of an image holding `size` bytes to `dst`; bytes past the image's end read as
// zeros.
void ReadPadded(const uint8_t* image, uint64_t size, uint64_t begin, uint64_t end, uint8_t* dst) {
  const uint64_t real_end = std::clamp(size, begin, end);
  if (real_end > begin) std::memcpy(dst, image + begin, real_end - begin);
  if (end > real_end) std::memset(dst + (real_end - begin), 0, end - real_end);
}

}  // namespace

// Everything a MemoryFileSystem knows, shared with the objects it hands out so they may outlive it.
struct MemoryFileSystem::State {
  // One file (an inode). Shared by the namespace entry and every open File, Mapping and FileLock, so a
  // removed file stays usable through them. Every field is guarded by State::mu (an annotation cannot name
  // another object's mutex); functions touching them are FMQ_REQUIRES(mu).
  struct FileNode {
    // Current content (the page cache): `capacity` bytes, of which the first `size` are the file. Mappings
    // point into it, so it is only replaced while `mappings` == 0.
    std::unique_ptr<uint8_t[]> buf;
    uint64_t capacity = 0;
    uint64_t size = 0;
    std::vector<uint8_t> durable;  // durable content; its size is the durable size
    int64_t mtime = 0;
    int mappings = 0;     // live Mapping objects over `buf`
    bool linked = true;   // reachable from the namespace (counts towards `used`)
    bool locked = false;  // held by a FileLock
  };

  // A namespace entry: a file (`file` set) or a directory.
  struct Entry {
    std::shared_ptr<FileNode> file;
    int64_t dir_mtime = 0;
    bool is_dir() const { return file == nullptr; }
  };

  enum class Kind { kMissing, kFile, kDirectory };

  State(const Clock* c, uint64_t capacity_bytes)
      : clock(c), capacity(capacity_bytes), root_mtime(c->NowMillis()) {}

  int64_t Now() const { return clock->NowMillis(); }

  Entry* Find(const std::string& norm) FMQ_REQUIRES(mu) {
    auto it = entries.find(norm);
    return it == entries.end() ? nullptr : &it->second;
  }

  Kind KindOf(const std::string& norm) FMQ_REQUIRES(mu) {
    if (norm == "/") return Kind::kDirectory;
    const Entry* e = Find(norm);
    if (e == nullptr) return Kind::kMissing;
    return e->is_dir() ? Kind::kDirectory : Kind::kFile;
  }

  bool HasChildren(const std::string& dir) FMQ_REQUIRES(mu) {
    const std::string prefix = ChildPrefix(dir);
    auto it = entries.lower_bound(prefix);
    return it != entries.end() && it->first.starts_with(prefix);
  }

  // OK if the parent of `norm` is an existing directory (`path` is the caller's spelling, for the message).
  Status CheckParentDir(std::string_view op, std::string_view path, const std::string& norm)
      FMQ_REQUIRES(mu) {
    switch (KindOf(ParentOf(norm))) {
      case Kind::kMissing:
        return Status::NotFound(Msg(op, path, kNoEntry));
      case Kind::kFile:
        return Status::IOError(Msg(op, path, kNotDir));
      case Kind::kDirectory:
        return Status::Ok();
    }
    return Status::Ok();
  }

  // Records that the entries of directory `dir` changed.
  void TouchDir(const std::string& dir) FMQ_REQUIRES(mu) {
    if (dir == "/") {
      root_mtime = Now();
    } else if (Entry* e = Find(dir)) {
      e->dir_mtime = Now();
    }
  }

  // Creates file `norm` (its parent must have been checked).
  Entry* CreateFile(const std::string& norm) FMQ_REQUIRES(mu) {
    Entry& e = entries[norm];
    e.file = std::make_shared<FileNode>();
    e.file->mtime = Now();
    TouchDir(ParentOf(norm));
    return &e;
  }

  void Unlink(FileNode& node) FMQ_REQUIRES(mu) {
    if (node.linked) used -= node.size;
    node.linked = false;
  }

  // Sets the size of `node`: grows with zeros (DiskFull if the capacity would be exceeded) or shrinks.
  Status Resize(FileNode& node, uint64_t new_size, std::string_view op, std::string_view path)
      FMQ_REQUIRES(mu) {
    if (new_size > node.size) {
      const uint64_t delta = new_size - node.size;
      const uint64_t available = capacity > used ? capacity - used : 0;
      if (node.linked && delta > available) return Status::DiskFull(Msg(op, path, "No space left on device"));
      if (new_size > node.capacity) {
        if (node.mappings > 0) {
          return Status::FailedPrecondition(Msg(
              op, path,
              "cannot grow a mapped file beyond its reserved " + std::to_string(node.capacity) + " bytes"));
        }
        // Grow by half again for append-style writes, so a stream of small WriteAt calls stays linear.
        const uint64_t new_capacity = RoundUpToPage(std::max(new_size, node.capacity + node.capacity / 2));
        std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[new_capacity]());  // zero-filled
        if (buf == nullptr) return Status::ResourceExhausted(Msg(op, path, "Cannot allocate memory"));
        if (node.size > 0) std::memcpy(buf.get(), node.buf.get(), node.size);
        node.buf = std::move(buf);
        node.capacity = new_capacity;
      } else {
        std::memset(node.buf.get() + node.size, 0, delta);
      }
      if (node.linked) used += delta;
    } else if (new_size < node.size) {
      // Zero the cut tail so that a later extension reads zeros even if a mapping still covers it.
      std::memset(node.buf.get() + new_size, 0, node.size - new_size);
      if (node.linked) used -= node.size - new_size;
    }
    node.size = new_size;
    return Status::Ok();
  }

  const Clock* const clock;  // not owned
  mutable Mutex mu;
  uint64_t capacity FMQ_GUARDED_BY(mu);
  uint64_t used FMQ_GUARDED_BY(mu) = 0;  // sum of the sizes of linked files
  int64_t root_mtime FMQ_GUARDED_BY(mu);
  // Every file and directory but the root "/", keyed by normalised path. Ordered, so a directory's subtree is
  // the contiguous key range starting with "<dir>/".
  std::map<std::string, Entry> entries FMQ_GUARDED_BY(mu);
};

namespace {

using State = MemoryFileSystem::State;
using FileNode = State::FileNode;

// A writable window straight into a node's current buffer. Thread-safety: Sync may be called concurrently;
// the bytes are synchronised by the caller. Shares ownership of the node and the state.
class MemoryMapping final : public Mapping {
 public:
  MemoryMapping(std::shared_ptr<State> state, std::shared_ptr<FileNode> node, std::string path, uint8_t* data,
                size_t size)
      : state_(std::move(state)), node_(std::move(node)), path_(std::move(path)), data_(data), size_(size) {}
  ~MemoryMapping() override {
    MutexLock lock(&state_->mu);
    --node_->mappings;
  }
  MemoryMapping(const MemoryMapping&) = delete;
  MemoryMapping& operator=(const MemoryMapping&) = delete;

  uint8_t* data() override { return data_; }
  size_t size() const override { return size_; }

  Status Sync(size_t offset, size_t length) override {
    if (offset > size_ || length > size_ - offset) {
      return Status::InvalidArgument(Msg("msync", path_,
                                         "range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                             ") outside mapping of " + std::to_string(size_) + " bytes"));
    }
    if (length == 0) return Status::Ok();
    MutexLock lock(&state_->mu);
    FileNode& node = *node_;
    if (node.durable.size() < node.size) node.durable.resize(node.size);
    // Exactly the synced range: the rest of its first and last pages may be being written through the
    // mapping by another thread right now (the kernel would persist whatever those bytes held; keeping the
    // old durable bytes there is one of the outcomes a crash may show, and it does not read racing memory).
    const uint64_t begin = offset;
    const uint64_t end = std::min<uint64_t>(offset + length, node.size);
    if (end > begin) std::memcpy(node.durable.data() + begin, node.buf.get() + begin, end - begin);
    node.mtime = state_->Now();
    return Status::Ok();
  }

 private:
  const std::shared_ptr<State> state_;
  const std::shared_ptr<FileNode> node_;
  const std::string path_;
  uint8_t* const data_;  // into node_->buf, which does not move while this mapping lives
  const size_t size_;
};

// An open file. Thread-safety: every method takes the state mutex. Shares ownership of the node and the
// state.
class MemoryFile final : public File {
 public:
  MemoryFile(std::shared_ptr<State> state, std::shared_ptr<FileNode> node, std::string path, bool writable)
      : state_(std::move(state)), node_(std::move(node)), path_(std::move(path)), writable_(writable) {}

  const std::string& path() const override { return path_; }

  Result<uint64_t> Size() override {
    MutexLock lock(&state_->mu);
    return node_->size;
  }

  Status Truncate(uint64_t size) override {
    if (!writable_) return Status::IOError(Msg("ftruncate", path_, "Bad file descriptor"));
    MutexLock lock(&state_->mu);
    FMQ_RETURN_IF_ERROR(state_->Resize(*node_, size, "ftruncate", path_));
    node_->mtime = state_->Now();
    return Status::Ok();
  }

  Status Allocate(uint64_t size) override {
    if (!writable_) return Status::IOError(Msg("fallocate", path_, "Bad file descriptor"));
    MutexLock lock(&state_->mu);
    if (size > node_->size) FMQ_RETURN_IF_ERROR(state_->Resize(*node_, size, "fallocate", path_));
    node_->mtime = state_->Now();
    return Status::Ok();
  }

  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    if (!writable_) return Status::IOError(Msg("pwrite", path_, "Bad file descriptor"));
    if (data.empty()) return Status::Ok();
    if (offset > UINT64_MAX - data.size())
      return Status::InvalidArgument(Msg("pwrite", path_, "File too large"));
    MutexLock lock(&state_->mu);
    FileNode& node = *node_;
    const uint64_t end = offset + data.size();
    if (end > node.size) FMQ_RETURN_IF_ERROR(state_->Resize(node, end, "pwrite", path_));
    std::memcpy(node.buf.get() + offset, data.data(), data.size());
    node.mtime = state_->Now();
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    MutexLock lock(&state_->mu);
    const FileNode& node = *node_;
    if (offset >= node.size || out.empty()) return size_t{0};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), node.size - offset));
    std::memcpy(out.data(), node.buf.get() + offset, n);
    return n;
  }

  Status Sync() override {
    MutexLock lock(&state_->mu);
    FileNode& node = *node_;
    node.durable.assign(node.buf.get(), node.buf.get() + node.size);
    node.mtime = state_->Now();
    return Status::Ok();
  }

  Result<std::unique_ptr<Mapping>> Map(size_t size) override {
    if (!writable_) return Status::IOError(Msg("mmap", path_, "Permission denied"));
    MutexLock lock(&state_->mu);
    FileNode& node = *node_;
    if (node.size < size) {
      return Status::FailedPrecondition(Msg("mmap", path_,
                                            "file has " + std::to_string(node.size) +
                                                " bytes, fewer than the " + std::to_string(size) +
                                                " to map"));
    }
    ++node.mappings;
    return std::unique_ptr<Mapping>(new MemoryMapping(state_, node_, path_, node.buf.get(), size));
  }

  // Runs of whole pages holding a non-zero byte (the precision of SEEK_DATA on a real file system), so code
  // that skips the rest is exercised by the crash-point sweeps too.
  Result<std::vector<ByteRange>> DataRanges(uint64_t from, uint64_t to) override {
    MutexLock lock(&state_->mu);
    const FileNode& node = *node_;
    to = std::min<uint64_t>(to, node.size);
    std::vector<ByteRange> ranges;
    for (uint64_t page = from / kPageSize * kPageSize; page < to; page += kPageSize) {
      const uint64_t begin = std::max(page, from);
      const uint64_t end = std::min<uint64_t>(page + kPageSize, to);
      const uint8_t* p = node.buf.get();
      const bool data = std::any_of(p + page, p + std::min<uint64_t>(page + kPageSize, node.size),
                                    [](uint8_t b) { return b != 0; });
      if (!data) continue;
      if (!ranges.empty() && ranges.back().end == begin) {
        ranges.back().end = end;
      } else {
        ranges.push_back({begin, end});
      }
    }
    return ranges;
  }

 private:
  const std::shared_ptr<State> state_;
  const std::shared_ptr<FileNode> node_;
  const std::string path_;
  const bool writable_;
};

// Holds the in-process lock flag of a node; clears it when destroyed.
class MemoryFileLock final : public FileLock {
 public:
  MemoryFileLock(std::shared_ptr<State> state, std::shared_ptr<FileNode> node)
      : state_(std::move(state)), node_(std::move(node)) {}
  ~MemoryFileLock() override {
    MutexLock lock(&state_->mu);
    node_->locked = false;
  }
  MemoryFileLock(const MemoryFileLock&) = delete;
  MemoryFileLock& operator=(const MemoryFileLock&) = delete;

 private:
  const std::shared_ptr<State> state_;
  const std::shared_ptr<FileNode> node_;
};

}  // namespace

MemoryFileSystem::MemoryFileSystem(const Clock* clock, uint64_t capacity_bytes)
    : state_(std::make_shared<State>(clock, capacity_bytes)) {}

MemoryFileSystem::~MemoryFileSystem() = default;

Result<std::unique_ptr<File>> MemoryFileSystem::Open(const std::string& path, OpenMode mode) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  State::Entry* e = s.Find(norm);
  if (norm == "/" || (e != nullptr && e->is_dir())) return Status::IOError(Msg("open", path, kIsDir));
  if (e == nullptr) {
    if (mode != OpenMode::kCreateReadWrite) return Status::NotFound(Msg("open", path, kNoEntry));
    FMQ_RETURN_IF_ERROR(s.CheckParentDir("open", path, norm));
    e = s.CreateFile(norm);
  }
  return std::unique_ptr<File>(new MemoryFile(state_, e->file, path, mode != OpenMode::kReadOnly));
}

bool MemoryFileSystem::Exists(const std::string& path) {
  const std::string norm = Normalize(path);
  MutexLock lock(&state_->mu);
  return state_->KindOf(norm) != State::Kind::kMissing;
}

bool MemoryFileSystem::IsDirectory(const std::string& path) {
  const std::string norm = Normalize(path);
  MutexLock lock(&state_->mu);
  return state_->KindOf(norm) == State::Kind::kDirectory;
}

Status MemoryFileSystem::CreateDirs(const std::string& path) {
  const std::string norm = Normalize(path);
  if (norm.empty()) return Status::InvalidArgument("mkdir: empty path");
  State& s = *state_;
  MutexLock lock(&s.mu);
  // Each prefix in turn: "/a/b" -> "/a", "/a/b".
  for (size_t slash = norm.find('/', 1);; slash = norm.find('/', slash + 1)) {
    const std::string prefix = norm.substr(0, slash);
    switch (s.KindOf(prefix)) {
      case State::Kind::kDirectory:
        break;
      case State::Kind::kFile:
        return Status::AlreadyExists(Msg("mkdir", prefix, "File exists"));
      case State::Kind::kMissing:
        s.entries[prefix].dir_mtime = s.Now();
        s.TouchDir(ParentOf(prefix));
        break;
    }
    if (slash == std::string::npos) break;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> MemoryFileSystem::ListDir(const std::string& path) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  switch (s.KindOf(norm)) {
    case State::Kind::kMissing:
      return Status::NotFound(Msg("opendir", path, kNoEntry));
    case State::Kind::kFile:
      return Status::IOError(Msg("opendir", path, kNotDir));
    case State::Kind::kDirectory:
      break;
  }
  // Keys of direct children share the prefix, so map order is already name order.
  const std::string prefix = ChildPrefix(norm);
  std::vector<std::string> names;
  for (auto it = s.entries.lower_bound(prefix); it != s.entries.end() && it->first.starts_with(prefix);
       ++it) {
    std::string_view rest = std::string_view(it->first).substr(prefix.size());
    if (rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  }
  return names;
}

Status MemoryFileSystem::Remove(const std::string& path) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (norm == "/") return Status::FailedPrecondition(Msg("remove", path, kBusy));
  auto it = s.entries.find(norm);
  if (it == s.entries.end()) return Status::NotFound(Msg("remove", path, kNoEntry));
  if (it->second.is_dir()) {
    if (s.HasChildren(norm)) return Status::FailedPrecondition(Msg("rmdir", path, kNotEmpty));
  } else {
    s.Unlink(*it->second.file);
  }
  s.entries.erase(it);
  s.TouchDir(ParentOf(norm));
  return Status::Ok();
}

Status MemoryFileSystem::RemoveAll(const std::string& path) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (s.KindOf(norm) == State::Kind::kMissing) return Status::Ok();
  const std::string prefix = ChildPrefix(norm);
  auto it = s.entries.lower_bound(prefix);
  while (it != s.entries.end() && it->first.starts_with(prefix)) {
    if (!it->second.is_dir()) s.Unlink(*it->second.file);
    it = s.entries.erase(it);
  }
  if (norm != "/") {
    auto self = s.entries.find(norm);
    if (!self->second.is_dir()) s.Unlink(*self->second.file);
    s.entries.erase(self);
    s.TouchDir(ParentOf(norm));
  } else {
    s.TouchDir(norm);
  }
  return Status::Ok();
}

Status MemoryFileSystem::Rename(const std::string& from, const std::string& to) {
  const std::string nf = Normalize(from);
  const std::string nt = Normalize(to);
  const std::string what = from + " -> " + to;
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (nf == "/" || nt == "/") return Status::FailedPrecondition(Msg("rename", what, kBusy));
  auto src = s.entries.find(nf);
  if (src == s.entries.end()) return Status::NotFound(Msg("rename", what, kNoEntry));
  if (nf == nt) return Status::Ok();
  FMQ_RETURN_IF_ERROR(s.CheckParentDir("rename", what, nt));
  const bool moving_dir = src->second.is_dir();
  if (moving_dir && nt.starts_with(nf + "/"))
    return Status::InvalidArgument(Msg("rename", what, "Invalid argument"));

  // Replace the target, as rename(2) does: a file by a file, an empty directory by a directory.
  if (auto dst = s.entries.find(nt); dst != s.entries.end()) {
    if (!moving_dir && dst->second.is_dir()) return Status::IOError(Msg("rename", what, kIsDir));
    if (moving_dir && !dst->second.is_dir()) return Status::IOError(Msg("rename", what, kNotDir));
    if (moving_dir && s.HasChildren(nt)) return Status::FailedPrecondition(Msg("rename", what, kNotEmpty));
    if (!dst->second.is_dir()) s.Unlink(*dst->second.file);
    s.entries.erase(dst);
  }

  if (moving_dir) {
    const std::string prefix = nf + "/";
    std::vector<std::string> subtree;
    for (auto it = s.entries.lower_bound(prefix); it != s.entries.end() && it->first.starts_with(prefix);
         ++it) {
      subtree.push_back(it->first);
    }
    for (const std::string& key : subtree) {
      auto node = s.entries.extract(key);
      node.key() = nt + key.substr(nf.size());
      s.entries.insert(std::move(node));
    }
  }
  auto node = s.entries.extract(nf);
  node.key() = nt;
  s.entries.insert(std::move(node));
  s.TouchDir(ParentOf(nf));
  s.TouchDir(ParentOf(nt));
  return Status::Ok();
}

Status MemoryFileSystem::SyncDir(const std::string& path) {
  const std::string norm = Normalize(path);
  MutexLock lock(&state_->mu);
  switch (state_->KindOf(norm)) {
    case State::Kind::kMissing:
      return Status::NotFound(Msg("open", path, kNoEntry));
    case State::Kind::kFile:
      return Status::IOError(Msg("open", path, kNotDir));
    case State::Kind::kDirectory:
      break;
  }
  return Status::Ok();  // entry changes are durable at once in this model
}

Result<SpaceInfo> MemoryFileSystem::Space(const std::string& path) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (s.KindOf(norm) == State::Kind::kMissing) return Status::NotFound(Msg("statvfs", path, kNoEntry));
  SpaceInfo info;
  info.capacity = s.capacity;
  info.available = s.capacity > s.used ? s.capacity - s.used : 0;
  return info;
}

Result<int64_t> MemoryFileSystem::ModifiedTimeMillis(const std::string& path) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (norm == "/") return s.root_mtime;
  const State::Entry* e = s.Find(norm);
  if (e == nullptr) return Status::NotFound(Msg("stat", path, kNoEntry));
  return e->is_dir() ? e->dir_mtime : e->file->mtime;
}

Result<std::unique_ptr<FileLock>> MemoryFileSystem::Lock(const std::string& path) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  State::Entry* e = s.Find(norm);
  if (norm == "/" || (e != nullptr && e->is_dir())) return Status::IOError(Msg("open", path, kIsDir));
  if (e == nullptr) {
    FMQ_RETURN_IF_ERROR(s.CheckParentDir("open", path, norm));
    e = s.CreateFile(norm);
  }
  if (e->file->locked) {
    return Status::FailedPrecondition(Msg("flock", path, path + " is locked by another process"));
  }
  e->file->locked = true;
  return std::unique_ptr<FileLock>(new MemoryFileLock(state_, e->file));
}

void MemoryFileSystem::Crash(uint64_t seed, double keep_probability) {
  std::mt19937_64 rng(seed);
  // Draws one number per call whatever the probability, so the sequence depends only on the seed. Not
  // std::bernoulli_distribution: its output differs between standard libraries.
  auto keep = [&rng, keep_probability] {
    const uint64_t r = rng();
    if (keep_probability <= 0.0) return false;
    if (keep_probability >= 1.0) return true;
    return static_cast<double>(r >> 11) * 0x1.0p-53 < keep_probability;
  };
  State& s = *state_;
  MutexLock lock(&s.mu);
  uint8_t current_page[kPageSize];
  uint8_t durable_page[kPageSize];
  for (auto& [key, entry] : s.entries) {
    if (entry.is_dir()) continue;
    FileNode& node = *entry.file;
    const uint64_t current_size = node.size;
    const uint64_t durable_size = node.durable.size();
    uint64_t new_size = durable_size;
    if (current_size != durable_size && keep()) new_size = current_size;
    // The durable size was once a current size, and the buffer never shrinks: the result fits in place.
    FMQ_CHECK(new_size <= node.capacity);

    std::vector<uint8_t> result(new_size);
    for (uint64_t begin = 0; begin < new_size; begin += kPageSize) {
      const uint64_t end = std::min(begin + kPageSize, new_size);
      const size_t n = end - begin;
      ReadPadded(node.buf.get(), current_size, begin, end, current_page);
      ReadPadded(node.durable.data(), durable_size, begin, end, durable_page);
      const bool torn = std::memcmp(current_page, durable_page, n) != 0 && keep();
      std::memcpy(result.data() + begin, torn ? current_page : durable_page, n);
    }
    if (new_size > 0) std::memcpy(node.buf.get(), result.data(), new_size);
    if (current_size > new_size) std::memset(node.buf.get() + new_size, 0, current_size - new_size);
    s.used = s.used - current_size + new_size;
    node.size = new_size;
    node.durable = std::move(result);
  }
}

void MemoryFileSystem::SetCapacity(uint64_t bytes) {
  MutexLock lock(&state_->mu);
  state_->capacity = bytes;
}

uint64_t MemoryFileSystem::UsedBytes() const {
  MutexLock lock(&state_->mu);
  return state_->used;
}

void MemoryFileSystem::TEST_SetModifiedTimeMillis(const std::string& path, int64_t millis) {
  const std::string norm = Normalize(path);
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (norm == "/") {
    s.root_mtime = millis;
    return;
  }
  State::Entry* e = s.Find(norm);
  FMQ_CHECK_MSG(e != nullptr, "TEST_SetModifiedTimeMillis of a missing path");
  if (e->is_dir()) {
    e->dir_mtime = millis;
  } else {
    e->file->mtime = millis;
  }
}

}  // namespace fmq::io
