#include "operator/model/failover.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "broker/base/strings.h"

namespace fmq::op::model {

using nlohmann::json;

std::string EncodeHaRecord(const HaRecord& r) {
  json j = {{"epoch", r.epoch},
            {"master", r.master},
            {"inSync", r.in_sync},
            {"logEnds", r.log_ends},
            {"lastFailover", r.last_failover},
            {"failovers", r.failovers}};
  if (!r.master_since.empty()) j["masterSince"] = r.master_since;
  if (r.pending_epoch != 0) j["pending"] = {{"epoch", r.pending_epoch}, {"master", r.pending_master}};
  return j.dump();
}

namespace {

Status Bad(const std::string& field, const std::string& what) {
  return Status::InvalidArgument("HA record: " + field + " " + what);
}

Status ReadInt32(const json& j, const char* key, int32_t* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX)
    return Bad(key, "must be a non-negative 32-bit integer, got " + it->dump());
  *out = it->get<int32_t>();
  return Status::Ok();
}

Status ReadString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_string()) return Bad(key, "must be a string, got " + it->dump());
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

Result<HaRecord> DecodeHaRecord(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("HA record: not a JSON object");
  HaRecord r;
  FMQ_RETURN_IF_ERROR(ReadInt32(j, "epoch", &r.epoch));
  FMQ_RETURN_IF_ERROR(ReadString(j, "master", &r.master));
  FMQ_RETURN_IF_ERROR(ReadString(j, "lastFailover", &r.last_failover));
  FMQ_RETURN_IF_ERROR(ReadString(j, "masterSince", &r.master_since));
  if (auto it = j.find("inSync"); it != j.end()) {
    if (!it->is_array()) return Bad("inSync", "must be a list of pod names");
    for (const auto& p : *it) {
      if (!p.is_string()) return Bad("inSync", "must be a list of pod names, got " + p.dump());
      r.in_sync.push_back(p.get<std::string>());
    }
    std::sort(r.in_sync.begin(), r.in_sync.end());
  }
  if (auto it = j.find("logEnds"); it != j.end()) {
    if (!it->is_object()) return Bad("logEnds", "must map pod names to offsets");
    for (auto e = it->begin(); e != it->end(); ++e) {
      if (!e.value().is_number_integer() || e.value().get<int64_t>() < 0)
        return Bad("logEnds." + e.key(), "must be a non-negative offset, got " + e.value().dump());
      r.log_ends[e.key()] = e.value().get<int64_t>();
    }
  }
  if (auto it = j.find("failovers"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return Bad("failovers", "must be a non-negative count, got " + it->dump());
    r.failovers = it->get<int64_t>();
  }
  if (auto it = j.find("pending"); it != j.end()) {
    if (!it->is_object()) return Bad("pending", "must be an object {epoch, master}");
    FMQ_RETURN_IF_ERROR(ReadInt32(*it, "epoch", &r.pending_epoch));
    FMQ_RETURN_IF_ERROR(ReadString(*it, "master", &r.pending_master));
    if (r.pending_epoch == 0 || r.pending_master.empty())
      return Bad("pending", "needs a positive epoch and a master pod");
  }
  return r;
}

ProbeState AfterProbe(ProbeState s, bool ok, int64_t now_ms, const std::string& error) {
  if (ok) return ProbeState{};
  if (s.consecutive_failures == 0) s.first_failure_ms = now_ms;
  ++s.consecutive_failures;
  s.last_error = error;
  return s;
}

bool MasterFailed(const ProbeState& p, bool master_pod_ready, const Detection& d, int64_t now_ms) {
  return !master_pod_ready && p.consecutive_failures >= d.failed_probes &&
         now_ms - p.first_failure_ms >= d.window.count();
}

namespace {

bool IsMaster(const MemberView& m) { return m.reachable && m.writable && m.role != "SLAVE"; }

std::string Seconds(int64_t ms) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << static_cast<double>(ms) / 1000.0 << " s";
  return s.str();
}

std::string Join(const std::vector<std::string>& v) { return v.empty() ? "none" : JoinStrings(v, ", "); }

// Adopt `live` as the group's master: record its epoch, in-sync set and every reachable log end; a claim it
// satisfies is finished; a change of master counts as a failover.
HaRecord Adopt(const HaRecord& record, const MemberView& live, const std::vector<MemberView>& members,
               const std::string& now) {
  HaRecord r = record;
  std::vector<std::string> in_sync = live.in_sync_slaves;
  in_sync.push_back(live.pod);
  std::sort(in_sync.begin(), in_sync.end());
  in_sync.erase(std::unique(in_sync.begin(), in_sync.end()), in_sync.end());
  r.in_sync = in_sync;
  if (live.pod != record.master || live.epoch != record.epoch) {
    // A failover is a promotion this record claimed; a switchover (planned, or by hand) only moves the
    // master.
    if (!record.master.empty() && live.pod != record.master && record.pending_epoch != 0) {
      ++r.failovers;
      r.last_failover = now;
    }
    r.epoch = live.epoch;
    r.master = live.pod;
    r.master_since = now;
    r.log_ends.clear();
    for (const auto& m : members) {
      if (m.reachable) r.log_ends[m.pod] = m.log_end;
    }
  }
  if (r.pending_epoch != 0 && live.epoch >= r.pending_epoch) {
    r.pending_epoch = 0;
    r.pending_master.clear();
  }
  return r;
}

}  // namespace

FailoverDecision DecideFailover(const HaRecord& record, const std::vector<MemberView>& members,
                                const ProbeState& probe, const FailoverPolicy& policy, int64_t now_ms,
                                const std::string& now) {
  using Kind = FailoverDecision::Kind;
  FailoverDecision d;
  d.record = record;

  const MemberView* live = nullptr;
  int32_t highest_epoch = std::max(record.epoch, record.pending_epoch);
  for (const auto& m : members) {
    if (m.reachable) highest_epoch = std::max(highest_epoch, m.epoch);
    if (IsMaster(m) && (live == nullptr || m.epoch > live->epoch)) live = &m;
  }

  // A writable master below the group's epoch (a replaced master that came back and was not fenced yet):
  // it must follow the group's master before anything else.
  const int32_t group_epoch = std::max(record.epoch, live != nullptr ? live->epoch : 0);
  for (const auto& m : members) {
    if (!IsMaster(m) || m.epoch >= group_epoch) continue;
    const bool live_is_current = live != nullptr && live->epoch >= record.epoch;
    d.kind = Kind::kDemote;
    d.target = m.pod;
    d.master = live_is_current ? live->pod : record.master;
    d.epoch = group_epoch;
    d.reason = "StaleMaster";
    d.message = m.pod + " takes writes as master of epoch " + std::to_string(m.epoch) +
                ", below the group's epoch " + std::to_string(group_epoch) + ": making it follow " + d.master;
    return d;
  }

  // A claim above the master that serves: either the claimed failover had begun (a member is fenced above
  // that master, which can then gather no acknowledgements from it) and is finished below, or it never
  // touched a broker and the recorded master came back: the claim is dropped.
  bool abandoned = false;
  if (live != nullptr && record.pending_epoch != 0 && live->epoch < record.pending_epoch) {
    bool begun = false;
    for (const auto& m : members) begun = begun || (m.reachable && m.epoch > live->epoch);
    if (begun) {
      live = nullptr;
    } else {
      abandoned = true;
    }
  }

  if (live != nullptr) {
    d.record = Adopt(record, *live, members, now);
    if (abandoned) {
      d.record.pending_epoch = 0;
      d.record.pending_master.clear();
      d.restore_write_perm = true;
    }
    d.write_record = !(d.record == record);
    d.kind = Kind::kHealthy;
    d.epoch = live->epoch;
    d.master = live->pod;
    if (abandoned) {
      d.reason = "FailoverAbandoned";
      d.message = live->pod + " serves epoch " + std::to_string(live->epoch) + " again before the failover " +
                  "claimed at epoch " + std::to_string(record.pending_epoch) + " (to " +
                  record.pending_master +
                  ") touched any broker: the claim is dropped and the group's write permission restored on " +
                  "the name servers";
    } else if (live->pod != record.master && !record.master.empty()) {
      d.reason = "MasterChanged";
      d.message = live->pod + " is master of epoch " + std::to_string(live->epoch) + " (was " +
                  record.master + " of epoch " + std::to_string(record.epoch) + ")";
    } else {
      d.reason = "MasterServing";
      d.message = live->pod + " is master of epoch " + std::to_string(live->epoch) +
                  "; in sync: " + Join(d.record.in_sync);
    }
    return d;
  }

  // No writable master.
  if (record.master.empty() && record.pending_epoch == 0) {
    d.kind = Kind::kWaiting;
    d.reason = "WaitingForMaster";
    d.message = "no master has served this group yet";
    return d;
  }

  auto find = [&](const std::string& pod) -> const MemberView* {
    for (const auto& m : members) {
      if (m.pod == pod) return &m;
    }
    return nullptr;
  };

  // A claim found unfinished (the operator that made it stopped, or its failover failed): finish it.
  if (record.pending_epoch != 0) {
    if (const MemberView* t = find(record.pending_master); t != nullptr && t->reachable) {
      d.kind = Kind::kPromote;
      d.target = t->pod;
      d.epoch = record.pending_epoch;
      d.reason = "FailingOver";
      d.message = "finishing the failover claimed at epoch " + std::to_string(record.pending_epoch) +
                  ": promoting " + t->pod + " (log end " + std::to_string(t->log_end) + ")";
      return d;
    }
  }

  const MemberView* master = find(record.master);
  const bool master_ready = master != nullptr && master->pod_ready;
  if (record.pending_epoch == 0 && !MasterFailed(probe, master_ready, policy.detection, now_ms)) {
    d.kind = Kind::kSuspect;
    d.reason = "MasterUnavailable";
    if (probe.consecutive_failures == 0) {
      d.message = record.master + " answers but takes no writes (role " + (master ? master->role : "?") +
                  ", epoch " + std::to_string(master ? master->epoch : 0) + "): not a failure, no failover";
    } else {
      d.message = record.master + " has not answered " + std::to_string(probe.consecutive_failures) +
                  " probe(s) over " + Seconds(now_ms - probe.first_failure_ms) + " (" + probe.last_error +
                  "); ";
      d.message += master_ready ? "its pod is Ready, so it is not failed over"
                                : "it fails over after " + std::to_string(policy.detection.failed_probes) +
                                      " probes over " + Seconds(policy.detection.window.count()) +
                                      " while its pod is not Ready";
    }
    return d;
  }

  // The master failed (or a claim's target is gone): the in-sync slave with the longest log.
  const MemberView* best = nullptr;
  std::vector<std::string> unreachable_in_sync;
  for (const auto& m : members) {
    if (m.pod == record.master) continue;
    const bool in_sync = std::binary_search(record.in_sync.begin(), record.in_sync.end(), m.pod);
    if (!m.reachable) {
      if (in_sync) unreachable_in_sync.push_back(m.pod);
      continue;
    }
    if (!in_sync && !policy.unclean) continue;
    if (best == nullptr || m.log_end > best->log_end) best = &m;
  }
  if (best == nullptr) {
    d.kind = Kind::kNoCandidate;
    d.reason = "NoInSyncSlave";
    std::vector<std::string> others;
    for (const auto& p : record.in_sync) {
      if (p != record.master) others.push_back(p);
    }
    d.message =
        "master " + record.master +
        " failed and no in-sync slave can be promoted (in sync at the last look: " + Join(others) +
        "; unreachable: " + Join(unreachable_in_sync) +
        "); the group takes no writes until its master returns or one of them does "
        "(spec.brokers.replication.uncleanFailover: true promotes the longest log of any member and may "
        "lose acknowledged messages)";
    return d;
  }
  d.kind = Kind::kPromote;
  d.target = best->pod;
  d.epoch = highest_epoch + 1;
  d.record.pending_epoch = d.epoch;
  d.record.pending_master = best->pod;
  d.write_record = true;
  d.reason = "FailingOver";
  const bool in_sync = std::binary_search(record.in_sync.begin(), record.in_sync.end(), best->pod);
  d.message = "master " + record.master + " failed (" + std::to_string(probe.consecutive_failures) +
              " failed probes over " + Seconds(now_ms - probe.first_failure_ms) + ": " + probe.last_error +
              "; pod not Ready): promoting " + best->pod + " (log end " + std::to_string(best->log_end) +
              (in_sync ? ", in sync" : ", NOT in sync: unclean failover") + ") at epoch " +
              std::to_string(d.epoch);
  return d;
}

}  // namespace fmq::op::model
