#include "operator/model/scale_in.h"

#include <algorithm>
#include <charconv>

#include "broker/base/time_codec.h"

namespace fmq::op::model {

ScaleInDecision DecideScaleIn(const LeavingGroup& g, const ScaleInPolicy& p, int64_t now_ms) {
  ScaleInDecision d;
  if (g.since.empty()) {
    d.action = ScaleInDecision::Action::kMark;
    d.phase = "ReadOnly";
    d.message = g.name + " leaves the cluster: it turns read-only";
    return d;
  }
  for (const LeavingMember& m : g.members) {
    if (m.answered && (m.permission & 2) != 0 && !m.address.empty()) d.addresses.push_back(m.address);
  }
  if (!d.addresses.empty()) {
    d.action = ScaleInDecision::Action::kMakeReadOnly;
    d.phase = "ReadOnly";
    d.message = "withdrawing write permission from " + g.name;
    return d;
  }
  const LeavingMember* master = nullptr;
  for (const LeavingMember& m : g.members) {
    if (m.answered && m.master) master = &m;
  }
  if (master != nullptr) {
    d.backlog = master->backlog;
    d.backlog_topics = master->backlog_topics;
  }
  auto since = ParseRfc3339Micros(g.since);
  const int64_t since_ms = since.ok() ? *since / 1000 : now_ms;  // unreadable: as if it started now
  const int64_t read_only_for = now_ms - since_ms;
  const bool drained = master != nullptr && master->backlog == 0 && master->dispatch_behind == 0 &&
                       read_only_for >= kScaleInSettle.count();
  const bool expired = p.policy == "Expire" && read_only_for >= p.file_reserved_ms;

  auto remove = [&](std::string why) {
    if (g.higher_group_present) {
      d.action = ScaleInDecision::Action::kWait;
      d.phase = "WaitingForHigherGroup";
      d.message = why + "; groups are removed highest first";
      return d;
    }
    d.action = ScaleInDecision::Action::kRemove;
    d.phase = "Removing";
    d.message = std::move(why);
    d.discards = !drained;
    return d;
  };
  if (drained) return remove("every message on " + g.name + " was consumed");
  if (p.forced) {
    return remove("forced (ferrymq.io/force-scale-in): " +
                  (d.backlog < 0 ? std::string("its backlog is unknown") + " and is discarded"
                                 : std::to_string(d.backlog) + " messages not consumed are discarded"));
  }
  if (expired) {
    return remove(
        "read-only for the brokers' fileReservedTime (policy Expire): " +
        (d.backlog < 0 ? std::string("what it still holds") : std::to_string(d.backlog) + " messages") +
        " would have expired");
  }
  d.action = ScaleInDecision::Action::kWait;
  d.phase = "Draining";
  if (master == nullptr) {
    d.message = "waiting for " + g.name + "'s master to answer: its backlog is unknown";
  } else if (read_only_for < kScaleInSettle.count() ||
             (master->backlog == 0 && master->dispatch_behind > 0)) {
    d.message = g.name + " is read-only; letting what was in flight settle";
  } else {
    d.message = std::to_string(master->backlog) + " messages on " + g.name + " not consumed yet (" +
                master->backlog_topics + "); consumers drain it" +
                (p.policy == "Expire" ? ", or they expire (policy Expire)" : "") +
                "; the annotation ferrymq.io/force-scale-in=\"true\" removes it anyway";
  }
  return d;
}

std::vector<std::string> MembersToMakeWritable(const std::vector<LeavingMember>& members) {
  std::vector<std::string> out;
  for (const LeavingMember& m : members) {
    if (m.answered && (m.permission & 2) == 0 && !m.address.empty()) out.push_back(m.address);
  }
  return out;
}

std::optional<int> BrokerGroupIndex(const std::string& cluster, const std::string& name) {
  const std::string prefix = cluster + "-broker-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  int v = 0;
  const char* b = name.data() + prefix.size();
  const char* e = name.data() + name.size();
  if (*b < '0' || *b > '9') return std::nullopt;  // from_chars would take a sign: "c-broker--0" is no group
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || ptr != e || (*b == '0' && e - b > 1)) return std::nullopt;
  return v;
}

int64_t FileReservedMillis(const std::string& configured_hours) {
  int64_t h = 0;
  const char* b = configured_hours.data();
  const char* e = b + configured_hours.size();
  auto [ptr, ec] = std::from_chars(b, e, h);
  if (configured_hours.empty() || ec != std::errc() || ptr != e || h <= 0) h = 72;
  return std::min<int64_t>(h, 1'000'000) * 3600 * 1000;  // the broker's own limit is far below
}

}  // namespace fmq::op::model
