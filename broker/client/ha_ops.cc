#include "broker/client/ha_ops.h"

#include <algorithm>
#include <future>
#include <set>

#include "broker/base/poll.h"

namespace fmq::client {

namespace {

bool IsMaster(const model::HaStatusBody& s) { return s.role == "SYNC_MASTER" || s.role == "ASYNC_MASTER"; }

// The highest epoch any reachable member knows of.
int32_t HighestEpoch(const std::vector<HaMember>& members) {
  int32_t e = 0;
  for (const auto& m : members) {
    if (!m.reachable.ok()) continue;
    e = std::max({e, m.status.epoch, m.status.promised_epoch, m.status.master_epoch});
    if (!m.status.epochs.empty()) e = std::max(e, m.status.epochs.back().epoch);
  }
  return e;
}

// The lowest broker id >= 1 not in `used`.
int64_t FreeId(std::set<int64_t>& used) {
  int64_t id = 1;
  while (used.count(id)) ++id;
  used.insert(id);
  return id;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Makes every member but `master` follow it at `epoch`; slaves keep their ids, others get free ones.
void FollowNewMaster(Admin& admin, const std::vector<HaMember>& members, const model::HaStatusBody& master,
                     int32_t epoch, std::set<int64_t> used, HaOperationReport* report) {
  for (const auto& m : members) {
    if (!m.reachable.ok() || m.address == master.address) continue;
    used.insert(m.status.broker_id);
  }
  for (const auto& m : members) {
    if (!m.reachable.ok() || m.address == master.address) continue;
    const int64_t id = m.status.broker_id >= 1 ? m.status.broker_id : FreeId(used);
    Status s = admin.HaBecomeSlave(m.address, master.address, master.ha_address, epoch, id);
    if (s.ok()) {
      report->followers.push_back(m.address);
    } else {
      report->notes.push_back(m.address + " did not follow the new master: " + std::string(s.message()));
      report->complete = false;
    }
  }
}

}  // namespace

Result<std::vector<HaMember>> HaGroup(Admin& admin, const std::string& broker_name,
                                      const std::vector<std::string>& extra,
                                      const std::vector<std::string>& known_unreachable) {
  std::vector<std::string> addrs;
  auto info = admin.GetClusterInfo();
  if (info.ok()) {
    if (auto it = info->broker_addr_table.find(broker_name); it != info->broker_addr_table.end()) {
      for (const auto& [id, addr] : it->second.broker_addrs) addrs.push_back(addr);
    }
  }
  for (const auto& a : extra) {
    if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
  }
  if (addrs.empty()) {
    return Status::NotFound(
        "no member of broker group '" + broker_name + "' is known" +
        (info.ok() ? " to the name servers" : " (name servers: " + info.status().ToString() + ")") +
        "; name the members with --member host:port");
  }
  // Asked at once: an unreachable member costs one timeout, not one per member.
  std::vector<std::future<Result<model::HaStatusBody>>> answers;
  for (const auto& a : addrs) {
    const bool skip =
        std::find(known_unreachable.begin(), known_unreachable.end(), a) != known_unreachable.end();
    answers.push_back(std::async(std::launch::async, [&admin, a, skip]() -> Result<model::HaStatusBody> {
      if (skip) return Status::Unavailable("did not answer the caller just before");
      return admin.HaStatus(a);
    }));
  }
  std::vector<HaMember> members;
  for (size_t i = 0; i < addrs.size(); ++i) {
    HaMember m;
    m.address = addrs[i];
    auto st = answers[i].get();
    if (st.ok()) {
      m.status = std::move(*st);
      if (m.status.broker_name != broker_name) {
        m.reachable = Status::FailedPrecondition("it belongs to broker group '" + m.status.broker_name + "'");
      }
    } else {
      m.reachable = st.status();
    }
    members.push_back(std::move(m));
  }
  return members;
}

Result<HaOperationReport> Failover(Admin& admin, const std::string& broker_name, const FailoverOptions& o) {
  const int64_t start = NowMs();
  FMQ_ASSIGN_OR_RETURN(auto members, HaGroup(admin, broker_name, o.members, o.known_unreachable));
  HaOperationReport r;
  int reachable = 0;
  for (const auto& m : members) {
    if (!m.reachable.ok()) {
      r.unreachable.push_back(m.address + " (" + std::string(m.reachable.message()) + ")");
      continue;
    }
    ++reachable;
    if (IsMaster(m.status) && !m.status.fenced && !o.unclean) {
      return Status::FailedPrecondition(
          "broker " + m.address + " is the writable master of epoch " + std::to_string(m.status.epoch) +
          ": a failover would replace a live master; use `ferryctl ha switchover`");
    }
    r.min_in_sync_replicas = std::max(r.min_in_sync_replicas, m.status.min_in_sync_replicas);
  }
  r.group_size = o.group_size > 0 ? o.group_size : static_cast<int>(members.size());
  const int w = std::max(1, r.min_in_sync_replicas);
  r.quorum = std::max(1, r.group_size - w + 1);
  if (r.min_in_sync_replicas == 0) {
    r.notes.push_back(
        "no member reports minInSyncReplicas (an ASYNC_MASTER group): messages only the old master "
        "held are lost");
  }
  if (reachable < r.quorum && !o.unclean) {
    return Status::FailedPrecondition(
        "only " + std::to_string(reachable) + " of " + std::to_string(r.group_size) + " members of " +
        broker_name + " are reachable; with minInSyncReplicas=" + std::to_string(w) + " at least " +
        std::to_string(r.quorum) +
        " must be fenced so that the new master surely holds every acknowledged message and the old one can "
        "acknowledge no more. Nothing was changed. Bring members back, or pass --unclean to accept losing "
        "messages");
  }
  r.epoch = HighestEpoch(members) + 1;
  std::vector<HaMember> fenced;
  for (auto& m : members) {
    if (!m.reachable.ok()) continue;
    auto st = admin.HaFence(m.address, r.epoch);
    if (!st.ok()) {
      r.notes.push_back(m.address + " could not be fenced: " + std::string(st.status().message()));
      continue;
    }
    m.status = std::move(*st);
    r.fenced.push_back(m.address);
    fenced.push_back(m);
  }
  if (static_cast<int>(fenced.size()) < r.quorum && !o.unclean) {
    return Status::FailedPrecondition("fenced " + std::to_string(fenced.size()) + " of the " +
                                      std::to_string(r.quorum) + " members needed at epoch " +
                                      std::to_string(r.epoch) +
                                      "; they stay fenced (no master takes writes). "
                                      "Run the failover again once members are reachable");
  }
  if (fenced.empty()) return Status::Unavailable("no member of " + broker_name + " could be fenced");
  auto longest = std::max_element(fenced.begin(), fenced.end(), [](const HaMember& a, const HaMember& b) {
    return a.status.complete_end < b.status.complete_end;
  });
  const HaMember* target = &*longest;
  if (!o.target.empty()) {
    auto it =
        std::find_if(fenced.begin(), fenced.end(), [&](const HaMember& m) { return m.address == o.target; });
    if (it == fenced.end()) return Status::NotFound("the target " + o.target + " is not a fenced member");
    if (it->status.complete_end < longest->status.complete_end && !o.unclean) {
      return Status::FailedPrecondition("the target " + o.target + " holds the log up to " +
                                        std::to_string(it->status.complete_end) + " but " + longest->address +
                                        " holds it up to " + std::to_string(longest->status.complete_end) +
                                        ": promote that one, or pass --unclean to lose the difference");
    }
    target = &*it;
  }
  FMQ_RETURN_IF_ERROR(admin.HaPromote(target->address, r.epoch, o.role));
  r.promoted = target->address;
  r.promoted_end = target->status.complete_end;
  std::set<int64_t> used = {0};
  FMQ_ASSIGN_OR_RETURN(auto promoted_status, admin.HaStatus(target->address));
  FollowNewMaster(admin, fenced, promoted_status, r.epoch, used, &r);
  r.millis = NowMs() - start;
  return r;
}

Result<HaOperationReport> Switchover(Admin& admin, const std::string& broker_name, const std::string& target,
                                     std::chrono::milliseconds catch_up_timeout) {
  const int64_t start = NowMs();
  FMQ_ASSIGN_OR_RETURN(auto members, HaGroup(admin, broker_name));
  const HaMember* master = nullptr;
  const HaMember* slave = nullptr;
  for (const auto& m : members) {
    if (!m.reachable.ok()) continue;
    if (IsMaster(m.status) && !m.status.fenced) master = &m;
    if (m.address == target) slave = &m;
  }
  if (!master)
    return Status::FailedPrecondition("broker group " + broker_name + " has no live master to hand over");
  if (!slave)
    return Status::NotFound("the target " + target + " is not a reachable member of " + broker_name);
  if (slave == master) return Status::InvalidArgument(target + " is the master already");
  if (slave->status.copy_state != "copying") {
    return Status::FailedPrecondition("the target " + target + " is not copying from the master (" +
                                      slave->status.copy_state + " " + slave->status.copy_error + ")");
  }
  HaOperationReport r;
  r.epoch = HighestEpoch(members) + 1;
  r.group_size = static_cast<int>(members.size());
  r.min_in_sync_replicas = master->status.min_in_sync_replicas;
  // 1. The master stops taking writes; its log end is final.
  FMQ_ASSIGN_OR_RETURN(auto fenced_master, admin.HaFence(master->address, r.epoch));
  r.fenced.push_back(master->address);
  const int64_t end = fenced_master.complete_end;
  // 2. The target catches up to it.
  int64_t reached = 0;
  const bool caught_up = PollUntil(
      [&] {
        auto st = admin.HaStatus(target);
        if (st.ok()) reached = st->complete_end;
        return st.ok() && st->complete_end >= end;
      },
      catch_up_timeout, std::chrono::milliseconds(20));
  if (!caught_up) {
    Status resumed = admin.HaPromote(master->address, r.epoch, master->status.role);
    return Status::DeadlineExceeded(
        "the target " + target + " reached " + std::to_string(reached) + " of the master's " +
        std::to_string(end) + " within " + std::to_string(catch_up_timeout.count()) +
        " ms; switchover aborted, " +
        (resumed.ok() ? "the old master takes writes again as master of epoch " + std::to_string(r.epoch)
                      : "and the old master could not resume: " + resumed.ToString()));
  }
  // 3. The target becomes master; everyone else follows it.
  FMQ_RETURN_IF_ERROR(admin.HaPromote(target, r.epoch, master->status.role));
  r.promoted = target;
  r.promoted_end = end;
  FMQ_ASSIGN_OR_RETURN(auto promoted_status, admin.HaStatus(target));
  std::set<int64_t> used = {0, slave->status.broker_id};
  // The old master takes the target's old id.
  Status s = admin.HaBecomeSlave(master->address, promoted_status.address, promoted_status.ha_address,
                                 r.epoch, slave->status.broker_id);
  if (s.ok()) {
    r.followers.push_back(master->address);
  } else {
    r.notes.push_back(master->address + " did not follow the new master: " + std::string(s.message()));
    r.complete = false;
  }
  std::vector<HaMember> others;
  for (const auto& m : members) {
    if (m.address != master->address) others.push_back(m);
  }
  FollowNewMaster(admin, others, promoted_status, r.epoch, used, &r);
  r.millis = NowMs() - start;
  return r;
}

}  // namespace fmq::client
