#include "broker/store/index_service.h"

#include <algorithm>
#include <cstdlib>

#include "broker/base/clock.h"
#include "broker/base/coding.h"
#include "broker/base/java_hash.h"
#include "broker/base/logging.h"

namespace fmq::store {

// ---------------------------------------------------------------------------------------------------------
// IndexFile

IndexFile::IndexFile(io::FileSystem& fs, std::string path, int slots, int max_index,
                     std::unique_ptr<io::File> file, std::unique_ptr<io::Mapping> map)
    : fs_(fs),
      path_(std::move(path)),
      slots_(slots),
      max_index_(max_index),
      file_(std::move(file)),
      map_(std::move(map)) {}

Result<std::unique_ptr<IndexFile>> IndexFile::Create(io::FileSystem& fs, const std::string& path, int slots,
                                                     int max_index) {
  const size_t size = FileSize(slots, max_index);
  FMQ_ASSIGN_OR_RETURN(auto file, fs.Open(path, io::OpenMode::kCreateReadWrite));
  Status s = file->Allocate(size);
  if (!s.ok()) {
    file.reset();
    (void)fs.Remove(path);
    return s;
  }
  FMQ_ASSIGN_OR_RETURN(auto map, file->Map(size));
  std::unique_ptr<IndexFile> f(new IndexFile(fs, path, slots, max_index, std::move(file), std::move(map)));
  f->WriteHeader();
  return f;
}

Result<std::unique_ptr<IndexFile>> IndexFile::Open(io::FileSystem& fs, const std::string& path, int slots,
                                                   int max_index) {
  const size_t size = FileSize(slots, max_index);
  FMQ_ASSIGN_OR_RETURN(auto file, fs.Open(path, io::OpenMode::kReadWrite));
  FMQ_ASSIGN_OR_RETURN(uint64_t actual, file->Size());
  if (actual != size) {
    return Status::Corruption("index file " + path + " has " + std::to_string(actual) + " bytes, expected " +
                              std::to_string(size) + " for maxHashSlotNum=" + std::to_string(slots) +
                              " maxIndexNum=" + std::to_string(max_index));
  }
  FMQ_ASSIGN_OR_RETURN(auto map, file->Map(size));
  std::unique_ptr<IndexFile> f(new IndexFile(fs, path, slots, max_index, std::move(file), std::move(map)));
  const uint8_t* h = f->map_->data();
  f->begin_ts_ = DecodeI64(h);
  f->end_ts_ = DecodeI64(h + 8);
  f->begin_phy_ = DecodeI64(h + 16);
  f->end_phy_ = DecodeI64(h + 24);
  f->slot_count_ = DecodeI32(h + 32);
  f->index_count_ = std::clamp(DecodeI32(h + 36), 1, max_index);
  return f;
}

int32_t IndexFile::KeyHash(std::string_view key) {
  int32_t h = JavaStringHashCode(key);
  if (h == INT32_MIN) return 0;
  return h < 0 ? -h : h;
}

void IndexFile::WriteHeader() {
  uint8_t* h = map_->data();
  EncodeI64(h, begin_ts_);
  EncodeI64(h + 8, end_ts_);
  EncodeI64(h + 16, begin_phy_);
  EncodeI64(h + 24, end_phy_);
  EncodeI32(h + 32, slot_count_);
  EncodeI32(h + 36, index_count_);
}

bool IndexFile::Put(std::string_view key, int64_t phys, int64_t store_timestamp) {
  if (IsFull()) return false;
  const int32_t hash = KeyHash(key);
  const size_t slot_pos = kHeaderSize + static_cast<size_t>(hash % slots_) * kSlotSize;
  uint8_t* base = map_->data();
  int32_t slot_value = DecodeI32(base + slot_pos);
  if (slot_value <= 0 || slot_value > index_count_) slot_value = 0;
  int64_t diff = 0;
  if (index_count_ > 1 && begin_ts_ > 0) {
    diff = (store_timestamp - begin_ts_) / 1000;
    diff = std::clamp<int64_t>(diff, 0, INT32_MAX);
  }
  uint8_t* e = base + kHeaderSize + size_t(slots_) * kSlotSize + size_t(index_count_) * kEntrySize;
  EncodeI32(e, hash);
  EncodeI64(e + 4, phys);
  EncodeI32(e + 12, static_cast<int32_t>(diff));
  EncodeI32(e + 16, slot_value);
  EncodeI32(base + slot_pos, index_count_);
  if (index_count_ <= 1) {
    begin_phy_ = phys;
    begin_ts_ = store_timestamp;
  }
  if (slot_value == 0) ++slot_count_;
  ++index_count_;
  end_phy_ = phys;
  end_ts_ = store_timestamp;
  WriteHeader();
  dirty_ = true;
  return true;
}

void IndexFile::Select(std::string_view key, size_t max, int64_t begin, int64_t end,
                       std::vector<int64_t>* out) const {
  const int32_t hash = KeyHash(key);
  const uint8_t* base = map_->data();
  int32_t idx = DecodeI32(base + kHeaderSize + static_cast<size_t>(hash % slots_) * kSlotSize);
  int steps = 0;
  while (idx > 0 && idx < index_count_ && out->size() < max && steps++ < max_index_) {
    const uint8_t* e = base + kHeaderSize + size_t(slots_) * kSlotSize + size_t(idx) * kEntrySize;
    const int32_t h = DecodeI32(e);
    const int64_t phys = DecodeI64(e + 4);
    const int64_t ts = begin_ts_ + int64_t{DecodeI32(e + 12)} * 1000;
    const int32_t prev = DecodeI32(e + 16);
    if (ts < begin) break;  // chains run newest to oldest
    if (h == hash && ts <= end) out->push_back(phys);
    if (prev <= 0 || prev >= idx) break;
    idx = prev;
  }
}

Status IndexFile::Flush() {
  if (!dirty_) return Status::Ok();
  FMQ_RETURN_IF_ERROR(map_->Sync(0, map_->size()).WithContext("flush index " + path_));
  dirty_ = false;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// IndexService

IndexService::IndexService(io::FileSystem& fs, std::string dir, int slots, int max_index, const Clock& clock)
    : fs_(fs), dir_(std::move(dir)), slots_(slots), max_index_(max_index), clock_(clock) {}

Result<int64_t> IndexService::Load(bool last_exit_ok, int64_t checkpoint_timestamp) {
  int64_t rebuild_from = INT64_MAX;
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(dir_));
  FMQ_ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir_));
  MutexLock lock(&mu_);
  files_.clear();
  for (const auto& name : names) {
    const std::string path = io::JoinPath(dir_, name);
    auto f = IndexFile::Open(fs_, path, slots_, max_index_);
    if (!f.ok()) {
      // An index file is derived data: a bad one is dropped and rebuilt, never a reason not to start.
      GetLogger("store")->warn("dropping unreadable index file={} error={}", path, f.status().ToString());
      (void)fs_.Remove(path);
      rebuild_from = 0;  // its range is unknown: rebuild everything
      continue;
    }
    if (!last_exit_ok && (*f)->end_timestamp() > checkpoint_timestamp) {
      GetLogger("store")->info("dropping index file newer than checkpoint file={} end={} checkpoint={}", path,
                               (*f)->end_timestamp(), checkpoint_timestamp);
      rebuild_from = std::min(rebuild_from, (*f)->begin_phy_offset());
      (void)(*f)->Unlink();
      continue;
    }
    files_.push_back(std::move(*f));
  }
  return rebuild_from;
}

Result<IndexFile*> IndexService::Writable() {
  if (!files_.empty() && !files_.back()->IsFull()) return files_.back().get();
  if (!files_.empty()) FMQ_RETURN_IF_ERROR(files_.back()->Flush());
  int64_t now = clock_.NowMillis();
  std::string path = io::JoinPath(dir_, LocalTimestampName(now));
  while (fs_.Exists(path)) path = io::JoinPath(dir_, LocalTimestampName(++now));
  FMQ_ASSIGN_OR_RETURN(auto f, IndexFile::Create(fs_, path, slots_, max_index_));
  files_.push_back(std::move(f));
  return files_.back().get();
}

Status IndexService::BuildIndex(std::string_view topic, std::string_view uniq_key, std::string_view keys,
                                int64_t phys, int64_t store_timestamp) {
  MutexLock lock(&mu_);
  // Re-dispatch after recovery replays messages: anything at or below the newest indexed offset is done.
  for (size_t i = files_.size(); i-- > 0;) {
    if (files_[i]->index_count() > 1) {
      if (phys <= files_[i]->end_phy_offset()) return Status::Ok();
      break;
    }
  }
  if (!uniq_key.empty()) FMQ_RETURN_IF_ERROR(PutKey(topic, uniq_key, phys, store_timestamp));
  size_t start = 0;
  while (start < keys.size()) {
    size_t sp = keys.find(' ', start);
    if (sp == std::string_view::npos) sp = keys.size();
    if (sp > start) FMQ_RETURN_IF_ERROR(PutKey(topic, keys.substr(start, sp - start), phys, store_timestamp));
    start = sp + 1;
  }
  return Status::Ok();
}

Status IndexService::PutKey(std::string_view topic, std::string_view key, int64_t phys,
                            int64_t store_timestamp) {
  std::string full(topic);
  full += '#';
  full += key;
  for (int attempt = 0; attempt < 2; ++attempt) {
    FMQ_ASSIGN_OR_RETURN(IndexFile * f, Writable());
    if (f->Put(full, phys, store_timestamp)) return Status::Ok();
  }
  return Status::Internal("index file full right after creation");
}

IndexQueryResult IndexService::Query(std::string_view topic, std::string_view key, size_t max, int64_t begin,
                                     int64_t end) const {
  IndexQueryResult r;
  std::string k(topic);
  k += '#';
  k += key;
  MutexLock lock(&mu_);
  if (!files_.empty()) {
    r.index_last_update_timestamp = files_.back()->end_timestamp();
    r.index_last_update_phy_offset = files_.back()->end_phy_offset();
  }
  for (size_t i = files_.size(); i-- > 0 && r.phy_offsets.size() < max;) {
    const auto& f = files_[i];
    if (f->index_count() <= 1) continue;
    if (f->end_timestamp() < begin || f->begin_timestamp() > end) continue;
    f->Select(k, max, begin, end, &r.phy_offsets);
  }
  return r;
}

Result<int64_t> IndexService::Flush() {
  MutexLock lock(&mu_);
  if (files_.empty()) return int64_t{0};
  int64_t ts = files_.back()->end_timestamp();
  FMQ_RETURN_IF_ERROR(files_.back()->Flush());
  return ts;
}

int IndexService::DeleteExpired(int64_t commit_log_min) {
  MutexLock lock(&mu_);
  int removed = 0;
  while (files_.size() > 1 && files_.front()->end_phy_offset() < commit_log_min) {
    Status s = files_.front()->Unlink();
    if (!s.ok()) GetLogger("store")->warn("index delete failed error={}", s.ToString());
    files_.erase(files_.begin());
    ++removed;
  }
  return removed;
}

int64_t IndexService::EndPhyOffset() const {
  MutexLock lock(&mu_);
  return files_.empty() ? 0 : files_.back()->end_phy_offset();
}

size_t IndexService::FileCount() const {
  MutexLock lock(&mu_);
  return files_.size();
}

Result<int64_t> IndexService::DropFrom(int64_t phys) {
  MutexLock lock(&mu_);
  int64_t rebuild_from = INT64_MAX;
  while (!files_.empty() && files_.back()->end_phy_offset() >= phys) {
    rebuild_from = std::min(rebuild_from, files_.back()->begin_phy_offset());
    FMQ_RETURN_IF_ERROR(files_.back()->Unlink());
    files_.pop_back();
  }
  return rebuild_from;
}

Status IndexService::Destroy() {
  MutexLock lock(&mu_);
  files_.clear();
  return fs_.RemoveAll(dir_);
}

}  // namespace fmq::store
