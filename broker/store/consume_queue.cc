#include "broker/store/consume_queue.h"

#include <cstring>

#include "broker/base/coding.h"
#include "broker/base/logging.h"

namespace fmq::store {

ConsumeQueue::ConsumeQueue(io::FileSystem& fs, std::string topic, QueueId queue_id,
                           const std::string& root_dir, size_t file_size)
    : topic_(std::move(topic)),
      queue_id_(queue_id),
      queue_(fs, io::JoinPath(io::JoinPath(root_dir, topic_), std::to_string(queue_id.value())), file_size) {}

bool ConsumeQueue::DecodeEntry(const uint8_t* p, CqEntry* e) {
  e->offset = PhysicalOffset(DecodeI64(p));
  e->size = DecodeI32(p + 8);
  e->tags_code = DecodeI64(p + 12);
  return e->offset.value() >= 0 && e->size > 0;
}

Status ConsumeQueue::Load() {
  FMQ_RETURN_IF_ERROR(queue_.Load());
  min_logic_offset_ = queue_.MinOffset();
  return Status::Ok();
}

Status ConsumeQueue::Recover() {
  auto files = queue_.Files();
  if (files.empty()) return Status::Ok();
  size_t idx = files.size() > 3 ? files.size() - 3 : 0;
  size_t pos = 0;
  int64_t max_end = 0;
  while (true) {
    const auto& f = files[idx];
    CqEntry e;
    bool valid = false;
    while (pos + kEntrySize <= f->size() && (valid = DecodeEntry(f->data() + pos, &e))) {
      if (e.size != kFillerSize) max_end = std::max(max_end, e.offset.value() + e.size);
      pos += kEntrySize;
    }
    if (pos + kEntrySize > f->size() && idx + 1 < files.size()) {
      ++idx;
      pos = 0;
      continue;
    }
    break;
  }
  const int64_t end = files[idx]->base_offset() + static_cast<int64_t>(pos);
  FMQ_RETURN_IF_ERROR(queue_.Truncate(end));
  max_physical_end_ = max_end;
  if (min_logic_offset_.load() > end) min_logic_offset_ = end;
  return Status::Ok();
}

Status ConsumeQueue::PutEntry(const CqEntry& entry, QueueOffset queue_offset) {
  if (entry.offset.value() + entry.size <= max_physical_end_.load()) return Status::Ok();  // already there
  const int64_t expected = queue_offset.value() * int64_t{kEntrySize};
  if (queue_.Empty()) {
    // The queue starts here. If that is inside a file, fillers occupy the file in front of the first entry.
    FMQ_ASSIGN_OR_RETURN(auto file, queue_.LastOrCreate(expected));
    const size_t upto = static_cast<size_t>(expected - file->base_offset());
    for (size_t p = 0; p < upto; p += kEntrySize)
      WriteEntry(file->data() + p, {PhysicalOffset(0), kFillerSize, 0});
    file->SetWrotePosition(upto);
    min_logic_offset_ = expected;
  }
  if (expected < queue_.MaxOffset()) return Status::Ok();  // duplicate by queue offset
  if (expected > queue_.MaxOffset()) {
    // A hole: entries were lost in a way re-dispatch did not cover. Keep the queue usable and say so.
    GetLogger("store")->error("consume queue hole filled with fillers topic={} queue={} from={} to={}",
                              topic_, queue_id_.value(), queue_.MaxOffset() / int64_t{kEntrySize},
                              queue_offset.value());
    while (queue_.MaxOffset() < expected) FMQ_RETURN_IF_ERROR(Append({PhysicalOffset(0), kFillerSize, 0}));
  }
  FMQ_RETURN_IF_ERROR(Append(entry));
  max_physical_end_ = entry.offset.value() + entry.size;
  return Status::Ok();
}

Status ConsumeQueue::Append(const CqEntry& entry) {
  FMQ_ASSIGN_OR_RETURN(auto file, queue_.LastOrCreate(queue_.MaxOffset()));
  const size_t pos = file->WrotePosition();
  WriteEntry(file->data() + pos, entry);
  file->SetWrotePosition(pos + kEntrySize);
  return Status::Ok();
}

void ConsumeQueue::WriteEntry(uint8_t* p, const CqEntry& e) {
  EncodeI64(p, e.offset.value());
  EncodeI32(p + 8, e.size);
  EncodeI64(p + 12, e.tags_code);
}

Status ConsumeQueue::TruncateDirty(int64_t phys_end) {
  auto files = queue_.Files();
  // Walk back from the end to the last entry whose message ends within the commit log.
  for (size_t i = files.size(); i-- > 0;) {
    const auto& f = files[i];
    size_t pos = f->WrotePosition();
    while (pos >= kEntrySize) {
      CqEntry e;
      DecodeEntry(f->data() + pos - kEntrySize, &e);
      if (e.size == kFillerSize || e.offset.value() + e.size <= phys_end) {
        int64_t end = f->base_offset() + static_cast<int64_t>(pos);
        if (end != queue_.MaxOffset()) FMQ_RETURN_IF_ERROR(queue_.Truncate(end));
        int64_t max_end = 0;
        // Recompute the furthest physical end from the last real entry.
        for (size_t p = pos; p >= kEntrySize; p -= kEntrySize) {
          DecodeEntry(f->data() + p - kEntrySize, &e);
          if (e.size != kFillerSize) {
            max_end = e.offset.value() + e.size;
            break;
          }
        }
        max_physical_end_ = max_end;
        return Status::Ok();
      }
      pos -= kEntrySize;
    }
  }
  // Nothing survives: the queue restarts empty.
  if (!files.empty()) FMQ_RETURN_IF_ERROR(queue_.Truncate(files.front()->base_offset()));
  max_physical_end_ = 0;
  return Status::Ok();
}

Status ConsumeQueue::TrimTail(const std::function<bool(const CqEntry&, QueueOffset)>& matches,
                              int max_checks) {
  for (int i = 0; i < max_checks && MaxOffset() > MinOffset(); ++i) {
    const QueueOffset last = MaxOffset() - 1;
    FMQ_ASSIGN_OR_RETURN(CqEntry e, GetEntry(last));
    if (e.size == kFillerSize || matches(e, last)) return Status::Ok();
    GetLogger("store")->warn("dropping torn consume-queue entry topic={} queue={} offset={}", topic_,
                             queue_id_.value(), last.value());
    FMQ_RETURN_IF_ERROR(queue_.Truncate(last.value() * int64_t{kEntrySize}));
    max_physical_end_ = 0;
    if (MaxOffset() > MinOffset()) {
      FMQ_ASSIGN_OR_RETURN(CqEntry prev, GetEntry(MaxOffset() - 1));
      if (prev.size != kFillerSize) max_physical_end_ = prev.offset.value() + prev.size;
    }
  }
  return Status::Ok();
}

void ConsumeQueue::CorrectMinOffset(int64_t commit_log_min) {
  for (const auto& f : queue_.Files()) {
    const size_t wrote = f->WrotePosition();
    int64_t start = std::max<int64_t>(min_logic_offset_.load(), f->base_offset()) - f->base_offset();
    for (size_t pos = static_cast<size_t>(start); pos + kEntrySize <= wrote; pos += kEntrySize) {
      CqEntry e;
      DecodeEntry(f->data() + pos, &e);
      if (e.size != kFillerSize && e.offset.value() >= commit_log_min) {
        min_logic_offset_ = f->base_offset() + static_cast<int64_t>(pos);
        return;
      }
    }
  }
  min_logic_offset_ = queue_.MaxOffset();  // every entry points at deleted data
}

int ConsumeQueue::DeleteExpired(int64_t commit_log_min) {
  int removed = queue_.DeleteExpired(
      [&](const MappedFile& f) {
        size_t wrote = f.WrotePosition();
        if (wrote < kEntrySize) return false;
        CqEntry last;
        DecodeEntry(f.data() + wrote - kEntrySize, &last);
        return last.size != kFillerSize && last.offset.value() + last.size <= commit_log_min;
      },
      1 << 20);
  CorrectMinOffset(commit_log_min);
  return removed;
}

Result<CqEntry> ConsumeQueue::GetEntry(QueueOffset offset) const {
  FMQ_ASSIGN_OR_RETURN(auto entries, GetEntries(offset, 1));
  if (entries.empty())
    return Status::NotFound("queue offset " + std::to_string(offset.value()) + " not found");
  return entries.front();
}

Result<std::vector<CqEntry>> ConsumeQueue::GetEntries(QueueOffset from, size_t max) const {
  const int64_t pos_bytes = from.value() * int64_t{kEntrySize};
  if (from.value() < 0 || pos_bytes < min_logic_offset_.load()) {
    return Status::NotFound("queue offset " + std::to_string(from.value()) +
                            " is below the queue's min offset");
  }
  auto file = queue_.FindByOffset(pos_bytes);
  if (!file) return std::vector<CqEntry>{};
  const size_t wrote = file->WrotePosition();
  std::vector<CqEntry> out;
  for (size_t pos = static_cast<size_t>(pos_bytes - file->base_offset());
       pos + kEntrySize <= wrote && out.size() < max; pos += kEntrySize) {
    CqEntry e;
    DecodeEntry(file->data() + pos, &e);
    out.push_back(e);
  }
  return out;
}

QueueOffset ConsumeQueue::OffsetByTime(
    int64_t timestamp, const std::function<Result<int64_t>(PhysicalOffset, int32_t)>& store_time_of) const {
  int64_t lo = MinOffset().value(), hi = MaxOffset().value();  // answer in [lo, hi]
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    auto e = GetEntry(QueueOffset(mid));
    Result<int64_t> ts = Status::NotFound("no entry");
    if (e.ok() && e->size != kFillerSize) ts = store_time_of(e->offset, e->size);
    if (!ts.ok()) {
      lo = mid + 1;  // entries pointing at deleted data are older than anything readable
      continue;
    }
    if (*ts >= timestamp) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return QueueOffset(lo);
}

}  // namespace fmq::store
