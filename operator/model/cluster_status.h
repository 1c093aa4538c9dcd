#pragma once

// Pure computation of a Cluster's status from what the controller observed in one pass: the owned
// StatefulSets and pods (from the informer caches), the outcome of applying the desired objects, and the
// name servers' and brokers' own answers. Conditions follow operators.md 4.5:
//
// * ResourcesSynced: every owned object applied for this generation (False: InvalidSpec, terminal;
//   ApplyFailed).
// * Available: the name servers answer and every broker group has a master that is registered with them,
//   ready, and answering admin calls itself (GET_BROKER_RUNTIME_INFO).
// * Progressing: objects are being created or a rollout is under way (False: reason Complete).
// * Degraded: rolled out, but pods are not ready, e.g. a crashed broker (False: reason Healthy).
// * Ready: ResourcesSynced and Available and not Progressing and not Degraded.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/types.h"

namespace fmq::op::model {

struct ObservedCluster {
  // Non-empty: the spec could not be acted on (terminal until a new generation).
  std::string invalid_spec;
  // Non-empty: applying an owned object failed this pass.
  std::string apply_error;
  // Non-empty: a Secret spec.security names is missing or incomplete (the pods cannot start).
  std::string security_error;
  // Owned StatefulSets by name, as the apiserver has them.
  std::map<std::string, nlohmann::json> statefulsets;
  // Pods of this cluster.
  std::vector<nlohmann::json> pods;
  // Groups whose update waits for an earlier group's rollout.
  std::vector<std::string> held_back;
  bool name_servers_answered = false;
  std::string name_server_error;
  // brokerName -> master address, from the name servers.
  std::map<std::string, std::string> registered_masters;
  // brokerName -> why its master did not answer an admin call.
  std::map<std::string, std::string> broker_errors;
  // brokerName -> what the failover step saw and did (groups with replicas only; model/failover.h).
  struct GroupHa {
    std::string master;  // pod; empty: no master serves
    int32_t epoch = 0;
    std::vector<std::string> in_sync;
    std::string last_failover;
    int64_t failovers = 0;
    std::string state;         // the decision's reason
    std::string message;       // the decision's message, or what acting on it failed with
    std::string master_since;  // RFC 3339, when the HA record first saw this master serve this epoch
  };
  std::map<std::string, GroupHa> ha;
  // Groups leaving the cluster (spec.brokers.groups decreased), as the scale-in step reports them
  // (controllers/scale_in_step.h); appended to status.brokerGroups.
  std::vector<api::BrokerGroupStatus> leaving;
  // spec.probe: the last outcome of the operator's dial test (controllers/probe_runner.h); nullopt until the
  // first one finished.
  struct Probe {
    bool ok = false;
    std::string message;
  };
  std::optional<Probe> probe;
};

api::ClusterStatus ComputeClusterStatus(const api::Cluster& cluster, const ObservedCluster& observed,
                                        std::chrono::system_clock::time_point now);

// True when the StatefulSet's controller has rolled out its latest spec to every replica and all are ready.
bool StatefulSetRolledOut(const nlohmann::json& sts);
// True when the StatefulSet's latest spec is on every replica (readiness aside).
bool StatefulSetUpdated(const nlohmann::json& sts);
bool PodReady(const nlohmann::json& pod);
// The string at `p` in an apiserver object; empty when it is missing or not a string.
std::string StrAt(const nlohmann::json& j, const nlohmann::json::json_pointer& p);

// Broker groups roll one at a time: a group's StatefulSet whose spec changed is applied only while every
// earlier group has rolled out (and no earlier group is being updated in this pass); the others are held back
// and reported by Progressing. New StatefulSets are always created. `desired` is in group order.
struct RolloutPlan {
  std::vector<std::string> apply;      // StatefulSets to apply now (created or updated)
  std::vector<std::string> held_back;  // changed, waiting for an earlier group
};
RolloutPlan PlanBrokerRollout(const std::vector<nlohmann::json>& desired,
                              const std::map<std::string, nlohmann::json>& live);

// True when every field of `desired` has the same value in `live` (objects recursively, arrays element by
// element with equal length). Fields the apiserver defaulted in `live` do not matter, so a controller can
// skip a server-side apply that would change nothing and a converged pass writes nothing.
bool IsSubset(const nlohmann::json& desired, const nlohmann::json& live);

}  // namespace fmq::op::model
