#pragma once

// Steps the reconcilers of cluster-scoped resources (Topic, ConsumerGroup) share: find the Cluster a resource
// refers to, reach its masters, keep a finalizer, write status with its Ready condition only when it changed,
// and name the resource in Events.
//
// Thread-safety: stateless functions; safe from any worker.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/client/admin.h"
#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"

namespace fmq::op::controllers {

// The involvedObject of an Event about a ferrymq.io resource of `kind`.
nlohmann::json InvolvedObject(std::string_view kind, const api::ObjectMeta& meta);

// The broker group names (brokerNames) of a Cluster, in order.
std::vector<std::string> ClusterGroupNames(const api::Cluster& cluster);

// Adds or removes `finalizer`; the merge patch carries the object's resourceVersion, so it is a
// compare-and-swap and another writer's finalizer is never lost.
Status SetFinalizer(kube::Client& kube, const kube::ResourceKind& kind, const nlohmann::json& obj,
                    std::string_view finalizer, bool present);

// What a resource claims: the broker-side name (topic, group) on a Cluster; empty when the object cannot be
// read.
using Claim = std::function<std::optional<std::pair<api::ClusterRef, std::string>>(const nlohmann::json&)>;

// One resource of a kind per (Cluster, broker-side name): the oldest (creation time, then namespace and name)
// wins. Returns the key of an older object of `kind` with the same claim as `me`, or nullopt when `me` wins.
std::optional<std::string> OlderClaimant(const ObjectReader& reader, const kube::ResourceKind& kind,
                                         const api::ObjectMeta& me, const api::ClusterRef& ref,
                                         const std::string& name, const Claim& claim);

// Where a resource's Cluster stands. `reason` empty: usable. Otherwise the Ready=False reason
// (ClusterNotFound, ClusterNotReady) and message.
struct ClusterLookup {
  std::optional<api::Cluster> cluster;
  std::string reason;
  std::string message;
};
ClusterLookup LookupCluster(const ObjectReader& reader, const api::ClusterRef& ref);

// The admin client of a Cluster's name servers and brokerName -> master address of its registered groups.
// `reason` empty: usable; otherwise ClusterNotReady and why.
struct MastersView {
  std::shared_ptr<client::Admin> admin;
  std::map<std::string, std::string> masters;
  std::string reason;
  std::string message;
};
MastersView ConnectMasters(const Deps& d, const api::Cluster& cluster);

// Writes `status` (the kind's status JSON) with Ready set from (ready, reason, message), the `extra`
// conditions (each kept with its transition time while its status stays) and observedGeneration, through
// /status, only when it differs from what the object has; records an Event when Ready's status or reason
// changed (`synced_reason` names the Normal one).
struct StatusTarget {
  const kube::ResourceKind* kind;
  std::string_view kind_name;      // "Topic"
  std::string_view synced_reason;  // the Event reason when Ready becomes True: "TopicSynced"
};
Status WriteReadyStatus(const Deps& d, const StatusTarget& target, const nlohmann::json& obj,
                        nlohmann::json status, bool ready, const std::string& reason,
                        const std::string& message, const std::vector<api::Condition>& extra = {});

}  // namespace fmq::op::controllers
