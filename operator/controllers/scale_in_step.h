#pragma once

// ScaleInStep: the Cluster reconciler's step for broker groups leaving the cluster (spec.brokers.groups
// decreased; docs/kubernetes.md "Scaling in"). Per leaving group, highest first: observe (its StatefulSet's
// scale-in-since annotation, every member's runtime info: brokerPermission, role, backlogMessages,
// dispatchBehindBytes), decide with model::DecideScaleIn, act (mark the StatefulSet and make its ConfigMap
// read-only; UPDATE_BROKER_CONFIG brokerPermission=4 on members that still take writes and wipe the group's
// write permission on the name servers; or delete the group's objects and volumes), report (an Event per
// step and status.brokerGroups[].scaleIn).
//
// Thread-safety: a function; safe from any worker.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/client/admin.h"
#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"
#include "operator/model/cluster_status.h"

namespace fmq::op::controllers {

struct ScaleInOutcome {
  std::vector<api::BrokerGroupStatus> leaving;  // one entry per group still leaving
  bool busy = false;                            // a group is leaving: look again soon
};

// Also calls a scale-in off: a group back within spec.brokers.groups whose StatefulSet still carries the
// scale-in-since annotation gets its members writable again, then loses the annotation.
// `leaving`: indexes of the groups beyond spec.brokers.groups whose StatefulSet exists (in `statefulsets`);
// `admin` may be null (the name servers' client could not be made: backlogs stay unknown).
ScaleInOutcome ScaleInStep(const Deps& deps, const api::Cluster& cluster, const std::vector<int>& leaving,
                           const std::map<std::string, nlohmann::json>& statefulsets,
                           const std::vector<nlohmann::json>& pods,
                           const std::map<std::string, model::ObservedCluster::GroupHa>& ha,
                           client::Admin* admin, const nlohmann::json& involved);

}  // namespace fmq::op::controllers
