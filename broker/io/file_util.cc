// Helpers built only on the FileSystem interface, so they work on every implementation.

#include <string>
#include <string_view>

#include "broker/base/coding.h"
#include "broker/io/file_system.h"

namespace fmq::io {

Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path) {
  FMQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.Open(path, OpenMode::kReadOnly));
  FMQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string content(size, '\0');
  size_t done = 0;
  while (done < content.size()) {
    std::span<uint8_t> out(reinterpret_cast<uint8_t*>(content.data()) + done, content.size() - done);
    FMQ_ASSIGN_OR_RETURN(size_t n, file->ReadAt(done, out));
    if (n == 0) break;  // the file shrank while we read it
    done += n;
  }
  content.resize(done);
  return content;
}

Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  {
    FMQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.Open(tmp, OpenMode::kCreateReadWrite));
    // A crash during an earlier call may have left a longer .tmp behind.
    FMQ_RETURN_IF_ERROR(file->Truncate(0));
    FMQ_RETURN_IF_ERROR(file->WriteAt(0, AsBytes(content)));
    FMQ_RETURN_IF_ERROR(file->Sync());
  }
  FMQ_RETURN_IF_ERROR(fs.Rename(tmp, path));
  return fs.SyncDir(DirName(path));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  while (!a.empty() && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  std::string out(a);
  out += '/';
  out += b;
  return out;
}

// POSIX dirname(3): "a/b/c" -> "a/b", "a/b/" -> "a", "c" -> ".", "/c" -> "/", "/" -> "/", "" -> ".".
std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  path = path.substr(0, slash);
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? "/" : std::string(path);
}

// POSIX basename(3): "a/b/c" -> "c", "a/b/" -> "b", "/" -> "/", "" -> ".".
std::string BaseName(std::string_view path) {
  if (path.empty()) return ".";
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return "/";
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace fmq::io
