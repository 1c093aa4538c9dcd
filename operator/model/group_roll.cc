#include "operator/model/group_roll.h"

#include <algorithm>

namespace fmq::op::model {

RollDecision DecideGroupRoll(const std::vector<RollMember>& members, const std::string& master,
                             const std::vector<std::string>& in_sync,
                             std::chrono::milliseconds name_servers_ready_for,
                             std::chrono::milliseconds master_serving_for) {
  using Kind = RollDecision::Kind;
  auto wait = [](std::string message) { return RollDecision{Kind::kWait, "", std::move(message)}; };
  if (std::all_of(members.begin(), members.end(),
                  [](const RollMember& m) { return m.exists && m.updated && !m.deleting; })) {
    return {Kind::kDone, "", "every member runs the update revision"};
  }
  for (const RollMember& m : members) {
    if (!m.exists) return wait("waiting for " + m.pod + " to be created");
    if (m.deleting) return wait("waiting for " + m.pod + " to be deleted");
    if (!m.ready) return wait("waiting for " + m.pod + " to be Ready");
  }
  if (master.empty()) return wait("no master serves the group: the rolling update waits for it");
  auto synced = [&](const std::string& pod) {
    return std::find(in_sync.begin(), in_sync.end(), pod) != in_sync.end();
  };
  for (const RollMember& m : members) {
    if (!synced(m.pod)) return wait("waiting for " + m.pod + " to be in sync with the master " + master);
  }
  // Slaves first, the highest ordinal first (the order a StatefulSet rolls in).
  for (auto it = members.rbegin(); it != members.rend(); ++it) {
    if (it->pod != master && !it->updated) {
      if (master_serving_for.count() >= 0 && master_serving_for < kRouteRefresh) {
        return wait("waiting until the master " + master + " has served for " +
                    std::to_string(kRouteRefresh.count() / 1000) + " s before restarting " + it->pod +
                    " (producers send to the previous master until their next route refresh)");
      }
      return {Kind::kRestart, it->pod,
              "restarting the slave " + it->pod + " (every member in sync with the master " + master + ")"};
    }
  }
  // Only the master is left: hand its role to an updated slave first, once clients can ask every name server
  // where it went.
  if (name_servers_ready_for < kNameServerSettle) {
    return wait(name_servers_ready_for.count() < 0
                    ? std::string("waiting for every name server to be Ready before the switchover")
                    : "waiting until every name server has been Ready for " +
                          std::to_string(kNameServerSettle.count() / 1000) +
                          " s before the switchover (clients cache a name server's address that long)");
  }
  for (const RollMember& m : members) {
    if (m.pod != master && m.updated) {
      return {Kind::kSwitchover, m.pod,
              "switching the master role from " + master + " to the updated in-sync slave " + m.pod +
                  " before " + master + " restarts"};
    }
  }
  return wait("no updated slave to hand the master role to");
}

}  // namespace fmq::op::model
