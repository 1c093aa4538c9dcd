#include "broker/store/epoch_history.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"

namespace fmq::store {

Status ValidateEpochEntries(const std::vector<EpochEntry>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.epoch.value() <= 0)
      return Status::InvalidArgument("epoch " + std::to_string(e.epoch.value()) + " is not positive");
    if (e.start.value() < 0) return Status::InvalidArgument("epoch start offset is negative");
    if (i > 0 && (e.epoch <= entries[i - 1].epoch || e.start < entries[i - 1].start)) {
      return Status::InvalidArgument("epoch history out of order: " + FormatEpochs(entries));
    }
  }
  return Status::Ok();
}

std::string FormatEpochs(const std::vector<EpochEntry>& entries) {
  if (entries.empty()) return "(no epochs)";
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += ", ";
    out += "epoch " + std::to_string(e.epoch.value()) + " from " + std::to_string(e.start.value());
  }
  return out;
}

Result<PhysicalOffset> FindConsistentPoint(const std::vector<EpochEntry>& follower,
                                           PhysicalOffset follower_min, PhysicalOffset follower_max,
                                           const std::vector<EpochEntry>& leader, PhysicalOffset leader_max) {
  if (follower_max <= follower_min) return follower_max;  // nothing to keep, nothing to cut
  for (size_t i = follower.size(); i-- > 0;) {
    auto it = std::find(leader.begin(), leader.end(), follower[i]);
    if (it == leader.end()) continue;
    const PhysicalOffset end_f = i + 1 < follower.size() ? follower[i + 1].start : follower_max;
    const PhysicalOffset end_l = std::next(it) != leader.end() ? std::next(it)->start : leader_max;
    return std::min({end_f, end_l, follower_max});
  }
  return Status::FailedPrecondition("the logs share no epoch (this log: " + FormatEpochs(follower) +
                                    "; the master's: " + FormatEpochs(leader) + ")");
}

Result<std::unique_ptr<EpochHistory>> EpochHistory::Open(io::FileSystem& fs, std::string path) {
  std::vector<EpochEntry> entries;
  if (fs.Exists(path)) {
    FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs, path));
    const auto corrupt = [&](const std::string& why) {
      return Status::Corruption("epoch history " + path + " is unreadable (" + why +
                                "); it is rewritten from the master's when this broker follows one: stop "
                                "the broker, delete the file and start it as a slave");
    };
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j["epochs"].is_array())
      return corrupt("not a JSON object with epochs");
    for (const auto& e : j["epochs"]) {
      if (!e.is_object() || !e["epoch"].is_number_integer() || !e["startOffset"].is_number_integer())
        return corrupt("an entry lacks an integer epoch or startOffset");
      const int64_t epoch = e["epoch"].get<int64_t>();
      if (epoch <= 0 || epoch > INT32_MAX) return corrupt("epoch out of range");
      entries.push_back(
          {Epoch(static_cast<int32_t>(epoch)), PhysicalOffset(e["startOffset"].get<int64_t>())});
    }
    if (Status s = ValidateEpochEntries(entries); !s.ok()) return corrupt(std::string(s.message()));
  }
  return std::unique_ptr<EpochHistory>(new EpochHistory(fs, std::move(path), std::move(entries)));
}

std::vector<EpochEntry> EpochHistory::entries() const {
  MutexLock lock(&mu_);
  return entries_;
}

Epoch EpochHistory::LastEpoch() const {
  MutexLock lock(&mu_);
  return entries_.empty() ? Epoch(0) : entries_.back().epoch;
}

Status EpochHistory::Persist(const std::vector<EpochEntry>& entries) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : entries)
    list.push_back({{"epoch", e.epoch.value()}, {"startOffset", e.start.value()}});
  nlohmann::json doc = {{"epochs", list}};
  FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, path_, doc.dump(2) + "\n"));
  entries_ = entries;
  return Status::Ok();
}

Status EpochHistory::Append(EpochEntry entry) {
  MutexLock lock(&mu_);
  std::vector<EpochEntry> next = entries_;
  next.push_back(entry);
  if (Status s = ValidateEpochEntries(next); !s.ok()) return s;
  FMQ_RETURN_IF_ERROR(Persist(next));
  GetLogger("store")->info("epoch history appended epoch={} start={}", entry.epoch.value(),
                           entry.start.value());
  return Status::Ok();
}

Status EpochHistory::TruncateAfter(PhysicalOffset offset) {
  MutexLock lock(&mu_);
  std::vector<EpochEntry> next;
  for (const auto& e : entries_) {
    if (e.start <= offset) next.push_back(e);
  }
  if (next.size() == entries_.size()) return Status::Ok();
  return Persist(next);
}

Status EpochHistory::Reset(std::vector<EpochEntry> entries) {
  FMQ_RETURN_IF_ERROR(ValidateEpochEntries(entries));
  MutexLock lock(&mu_);
  if (entries == entries_) return Status::Ok();
  return Persist(entries);
}

}  // namespace fmq::store
