#include "broker/store/mapped_file.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "broker/base/logging.h"

namespace fmq::store {

std::string MappedFile::FileName(int64_t base_offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRId64, base_offset);
  return buf;
}

MappedFile::MappedFile(io::FileSystem& fs, std::string path, int64_t base_offset, size_t size,
                       std::unique_ptr<io::File> file, std::unique_ptr<io::Mapping> map, WriteMode write_mode)
    : fs_(fs),
      path_(std::move(path)),
      base_offset_(base_offset),
      size_(size),
      file_(std::move(file)),
      map_(std::move(map)),
      write_mode_(write_mode) {}

Status MappedFile::Warm(io::File& file, io::Mapping& map, WarmMode warm) {
  if (warm == WarmMode::kNone) return Status::Ok();
  const size_t n = map.size();
  if (warm == WarmMode::kPrewrite) {
    static const std::vector<uint8_t> kZeros(1 << 20, 0);
    for (size_t pos = 0; pos < n; pos += kZeros.size()) {
      FMQ_RETURN_IF_ERROR(file.WriteAt(pos, {kZeros.data(), std::min(kZeros.size(), n - pos)}));
    }
    return file.Sync();
  }
  uint8_t* p = map.data();
  for (size_t i = 0; i < n; i += io::kPageSize) {
    // A volatile store of the byte already there: the page becomes resident and dirty without changing data.
    *static_cast<volatile uint8_t*>(p + i) = p[i];
  }
  return Status::Ok();
}

Result<std::shared_ptr<MappedFile>> MappedFile::Create(io::FileSystem& fs, std::string path,
                                                       int64_t base_offset, size_t size, WarmMode warm,
                                                       WriteMode write_mode) {
  FMQ_ASSIGN_OR_RETURN(auto file, fs.Open(path, io::OpenMode::kCreateReadWrite));
  Status s = file->Allocate(size);
  if (!s.ok()) {
    file.reset();
    (void)fs.Remove(path);  // do not leave a short file behind: the next load would call it corrupt
    return s;
  }
  FMQ_ASSIGN_OR_RETURN(auto map, file->Map(size));
  FMQ_RETURN_IF_ERROR(Warm(*file, *map, warm));
  return std::shared_ptr<MappedFile>(
      new MappedFile(fs, std::move(path), base_offset, size, std::move(file), std::move(map), write_mode));
}

Result<std::shared_ptr<MappedFile>> MappedFile::Open(io::FileSystem& fs, std::string path,
                                                     int64_t base_offset, size_t size, WriteMode write_mode) {
  FMQ_ASSIGN_OR_RETURN(auto file, fs.Open(path, io::OpenMode::kReadWrite));
  FMQ_ASSIGN_OR_RETURN(uint64_t actual, file->Size());
  if (actual > size) {
    return Status::Corruption("segment " + path + " has " + std::to_string(actual) +
                              " bytes but the configured " + "segment size is " + std::to_string(size) +
                              "; was the file size setting (mappedFileSize*) changed for an existing store?");
  }
  if (actual < size) {
    // The file was created but its preallocation never reached the disk before a crash: nothing beyond
    // `actual` was ever durable. Extend it with zeros; recovery finds the end of valid data inside it.
    GetLogger("store")->warn("extending short segment file={} size={} expected={}", path, actual, size);
    FMQ_RETURN_IF_ERROR(file->Allocate(size));
  }
  FMQ_ASSIGN_OR_RETURN(auto map, file->Map(size));
  return std::shared_ptr<MappedFile>(
      new MappedFile(fs, std::move(path), base_offset, size, std::move(file), std::move(map), write_mode));
}

Status MappedFile::Write(size_t pos, std::span<const uint8_t> bytes) {
  if (write_mode_ == WriteMode::kPositional) return file_->WriteAt(pos, bytes);
  std::memcpy(data() + pos, bytes.data(), bytes.size());
  return Status::Ok();
}

Result<size_t> MappedFile::Flush(int least_pages) {
  MutexLock lock(&flush_mu_);
  const size_t wrote = WrotePosition();
  const size_t flushed = FlushedPosition();
  if (wrote <= flushed) return flushed;
  if (least_pages > 0) {
    size_t dirty_pages = wrote / io::kPageSize - flushed / io::kPageSize;
    if (dirty_pages < static_cast<size_t>(least_pages)) return flushed;
  }
  Status synced =
      write_mode_ == WriteMode::kPositional ? file_->Sync() : map_->Sync(flushed, wrote - flushed);
  FMQ_RETURN_IF_ERROR(synced.WithContext("flush " + path_));
  SetFlushedPosition(wrote);
  return wrote;
}

Status MappedFile::ZeroFrom(size_t pos) {
  if (pos >= size_) return Status::Ok();
  uint8_t* p = data();
  static constexpr uint8_t kZeros[io::kPageSize] = {};
  size_t first_dirty = size_, last_dirty = 0;
  // Only what was ever written can be non-zero: holes and unwritten extents are skipped without touching
  // (and faulting in) their pages.
  FMQ_ASSIGN_OR_RETURN(auto ranges, file_->DataRanges(pos, size_));
  for (const io::ByteRange& r : ranges) {
    size_t page_start = static_cast<size_t>(r.begin);
    const size_t range_end = static_cast<size_t>(std::min<uint64_t>(r.end, size_));
    while (page_start < range_end) {
      size_t page_end = std::min(range_end, (page_start / io::kPageSize + 1) * io::kPageSize);
      size_t len = page_end - page_start;
      if (std::memcmp(p + page_start, kZeros, len) != 0) {
        std::memset(p + page_start, 0, len);
        first_dirty = std::min(first_dirty, page_start);
        last_dirty = page_end;
      }
      page_start = page_end;
    }
  }
  if (first_dirty < last_dirty) {
    FMQ_RETURN_IF_ERROR(
        map_->Sync(first_dirty, last_dirty - first_dirty).WithContext("zero tail of " + path_));
  }
  return Status::Ok();
}

Status MappedFile::Unlink() { return fs_.Remove(path_); }

}  // namespace fmq::store
