#pragma once

// RollStep: the Cluster reconciler's step that rolls a broker group with replicas after its StatefulSet's pod
// template changed (image, config, resources, flush mode), without a write outage: observe the members (pod,
// Ready, revision) and the failover step's view of the master and the in-sync set; decide with
// model::DecideGroupRoll (slaves first, each only while all are in sync; then a switchover, once every name
// server has been Ready for 30 s; then the old master); act (delete one pod, or client::Switchover); report
// with an Event per step. The StatefulSet uses updateStrategy OnDelete, so nothing else restarts these pods.
//
// Thread-safety: a function; safe from any worker.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/client/admin.h"
#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"
#include "operator/model/cluster_status.h"

namespace fmq::op::controllers {

// `sts`: the group's StatefulSet as the apiserver has it (null: not created yet). Returns true while the
// group is being rolled (look again soon).
bool RollStep(const Deps& deps, const api::Cluster& cluster, int group, const nlohmann::json* sts,
              const std::vector<nlohmann::json>& pods, const model::ObservedCluster::GroupHa& ha,
              client::Admin& admin, const nlohmann::json& involved);

}  // namespace fmq::op::controllers
