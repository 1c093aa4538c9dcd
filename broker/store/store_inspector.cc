#include "broker/store/store_inspector.h"

#include <algorithm>
#include <charconv>

#include "broker/base/coding.h"
#include "broker/store/commit_log.h"
#include "broker/store/consume_queue.h"
#include "broker/store/index_service.h"
#include "broker/store/store_checkpoint.h"

namespace fmq::store {

struct StoreInspector::Segment {
  int64_t base = 0;
  std::string path;
  std::unique_ptr<io::File> file;
};

namespace {
bool ParseNumberName(const std::string& name, int64_t* v) {
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), *v);
  return ec == std::errc() && ptr == name.data() + name.size() && *v >= 0;
}

// Reads up to `n` bytes at `offset` of `file`.
Result<std::string> ReadSome(io::File& file, uint64_t offset, size_t n) {
  std::string buf(n, '\0');
  FMQ_ASSIGN_OR_RETURN(size_t got, file.ReadAt(offset, {reinterpret_cast<uint8_t*>(buf.data()), n}));
  buf.resize(got);
  return buf;
}
}  // namespace

StoreInspector::StoreInspector(io::FileSystem& fs, std::string root, std::string commit_log_dir)
    : fs_(fs),
      root_(std::move(root)),
      commit_log_dir_(commit_log_dir.empty() ? io::JoinPath(root_, "commitlog") : std::move(commit_log_dir)) {
}

StoreInspector::~StoreInspector() = default;

Status StoreInspector::Load() {
  if (!fs_.IsDirectory(commit_log_dir_)) return Status::NotFound("no commit log at " + commit_log_dir_);
  FMQ_ASSIGN_OR_RETURN(auto names, fs_.ListDir(commit_log_dir_));
  for (const auto& name : names) {
    int64_t base;
    if (name.size() != 20 || !ParseNumberName(name, &base)) continue;
    auto seg = std::make_unique<Segment>();
    seg->base = base;
    seg->path = io::JoinPath(commit_log_dir_, name);
    FMQ_ASSIGN_OR_RETURN(seg->file, fs_.Open(seg->path, io::OpenMode::kReadOnly));
    FMQ_ASSIGN_OR_RETURN(uint64_t size, seg->file->Size());
    segment_size_ = std::max<int64_t>(segment_size_, static_cast<int64_t>(size));
    segments_[base] = std::move(seg);
  }
  if (segments_.empty()) return Status::NotFound("no commit-log segments in " + commit_log_dir_);
  return Status::Ok();
}

Result<StoreInspector::Segment*> StoreInspector::SegmentFor(int64_t offset) {
  auto it = segments_.find(offset - offset % segment_size_);
  if (it == segments_.end()) return Status::NotFound("no segment holds offset " + std::to_string(offset));
  return it->second.get();
}

Result<CommitLogScan> StoreInspector::ScanCommitLog(
    int64_t from, const std::function<bool(const model::StoredMessageView&, int64_t phys)>& fn) {
  CommitLogScan scan;
  scan.segments = static_cast<int64_t>(segments_.size());
  scan.segment_size = segment_size_;
  scan.min_offset = segments_.begin()->first;
  int64_t offset = from < 0 ? scan.min_offset : std::max(from, scan.min_offset);
  scan.end_offset = offset;
  constexpr size_t kWindow = 8 * 1024 * 1024;
  while (true) {
    auto seg = SegmentFor(offset);
    if (!seg.ok()) break;  // past the last segment: the log ended exactly at a segment end
    const int64_t base = (*seg)->base;
    size_t pos = static_cast<size_t>(offset - base);
    std::string buf;
    size_t buf_start = pos;
    bool next_segment = false, stop = false;
    while (!next_segment && !stop) {
      const size_t seg_left = static_cast<size_t>(segment_size_) - pos;
      size_t rel = pos - buf_start;
      if (rel + 8 > buf.size() && buf_start + buf.size() < static_cast<size_t>(segment_size_)) {
        FMQ_ASSIGN_OR_RETURN(buf, ReadSome(*(*seg)->file, pos, std::min(kWindow, seg_left)));
        buf_start = pos;
        rel = 0;
      }
      if (rel + 8 <= buf.size()) {
        const int32_t total = DecodeI32(reinterpret_cast<const uint8_t*>(buf.data()) + rel);
        if (total > 0 && static_cast<size_t>(total) <= seg_left &&
            rel + static_cast<size_t>(total) > buf.size()) {
          FMQ_ASSIGN_OR_RETURN(buf,
                               ReadSome(*(*seg)->file, pos, std::max(kWindow, static_cast<size_t>(total))));
          buf_start = pos;
          rel = 0;
        }
      }
      const size_t avail = buf.size() > rel ? buf.size() - rel : 0;
      CheckedRecord r = CheckRecord(reinterpret_cast<const uint8_t*>(buf.data()) + rel, seg_left, avail,
                                    base + static_cast<int64_t>(pos), /*check_crc=*/true);
      if (r.kind == RecordKind::kMessage) {
        ++scan.messages;
        scan.bytes += static_cast<int64_t>(r.size);
        if (scan.first_store_timestamp == 0) scan.first_store_timestamp = r.view.store_timestamp;
        scan.last_store_timestamp = r.view.store_timestamp;
        const int64_t phys = base + static_cast<int64_t>(pos);
        pos += r.size;
        scan.end_offset = base + static_cast<int64_t>(pos);
        if (fn && !fn(r.view, phys)) return scan;
      } else if (r.kind == RecordKind::kBlank) {
        next_segment = true;
        offset = base + segment_size_;
        scan.end_offset = offset;
      } else {
        // The valid data ends here. A clean end is zeros with nothing written after it in later segments.
        bool data_follows = r.problem != "end of data (zeros)";
        for (auto it = segments_.upper_bound(base); !data_follows && it != segments_.end(); ++it) {
          FMQ_ASSIGN_OR_RETURN(std::string head, ReadSome(*it->second->file, 0, 8));
          data_follows = head.size() == 8 && DecodeI32(reinterpret_cast<const uint8_t*>(head.data())) != 0;
        }
        if (data_follows) {
          scan.first_bad_offset = base + static_cast<int64_t>(pos);
          scan.first_bad_reason = r.problem;
        }
        stop = true;
      }
    }
    if (stop) break;
  }
  return scan;
}

Result<QueueCheck> StoreInspector::CheckQueue(const std::string& topic, int32_t queue_id,
                                              int64_t commit_log_min, ConsumeQueueReport* report) {
  QueueCheck q;
  q.topic = topic;
  q.queue_id = queue_id;
  auto problem = [&](std::string p) {
    ++report->problem_count;
    if (report->problems.size() < 100)
      report->problems.push_back(topic + ":" + std::to_string(queue_id) + " " + p);
  };
  const std::string dir =
      io::JoinPath(io::JoinPath(io::JoinPath(root_, "consumequeue"), topic), std::to_string(queue_id));
  FMQ_ASSIGN_OR_RETURN(auto names, fs_.ListDir(dir));
  bool first = true, ended = false;
  for (const auto& name : names) {
    int64_t base;
    if (name.size() != 20 || !ParseNumberName(name, &base) || ended) continue;
    FMQ_ASSIGN_OR_RETURN(auto file, fs_.Open(io::JoinPath(dir, name), io::OpenMode::kReadOnly));
    FMQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    FMQ_ASSIGN_OR_RETURN(std::string data, ReadSome(*file, 0, size));
    for (size_t pos = 0; pos + ConsumeQueue::kEntrySize <= data.size(); pos += ConsumeQueue::kEntrySize) {
      const auto* p = reinterpret_cast<const uint8_t*>(data.data()) + pos;
      const int64_t phys = DecodeI64(p);
      const int32_t msg_size = DecodeI32(p + 8);
      const int64_t tags_code = DecodeI64(p + 12);
      const int64_t logical = (base + static_cast<int64_t>(pos)) / int64_t{ConsumeQueue::kEntrySize};
      if (phys < 0 || msg_size <= 0) {
        ended = true;
        break;
      }
      q.max_offset = logical + 1;
      if (msg_size == ConsumeQueue::kFillerSize) continue;
      if (first) {
        q.min_offset = logical;
        first = false;
      }
      ++q.entries;
      if (phys < commit_log_min) {
        ++q.entries_below_commit_log;
        continue;
      }
      auto seg = SegmentFor(phys);
      if (!seg.ok()) {
        problem("offset " + std::to_string(logical) + " points at " + std::to_string(phys) +
                ", past the commit log");
        continue;
      }
      FMQ_ASSIGN_OR_RETURN(
          std::string rec,
          ReadSome(*(*seg)->file, static_cast<uint64_t>(phys - (*seg)->base), static_cast<size_t>(msg_size)));
      CheckedRecord r =
          CheckRecord(reinterpret_cast<const uint8_t*>(rec.data()),
                      static_cast<size_t>(segment_size_ - (phys - (*seg)->base)), rec.size(), phys, false);
      if (r.kind != RecordKind::kMessage || r.size != static_cast<size_t>(msg_size)) {
        problem("offset " + std::to_string(logical) + " points at " + std::to_string(phys) +
                " where there is no record of " + std::to_string(msg_size) + " bytes (" + r.problem + ")");
        continue;
      }
      // The default delay table: the inspector reads a store without its broker.conf.
      const int64_t want_tags = model::ConsumeQueueTagsCode(r.view.topic, r.view.properties,
                                                            r.view.store_timestamp, model::DelayLevels());
      if (r.view.topic != topic || r.view.queue_id.value() != queue_id ||
          r.view.queue_offset.value() != logical || want_tags != tags_code) {
        problem("offset " + std::to_string(logical) + " points at a record of " + std::string(r.view.topic) +
                ":" + std::to_string(r.view.queue_id.value()) + " queue offset " +
                std::to_string(r.view.queue_offset.value()) + " (tag code " + std::to_string(tags_code) +
                " vs " + std::to_string(want_tags) + ")");
      }
    }
  }
  return q;
}

Result<ConsumeQueueReport> StoreInspector::CheckConsumeQueues(int64_t commit_log_min) {
  ConsumeQueueReport report;
  const std::string root = io::JoinPath(root_, "consumequeue");
  if (!fs_.IsDirectory(root)) return report;
  FMQ_ASSIGN_OR_RETURN(auto topics, fs_.ListDir(root));
  for (const auto& topic : topics) {
    if (!fs_.IsDirectory(io::JoinPath(root, topic))) continue;
    FMQ_ASSIGN_OR_RETURN(auto queues, fs_.ListDir(io::JoinPath(root, topic)));
    for (const auto& q : queues) {
      int64_t qid;
      if (!ParseNumberName(q, &qid)) continue;
      FMQ_ASSIGN_OR_RETURN(QueueCheck check,
                           CheckQueue(topic, static_cast<int32_t>(qid), commit_log_min, &report));
      report.queues.push_back(std::move(check));
    }
  }
  return report;
}

Result<StoreSummary> StoreInspector::Summarize() {
  StoreSummary s;
  s.root = root_;
  const std::string identity = io::JoinPath(root_, "ferrymq-identity.json");
  if (fs_.Exists(identity)) {
    FMQ_ASSIGN_OR_RETURN(s.identity, io::ReadFileToString(fs_, identity));
  }
  s.abort_marker = fs_.Exists(io::JoinPath(root_, "abort"));
  const std::string cp = io::JoinPath(root_, "checkpoint");
  if (fs_.Exists(cp)) {
    FMQ_ASSIGN_OR_RETURN(auto f, fs_.Open(cp, io::OpenMode::kReadOnly));
    FMQ_ASSIGN_OR_RETURN(std::string b, ReadSome(*f, 0, 24));
    if (b.size() == 24) {
      const auto* p = reinterpret_cast<const uint8_t*>(b.data());
      s.checkpoint_physic = DecodeI64(p + StoreCheckpoint::kPhysicPos);
      s.checkpoint_logics = DecodeI64(p + StoreCheckpoint::kLogicsPos);
      s.checkpoint_index = DecodeI64(p + StoreCheckpoint::kIndexPos);
    }
  }
  // Only the newest written segment is scanned to find the end of data.
  int64_t from = segments_.begin()->first;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    FMQ_ASSIGN_OR_RETURN(std::string head, ReadSome(*it->second->file, 0, 8));
    if (head.size() == 8 && DecodeI32(reinterpret_cast<const uint8_t*>(head.data())) != 0) {
      from = it->first;
      break;
    }
  }
  FMQ_ASSIGN_OR_RETURN(s.commit_log, ScanCommitLog(from, nullptr));
  s.commit_log.min_offset = segments_.begin()->first;
  ConsumeQueueReport ignored;
  const std::string cq_root = io::JoinPath(root_, "consumequeue");
  if (fs_.IsDirectory(cq_root)) {
    FMQ_ASSIGN_OR_RETURN(auto topics, fs_.ListDir(cq_root));
    for (const auto& topic : topics) {
      auto queues = fs_.ListDir(io::JoinPath(cq_root, topic));
      if (!queues.ok()) continue;
      for (const auto& q : *queues) {
        int64_t qid;
        if (!ParseNumberName(q, &qid)) continue;
        // Entries only, without reading records: cheap enough for a summary.
        FMQ_ASSIGN_OR_RETURN(QueueCheck c, CheckQueue(topic, static_cast<int32_t>(qid), INT64_MAX, &ignored));
        s.queues.push_back(std::move(c));
      }
    }
  }
  const std::string index_dir = io::JoinPath(root_, "index");
  if (fs_.IsDirectory(index_dir)) {
    FMQ_ASSIGN_OR_RETURN(auto names, fs_.ListDir(index_dir));
    for (const auto& name : names) {
      FMQ_ASSIGN_OR_RETURN(auto f, fs_.Open(io::JoinPath(index_dir, name), io::OpenMode::kReadOnly));
      FMQ_ASSIGN_OR_RETURN(std::string h, ReadSome(*f, 0, IndexFile::kHeaderSize));
      if (h.size() != IndexFile::kHeaderSize) continue;
      const auto* p = reinterpret_cast<const uint8_t*>(h.data());
      s.index_files.push_back({name, DecodeI64(p), DecodeI64(p + 8), DecodeI64(p + 16), DecodeI64(p + 24),
                               DecodeI32(p + 32), DecodeI32(p + 36)});
    }
  }
  return s;
}

}  // namespace fmq::store
