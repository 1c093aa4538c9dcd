#pragma once

// Rolling a broker group with replicas without a write outage (docs/kubernetes.md, "Rolling changes"). Its
// StatefulSet uses updateStrategy OnDelete, so the StatefulSet controller never restarts a pod on a spec
// change; the operator does, one step per pass:
//
//   1. slaves first, one at a time, each only while every member is Ready and in sync with the master (a
//      slave that restarts leaves the in-sync set and must be back before the next one goes);
//   2. then a switchover hands the master role to an updated in-sync slave (planned: the master is fenced,
//      the target catches up to its final log end, then takes over; nothing acknowledged is lost);
//   3. then the old master, now a slave, restarts like the others, once the new master has served for
//      kRouteRefresh: producers keep sending to the old master's address until their next route refresh
//      (pollNameServerInterval, 30 s by default); until then it answers at once (SERVICE_NOT_AVAILABLE: the
//      client retries on another broker), but once its pod is gone its address answers nothing and every send
//      to it waits out the client's timeout (3 s), blocking the producer's threads meanwhile.
//
// Nothing moves while a member is missing, not Ready, being deleted or out of sync, or while no master serves
// (failover comes first). The switchover also waits until every name server has been Ready for
// kNameServerSettle: clients cache a name server's address (Java's networkaddress.cache.ttl, 30 s by
// default), so right after a name server was replaced (an image change rolls it too) they cannot ask it for
// routes, and a master that moved then would stay unknown to them until their cache expires. Groups roll one
// at a time (model::PlanBrokerRollout decides which StatefulSet is applied). Image, config, resources and
// flush-mode changes all take this path: they change the pod template.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fmq::op::model {

inline constexpr std::chrono::milliseconds kNameServerSettle{30'000};
// A client's route refresh (30 s) plus a margin for its scheduling.
inline constexpr std::chrono::milliseconds kRouteRefresh{35'000};

struct RollMember {
  std::string pod;
  bool exists = false;    // the pod exists
  bool ready = false;     // and is Ready
  bool deleting = false;  // it has a deletionTimestamp
  bool updated = false;   // it runs the StatefulSet's update revision
};

struct RollDecision {
  enum class Kind {
    kDone,        // every member runs the update revision
    kWait,        // not safe to take a step now (see message)
    kRestart,     // delete `pod` (a slave): the StatefulSet controller recreates it at the update revision
    kSwitchover,  // make `pod` (an updated in-sync slave) the master, planned
  };
  Kind kind = Kind::kDone;
  std::string pod;
  std::string message;
};

// `members` in ordinal order; `master` the serving master's pod (empty: none); `in_sync` the pods the master
// counts in sync, itself included; `name_servers_ready_for` how long every name server has been Ready (the
// shortest; negative: one is not Ready); `master_serving_for` how long `master` has served its epoch
// (negative: unknown, taken as long enough).
RollDecision DecideGroupRoll(const std::vector<RollMember>& members, const std::string& master,
                             const std::vector<std::string>& in_sync,
                             std::chrono::milliseconds name_servers_ready_for,
                             std::chrono::milliseconds master_serving_for);

}  // namespace fmq::op::model
