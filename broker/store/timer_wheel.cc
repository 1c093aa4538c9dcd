#include "broker/store/timer_wheel.h"

#include <algorithm>

#include <fmt/format.h>

#include "broker/base/check.h"

namespace fmq::store {

TimerWheel::TimerWheel(io::FileSystem& fs, std::string dir, int64_t precision_ms, int64_t slots,
                       int64_t links_per_file)
    : fs_(fs),
      dir_(std::move(dir)),
      precision_ms_(precision_ms),
      links_per_file_(links_per_file),
      slots_(static_cast<size_t>(slots)) {
  FMQ_CHECK(precision_ms > 0 && slots > 0 && links_per_file > 0);
}

std::string TimerWheel::FileName(int64_t first) const { return fmt::format("{}/{:020}", dir_, first); }

Status TimerWheel::Reset(int64_t base) {
  files_.clear();
  if (fs_.Exists(dir_)) FMQ_RETURN_IF_ERROR(fs_.RemoveAll(dir_));
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(dir_));
  std::fill(slots_.begin(), slots_.end(), Slot{});
  next_ = base;
  pending_ = 0;
  return Status::Ok();
}

Result<int64_t*> TimerWheel::Link(int64_t offset, bool create) {
  const int64_t first = offset - offset % links_per_file_;
  auto it = files_.find(first);
  if (it == files_.end()) {
    if (!create) return Status::NotFound("no links file for offset " + std::to_string(offset));
    const size_t bytes = static_cast<size_t>(links_per_file_) * sizeof(int64_t);
    FMQ_ASSIGN_OR_RETURN(auto file, fs_.Open(FileName(first), io::OpenMode::kCreateReadWrite));
    FMQ_RETURN_IF_ERROR(file->Truncate(bytes));
    FMQ_ASSIGN_OR_RETURN(auto map, file->Map(bytes));
    it = files_.emplace(first, LinksFile{std::move(file), std::move(map)}).first;
  }
  return reinterpret_cast<int64_t*>(it->second.map->data()) + (offset - first);
}

const int64_t* TimerWheel::FindLink(int64_t offset) const {
  const int64_t first = offset - offset % links_per_file_;
  auto it = files_.find(first);
  if (it == files_.end()) return nullptr;
  return reinterpret_cast<const int64_t*>(it->second.map->data()) + (offset - first);
}

Status TimerWheel::Skip(int64_t offset) {
  FMQ_CHECK(offset == next_);
  ++next_;
  return Status::Ok();
}

bool TimerWheel::CanTake(int64_t slot_ms) const {
  const Slot& s = slots_[Index(slot_ms)];
  return s.count == 0 || s.time == slot_ms;
}

Status TimerWheel::Add(int64_t offset, int64_t slot_ms) {
  FMQ_CHECK(offset == next_);
  Slot& s = slots_[Index(slot_ms)];
  FMQ_CHECK(s.count == 0 || s.time == slot_ms);
  FMQ_ASSIGN_OR_RETURN(int64_t * link, Link(offset, /*create=*/true));
  // Host byte order: the files are scratch, never read by another program or after a restart.
  *link = s.count == 0 ? -1 : s.last;
  if (s.count == 0) {
    s.time = slot_ms;
    s.first = offset;
  }
  s.last = offset;
  ++s.count;
  ++pending_;
  ++next_;
  return Status::Ok();
}

std::vector<int64_t> TimerWheel::Entries(int64_t slot_ms) const {
  const Slot& s = slots_[Index(slot_ms)];
  std::vector<int64_t> out;
  if (s.count == 0 || s.time != slot_ms) return out;
  out.reserve(static_cast<size_t>(s.count));
  for (int64_t at = s.last; at >= 0 && static_cast<int64_t>(out.size()) < s.count;) {
    out.push_back(at);
    const int64_t* link = FindLink(at);
    FMQ_CHECK(link != nullptr);  // files are dropped only below the low-water mark
    at = *link;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void TimerWheel::Clear(int64_t slot_ms) {
  Slot& s = slots_[Index(slot_ms)];
  if (s.time != slot_ms || s.count == 0) return;
  pending_ -= s.count;
  s = Slot{};
}

std::optional<int64_t> TimerWheel::LowWater() const {
  std::optional<int64_t> low;
  for (const Slot& s : slots_) {
    if (s.count > 0 && (!low || s.first < *low)) low = s.first;
  }
  return low;
}

Status TimerWheel::DropBelow(int64_t offset) {
  for (auto it = files_.begin(); it != files_.end() && it->first + links_per_file_ <= offset;) {
    const std::string path = it->second.file->path();
    it = files_.erase(it);
    FMQ_RETURN_IF_ERROR(fs_.Remove(path));
  }
  return Status::Ok();
}

}  // namespace fmq::store
