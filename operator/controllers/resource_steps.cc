#include "operator/controllers/resource_steps.h"

#include "broker/base/logging.h"
#include "broker/base/strings.h"
#include "operator/controllers/cluster_security.h"
#include "operator/model/cluster_resources.h"
#include "operator/model/cluster_status.h"

namespace fmq::op::controllers {

using nlohmann::json;

json InvolvedObject(std::string_view kind, const api::ObjectMeta& meta) {
  return {{"apiVersion", std::string(api::kApiVersion)},
          {"kind", std::string(kind)},
          {"metadata", {{"name", meta.name}, {"namespace", meta.namespace_}, {"uid", meta.uid}}}};
}

std::vector<std::string> ClusterGroupNames(const api::Cluster& cluster) {
  std::vector<std::string> out;
  for (int g = 0; g < cluster.spec.brokers.groups; ++g) out.push_back(model::BrokerGroupName(cluster, g));
  return out;
}

Status SetFinalizer(kube::Client& kube, const kube::ResourceKind& kind, const json& obj,
                    std::string_view finalizer, bool present) {
  api::ObjectMeta meta = api::MetaFromJson(obj);
  std::vector<std::string> finalizers;
  for (const auto& f : meta.finalizers) {
    if (f != finalizer) finalizers.push_back(f);
  }
  if (present) finalizers.push_back(std::string(finalizer));
  json patch = {{"metadata", {{"resourceVersion", meta.resource_version}, {"finalizers", finalizers}}}};
  return kube
      .Patch(kind, meta.namespace_, meta.name, kube::PatchType::kMerge, patch, {},
             {.field_manager = kFieldManager})
      .status();
}

std::optional<std::string> OlderClaimant(const ObjectReader& reader, const kube::ResourceKind& kind,
                                         const api::ObjectMeta& me, const api::ClusterRef& ref,
                                         const std::string& name, const Claim& claim) {
  for (const json& other : reader.List(kind, "")) {
    const api::ObjectMeta o = api::MetaFromJson(other);
    if (o.uid == me.uid) continue;
    auto c = claim(other);
    if (!c || c->second != name || c->first.name != ref.name || c->first.namespace_ != ref.namespace_)
      continue;
    if (std::tie(o.creation_timestamp, o.namespace_, o.name) <
        std::tie(me.creation_timestamp, me.namespace_, me.name))
      return o.Key();
  }
  return std::nullopt;
}

ClusterLookup LookupCluster(const ObjectReader& reader, const api::ClusterRef& ref) {
  ClusterLookup out;
  std::optional<json> obj = reader.Get(kube::kinds::kFerryCluster, ref.namespace_, ref.name);
  if (!obj) {
    out.reason = "ClusterNotFound";
    out.message = "Cluster " + ref.namespace_ + "/" + ref.name + " not found";
    return out;
  }
  auto cluster = api::ClusterFromJson(*obj);
  if (!cluster.ok()) {
    out.reason = "ClusterNotReady";
    out.message = "Cluster " + ref.namespace_ + "/" + ref.name + " has an invalid spec";
    return out;
  }
  out.cluster = std::move(*cluster);
  return out;
}

MastersView ConnectMasters(const Deps& d, const api::Cluster& cluster) {
  MastersView out;
  auto admin = ClusterAdmin(d, cluster);
  if (!admin.ok()) {
    out.reason = "ClusterNotReady";
    out.message = std::string(admin.status().message());
    return out;
  }
  out.admin = *admin;
  auto masters = RegisteredMasters(*out.admin, cluster.metadata.name);
  if (!masters.ok()) {
    out.reason = "ClusterNotReady";
    out.message = "name servers: " + std::string(masters.status().message());
    return out;
  }
  out.masters = std::move(*masters);
  return out;
}

Status WriteReadyStatus(const Deps& d, const StatusTarget& target, const json& obj, json status, bool ready,
                        const std::string& reason, const std::string& message,
                        const std::vector<api::Condition>& extra) {
  const api::ObjectMeta meta = api::MetaFromJson(obj);
  const json& live = obj.value("status", json::object());
  std::vector<api::Condition> before = api::ConditionsFromJson(live.value("conditions", json::array()));
  std::vector<api::Condition> conditions = before;
  api::SetCondition(
      &conditions,
      {"Ready", std::string(ready ? api::kTrue : api::kFalse), reason, message, "", meta.generation},
      std::chrono::system_clock::time_point(std::chrono::milliseconds(d.clock->NowMillis())));
  for (api::Condition c : extra) {
    c.observed_generation = meta.generation;
    api::SetCondition(&conditions, std::move(c),
                      std::chrono::system_clock::time_point(std::chrono::milliseconds(d.clock->NowMillis())));
  }
  status["conditions"] = api::ConditionsToJson(conditions);
  status["observedGeneration"] = meta.generation;
  // Equal both ways: a field the new status drops (a lastReset, a group) is a change too.
  if (model::IsSubset(status, live) && model::IsSubset(live, status)) return Status::Ok();
  json patch = {{"apiVersion", std::string(api::kApiVersion)},
                {"kind", std::string(target.kind_name)},
                {"metadata", {{"name", meta.name}, {"namespace", meta.namespace_}}},
                {"status", status}};
  FMQ_RETURN_IF_ERROR(
      d.kube
          ->ApplyStatus(*target.kind, meta.namespace_, patch, {.field_manager = kFieldManager, .force = true})
          .status());
  const api::Condition* old_ready = api::FindCondition(before, "Ready");
  const bool changed = old_ready == nullptr || old_ready->status != (ready ? api::kTrue : api::kFalse) ||
                       old_ready->reason != reason;
  if (changed && d.events != nullptr) {
    Status st = d.events->Record(InvolvedObject(target.kind_name, meta),
                                 ready ? kube::EventType::kNormal : kube::EventType::kWarning,
                                 ready ? std::string(target.synced_reason) : reason, message);
    if (!st.ok()) GetLogger("operator")->warn("cannot record event object={}: {}", meta.Key(), st.message());
  }
  return Status::Ok();
}

}  // namespace fmq::op::controllers
