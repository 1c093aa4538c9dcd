#pragma once

// Scaling in: a broker group beyond spec.brokers.groups leaves the cluster without losing what nobody
// consumed yet (docs/kubernetes.md, "Scaling in"). The highest groups leave; one step per pass:
//
//   1. mark: the group's StatefulSet gets the annotation ferrymq.io/scale-in-since (when it started leaving);
//      its ConfigMap gets brokerPermission=4 so a restarted member comes back read-only;
//   2. read-only: every member that answers and still has write permission gets brokerPermission=4
//      (UPDATE_BROKER_CONFIG; it re-registers read-only, producers move to the other groups, a send that
//      still arrives is refused with NO_PERMISSION and retried elsewhere by the client); consumers keep
//      pulling from it; retries, delays, timers and transactions it holds still run;
//   3. drain: removed once its master counts no backlog (server/backlog.h: every queue consumed by the groups
//      that consume it, retry, delay and timer queues included), nothing waits for dispatch, and it has been
//      read-only for kScaleInSettle (sends that passed the permission check before it changed are stored and
//      counted by then). Policy Expire also removes it once it has been read-only for the brokers'
//      fileReservedTime (retention would have deleted everything on it); the force annotation at once;
//   4. remove: highest group first; StatefulSet, Services, PDB, ConfigMaps, HA record and volumes are
//   deleted.
//
// A member that does not answer cannot be made read-only now; its ConfigMap makes it read-only when it
// restarts, and the backlog must come from a master that answers (unknown is never taken as zero).
//
// Pure functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fmq::op::model {

inline constexpr std::chrono::milliseconds kScaleInSettle{10'000};
inline constexpr int32_t kReadOnlyPermission = 4;   // PERM_READ
inline constexpr int32_t kReadWritePermission = 6;  // PERM_READ | PERM_WRITE

struct LeavingMember {
  std::string pod;
  std::string address;     // ip:port; empty: the pod has no IP
  bool answered = false;   // its runtime info was read
  int32_t permission = 0;  // brokerPermission it reports
  bool master = false;     // it serves as master (not a slave, not fenced)
  int64_t backlog = -1;    // backlogMessages it reports
  std::string backlog_topics;
  int64_t dispatch_behind = 0;  // dispatchBehindBytes
};

struct LeavingGroup {
  int index = 0;
  std::string name;
  std::string since;  // the StatefulSet's ferrymq.io/scale-in-since; empty: not marked yet
  std::vector<LeavingMember> members;
  bool higher_group_present = false;  // a leaving group with a higher index still exists
};

struct ScaleInPolicy {
  std::string policy = "Drain";  // Drain | Expire
  bool forced = false;           // ferrymq.io/force-scale-in
  int64_t file_reserved_ms = 72LL * 3600 * 1000;
};

struct ScaleInDecision {
  enum class Action {
    kMark,          // annotate the StatefulSet with `since` (now) and make its ConfigMap read-only
    kMakeReadOnly,  // brokerPermission=4 on `addresses`
    kWait,          // see phase and message
    kRemove,        // delete the group's objects
  };
  Action action = Action::kWait;
  std::vector<std::string> addresses;
  std::string phase;  // ReadOnly | Draining | WaitingForHigherGroup | Removing
  std::string message;
  int64_t backlog = -1;  // the master's count; -1 unknown
  std::string backlog_topics;
  bool discards = false;  // removal drops messages not consumed (forced or expired), or an unknown backlog
};

ScaleInDecision DecideScaleIn(const LeavingGroup& g, const ScaleInPolicy& p, int64_t now_ms);

// A group whose scale-in was called off (spec.brokers.groups grew again before it was removed) serves
// writes again: the members that answer without write permission get brokerPermission=6 (its ConfigMap is
// re-rendered writable with the other objects). Returns their addresses; empty once every member that
// answers is writable, and the StatefulSet's scale-in-since annotation can go.
std::vector<std::string> MembersToMakeWritable(const std::vector<LeavingMember>& members);

// The group index of a broker StatefulSet named "<cluster>-broker-<i>"; nullopt for any other name.
std::optional<int> BrokerGroupIndex(const std::string& cluster, const std::string& name);

// The fileReservedTime (hours) of spec.brokers.config in milliseconds; 72 hours when unset or unreadable.
int64_t FileReservedMillis(const std::string& configured_hours);

}  // namespace fmq::op::model
