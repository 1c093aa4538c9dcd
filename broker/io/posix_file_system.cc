// The real file system: thin wrappers over POSIX calls that turn errno into Status values naming the
// operation, the path and the reason ("open /x/y: No such file or directory").

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "broker/io/file_system.h"

namespace fmq::io {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Maps errno to the canonical code: ENOSPC/EDQUOT are DiskFull (file_system.h), a missing entry is NotFound.
Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += ErrnoText(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return Status::DiskFull(std::move(msg));
    case EEXIST:
      return Status::AlreadyExists(std::move(msg));
    case ENOTEMPTY:
      return Status::FailedPrecondition(std::move(msg));
    default:
      return Status::IOError(std::move(msg));
  }
}

// Opens with O_CLOEXEC, retrying on EINTR. Returns the fd or -1 with errno set.
int OpenRetry(const std::string& path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

size_t SystemPageSize() {
  static const size_t kSize = [] {
    long n = ::sysconf(_SC_PAGESIZE);
    return n > 0 ? static_cast<size_t>(n) : kPageSize;
  }();
  return kSize;
}

// A shared read-write mmap of a file prefix. Owns the mapping (munmap in the destructor). Thread-safety: Sync
// may be called concurrently; the bytes are synchronised by the caller.
class PosixMapping final : public Mapping {
 public:
  PosixMapping(std::string path, uint8_t* base, size_t size)
      : path_(std::move(path)), base_(base), size_(size) {}
  ~PosixMapping() override {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  PosixMapping(const PosixMapping&) = delete;
  PosixMapping& operator=(const PosixMapping&) = delete;

  uint8_t* data() override { return base_; }
  size_t size() const override { return size_; }

  Status Sync(size_t offset, size_t length) override {
    if (offset > size_ || length > size_ - offset) {
      return Status::InvalidArgument("msync " + path_ + ": range [" + std::to_string(offset) + ", +" +
                                     std::to_string(length) + ") outside mapping of " +
                                     std::to_string(size_) + " bytes");
    }
    if (length == 0) return Status::Ok();
    const size_t page = SystemPageSize();
    const size_t begin = offset / page * page;  // the mapping itself starts page-aligned
    const size_t end = offset + length;
    if (::msync(base_ + begin, end - begin, MS_SYNC) != 0) return ErrnoStatus("msync", path_, errno);
    return Status::Ok();
  }

 private:
  const std::string path_;
  uint8_t* const base_;  // nullptr for an empty mapping (mmap cannot map 0 bytes)
  const size_t size_;
};

// An open file descriptor. Owns the fd (closed by the destructor). Thread-safety: positional reads and writes
// may run concurrently (pread/pwrite); see file_system.h.
class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  const std::string& path() const override { return path_; }

  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Truncate(uint64_t size) override {
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus("ftruncate", path_, errno);
    return Status::Ok();
  }

  Status Allocate(uint64_t size) override {
    if (size == 0) return Status::Ok();  // posix_fallocate rejects len == 0 with EINVAL
    int rc;
    do {
      rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));  // returns the error number, not -1
    } while (rc == EINTR);
    if (rc != 0) return ErrnoStatus("fallocate", path_, rc);
    return Status::Ok();
  }

  Status WriteAt(uint64_t offset, std::span<const uint8_t> data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("pwrite", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("pread", path_, errno);
      }
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status Sync() override {
    int rc;
    do {
      rc = ::fdatasync(fd_);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }

  Result<std::unique_ptr<Mapping>> Map(size_t size) override {
    FMQ_ASSIGN_OR_RETURN(uint64_t file_size, Size());
    if (file_size < size) {
      return Status::FailedPrecondition("mmap " + path_ + ": file has " + std::to_string(file_size) +
                                        " bytes, fewer than the " + std::to_string(size) + " to map");
    }
    if (size == 0) return std::unique_ptr<Mapping>(new PosixMapping(path_, nullptr, 0));
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus("mmap", path_, errno);
    return std::unique_ptr<Mapping>(new PosixMapping(path_, static_cast<uint8_t*>(p), size));
  }

  Result<std::vector<ByteRange>> DataRanges(uint64_t from, uint64_t to) override {
    std::vector<ByteRange> ranges;
    uint64_t pos = from;
    while (pos < to) {
      // lseek moves the descriptor's offset, which nothing else uses (reads and writes are positional).
      const off_t data = ::lseek(fd_, static_cast<off_t>(pos), SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;  // no data at or after pos
        if (errno == EINVAL || errno == EOPNOTSUPP) return File::DataRanges(pos, to);  // cannot tell
        return ErrnoStatus("lseek(SEEK_DATA)", path_, errno);
      }
      if (static_cast<uint64_t>(data) >= to) break;
      const off_t hole = ::lseek(fd_, data, SEEK_HOLE);
      if (hole < 0) return ErrnoStatus("lseek(SEEK_HOLE)", path_, errno);
      const uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), to);
      if (end <= static_cast<uint64_t>(data)) break;  // the file shrank under us: nothing more to report
      ranges.push_back({static_cast<uint64_t>(data), end});
      pos = end;
    }
    return ranges;
  }

 private:
  const std::string path_;
  const int fd_;
};

// Holds an flock on an open fd; closing the fd releases it. Owns the fd.
class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  const int fd_;
};

// Removes `path` (file, symlink or directory tree; symlinks are not followed).
Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("lstat", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }
  std::vector<std::string> children;
  {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus("opendir", path, errno);
    while (const dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") children.emplace_back(name);
    }
    ::closedir(dir);
  }
  for (const std::string& child : children) FMQ_RETURN_IF_ERROR(RemoveTree(JoinPath(path, child)));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("rmdir", path, errno);
  return Status::Ok();
}

// Stateless: every method is a direct system call, so one instance serves all threads.
class PosixFileSystemImpl final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    int flags = O_RDONLY;
    if (mode == OpenMode::kReadWrite) flags = O_RDWR;
    if (mode == OpenMode::kCreateReadWrite) flags = O_RDWR | O_CREAT;
    int fd = OpenRetry(path, flags);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<File>(new PosixFile(path, fd));
  }

  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  bool IsDirectory(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return Status::InvalidArgument("mkdir: empty path");
    // mkdir each prefix in turn: "/a/b/c" -> "/a", "/a/b", "/a/b/c".
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      std::string prefix = path.substr(0, pos);
      if (prefix.empty() || prefix.back() == '/') continue;  // "//" or a trailing '/'
      if (::mkdir(prefix.c_str(), 0755) == 0) continue;
      const int err = errno;
      if (err == EEXIST && IsDirectory(prefix)) continue;
      return ErrnoStatus("mkdir", prefix, err);
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus("opendir", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(dir)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return ErrnoStatus("readdir", path, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Remove(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("remove", path, errno);
    if (S_ISDIR(st.st_mode)) {
      if (::rmdir(path.c_str()) != 0) return ErrnoStatus("rmdir", path, errno);
    } else if (::unlink(path.c_str()) != 0) {
      return ErrnoStatus("unlink", path, errno);
    }
    return Status::Ok();
  }

  Status RemoveAll(const std::string& path) override { return RemoveTree(path); }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from + " -> " + to, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    int fd = OpenRetry(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    int rc;
    do {
      rc = ::fsync(fd);
    } while (rc != 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync", path, err);
    return Status::Ok();
  }

  Result<SpaceInfo> Space(const std::string& path) override {
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) != 0) return ErrnoStatus("statvfs", path, errno);
    SpaceInfo info;
    // As df computes Use%: blocks reserved for root (ext4's 5 %, or far more on some cloud volumes) count
    // neither as used nor as capacity. Counting them as used made a half-empty volume look 80 % full here,
    // past the 75/85 % retention lines, so acknowledged messages were deleted early.
    const uint64_t used_blocks = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree);
    info.available = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    info.capacity = (used_blocks + vfs.f_bavail) * vfs.f_frsize;
    return info;
  }

  Result<int64_t> ModifiedTimeMillis(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return int64_t{st.st_mtim.tv_sec} * 1000 + int64_t{st.st_mtim.tv_nsec} / 1'000'000;
  }

  Result<std::unique_ptr<FileLock>> Lock(const std::string& path) override {
    int fd = OpenRetry(path, O_RDWR | O_CREAT);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::FailedPrecondition("flock " + path + ": " + path + " is locked by another process");
      }
      return ErrnoStatus("flock", path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static PosixFileSystemImpl instance;  // stateless, so not a mutable static
  return instance;
}

}  // namespace fmq::io
