#include "operator/controllers/scale_in_step.h"

#include <algorithm>

#include "broker/base/logging.h"
#include "broker/base/properties.h"
#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "operator/kube/errors.h"
#include "operator/model/cluster_resources.h"
#include "operator/model/scale_in.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;

int64_t NumberOr(const std::map<std::string, std::string>& kv, const char* key, int64_t fallback) {
  auto it = kv.find(key);
  int64_t v = 0;
  return it != kv.end() && ParsePropertyNumber(key, it->second, &v).ok() ? v : fallback;
}

// The members' view: one entry per pod of the group, with its runtime info where it answered.
std::vector<model::LeavingMember> ObserveMembers(const std::string& group, const std::vector<json>& pods,
                                                 client::Admin* admin) {
  std::vector<model::LeavingMember> members;
  const std::string prefix = group + "-";
  for (const json& p : pods) {
    const std::string pod = model::StrAt(p, "/metadata/name"_json_pointer);
    if (pod.rfind(prefix, 0) != 0 || pod.find('-', prefix.size()) != std::string::npos) continue;
    model::LeavingMember m;
    m.pod = pod;
    const std::string ip = model::StrAt(p, "/status/podIP"_json_pointer);
    if (!ip.empty()) m.address = ip + ":" + std::to_string(model::kBrokerPort);
    if (admin != nullptr && !m.address.empty() && model::PodReady(p)) {
      auto kv = admin->BrokerRuntimeInfo(m.address);
      if (kv.ok()) {
        m.answered = true;
        m.permission = static_cast<int32_t>(NumberOr(*kv, "brokerPermission", 6));
        m.master = kv->count("brokerRole") && kv->at("brokerRole") != "SLAVE" &&
                   (!kv->count("haFenced") || kv->at("haFenced") != "true");
        m.backlog = NumberOr(*kv, "backlogMessages", -1);
        m.backlog_topics = kv->count("backlogTopics") ? kv->at("backlogTopics") : "";
        m.dispatch_behind = NumberOr(*kv, "dispatchBehindBytes", 0);
      }
    }
    members.push_back(std::move(m));
  }
  return members;
}

}  // namespace

ScaleInOutcome ScaleInStep(const Deps& d, const api::Cluster& c, const std::vector<int>& leaving_in,
                           const std::map<std::string, json>& statefulsets, const std::vector<json>& pods,
                           const std::map<std::string, model::ObservedCluster::GroupHa>& ha,
                           client::Admin* admin, const json& involved) {
  ScaleInOutcome out;
  auto log = GetLogger("operator");
  const std::string& ns = c.metadata.namespace_;
  const std::string since_key(api::kScaleInSinceAnnotation);
  auto since_of = [&](const json& sts) {
    const json annotations = sts.value("metadata", json::object()).value("annotations", json::object());
    auto a = annotations.find(since_key);
    return a != annotations.end() && a->is_string() ? a->get<std::string>() : std::string();
  };
  // Called off: groups within spec.brokers.groups again that still carry the annotation.
  for (int index = 0; index < c.spec.brokers.groups; ++index) {
    const std::string name = model::BrokerGroupName(c, index);
    auto sts = statefulsets.find(name);
    if (sts == statefulsets.end() || since_of(sts->second).empty()) continue;
    out.busy = true;
    if (admin == nullptr) continue;  // nobody can be asked: the annotation stays until they can
    std::vector<std::string> addresses = model::MembersToMakeWritable(ObserveMembers(name, pods, admin));
    for (const std::string& addr : addresses) {
      Status st = admin->UpdateBrokerConfig(
          addr, {{"brokerPermission", std::to_string(model::kReadWritePermission)}});
      if (!st.ok())
        log->warn("scale-in of {}/{} called off: cannot make {} writable: {}", ns, name, addr, st.message());
    }
    if (!addresses.empty()) continue;  // the next pass checks they took it
    json patch = {{"metadata", {{"annotations", {{since_key, nullptr}}}}}};
    auto patched = d.kube->Patch(kube::kinds::kStatefulSet, ns, name, kube::PatchType::kMerge, patch);
    if (!patched.ok()) {
      log->warn("scale-in of {}/{} called off: cannot remove {}: {}", ns, name, since_key,
                patched.status().message());
      continue;
    }
    log->info("scale-in of {}/{} called off: it serves writes again", ns, name);
    if (d.events != nullptr) {
      (void)d.events->Record(involved, kube::EventType::kNormal, "ScaleInCancelled",
                             name + " is part of the cluster again (spec.brokers.groups) and serves writes");
    }
  }
  if (leaving_in.empty()) return out;
  out.busy = true;
  std::vector<int> leaving = leaving_in;
  std::sort(leaving.rbegin(), leaving.rend());  // highest first
  const int64_t now_ms = d.clock->NowMillis();
  model::ScaleInPolicy policy;
  policy.policy = c.spec.brokers.scale_in_policy;
  policy.forced = c.metadata.AnnotationTrue(api::kForceScaleInAnnotation);
  if (auto it = c.spec.brokers.config.find("fileReservedTime"); it != c.spec.brokers.config.end()) {
    policy.file_reserved_ms = model::FileReservedMillis(it->second);
  }
  auto event = [&](bool warning, const char* reason, const std::string& message) {
    if (d.events == nullptr) return;
    Status st = d.events->Record(involved, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                                 reason, message);
    if (!st.ok()) log->warn("cannot record event reason={}: {}", reason, st.message());
  };

  bool higher_present = false;
  for (int index : leaving) {
    model::LeavingGroup g;
    g.index = index;
    g.name = model::BrokerGroupName(c, index);
    g.higher_group_present = higher_present;
    higher_present = true;
    auto sts = statefulsets.find(g.name);
    if (sts == statefulsets.end()) continue;
    g.since = since_of(sts->second);
    g.members = ObserveMembers(g.name, pods, admin);
    const model::ScaleInDecision decision = model::DecideScaleIn(g, policy, now_ms);

    api::BrokerGroupStatus status;
    status.name = g.name;
    status.master = g.name + "-0";
    if (auto h = ha.find(g.name); h != ha.end()) {
      status.master = h->second.master;
      status.epoch = h->second.epoch;
      status.in_sync = h->second.in_sync;
      status.failover_state = h->second.state;
      status.failover_message = h->second.message;
    }
    for (const json& p : pods) {
      if (model::StrAt(p, "/metadata/name"_json_pointer) == status.master) status.ready = model::PodReady(p);
    }
    status.scale_in = {decision.phase, g.since.empty() ? FormatRfc3339(now_ms) : g.since, decision.backlog,
                       decision.backlog_topics, decision.message};

    // The ConfigMap keeps a restarted member read-only, from the first step on.
    const json read_only_cm = model::BrokerConfigMap(c, index, /*read_only=*/true);
    auto live_cm = d.reader->Get(kube::kinds::kConfigMap, ns, g.name + "-config");
    if (decision.action != model::ScaleInDecision::Action::kRemove &&
        (!live_cm || !model::IsSubset(read_only_cm, *live_cm))) {
      auto applied = d.kube->ApplyForcingConflicts(kube::kinds::kConfigMap, ns, read_only_cm, kFieldManager);
      if (!applied.ok()) {
        log->warn("scale-in group={}/{}: cannot make its ConfigMap read-only: {}", ns, g.name,
                  applied.status().message());
      }
    }
    switch (decision.action) {
      case model::ScaleInDecision::Action::kMark: {
        json patch = {
            {"metadata",
             {{"annotations", {{std::string(api::kScaleInSinceAnnotation), FormatRfc3339(now_ms)}}}}}};
        auto patched = d.kube->Patch(kube::kinds::kStatefulSet, ns, g.name, kube::PatchType::kMerge, patch);
        if (!patched.ok()) {
          status.scale_in.message =
              "cannot mark " + g.name + " as leaving: " + std::string(patched.status().message());
          break;
        }
        log->info("scale-in group={}/{}: {}", ns, g.name, decision.message);
        event(false, "ScaleInStarted",
              g.name +
                  " leaves the cluster: it turns read-only and is removed once nothing on it is left "
                  "unconsumed (policy " +
                  policy.policy + ")");
        break;
      }
      case model::ScaleInDecision::Action::kMakeReadOnly: {
        std::vector<std::string> failed;
        for (const std::string& addr : decision.addresses) {
          Status st = admin->UpdateBrokerConfig(
              addr, {{"brokerPermission", std::to_string(model::kReadOnlyPermission)}});
          if (!st.ok()) failed.push_back(addr + ": " + std::string(st.message()));
        }
        auto wiped = admin->SetWritePermInNameServers(g.name, false);
        if (!wiped.ok()) failed.push_back("name servers: " + std::string(wiped.status().message()));
        if (!failed.empty()) {
          status.scale_in.message = "cannot make " + g.name + " read-only: " + JoinStrings(failed, "; ");
          log->warn("scale-in group={}/{}: {}", ns, g.name, status.scale_in.message);
        } else {
          log->info("scale-in group={}/{}: read-only on {}", ns, g.name,
                    JoinStrings(decision.addresses, ", "));
          event(false, "ScaleInReadOnly",
                g.name + " is read-only: producers send to the other groups, consumers drain it");
        }
        break;
      }
      case model::ScaleInDecision::Action::kWait:
        break;
      case model::ScaleInDecision::Action::kRemove: {
        log->info("scale-in group={}/{}: removing: {}", ns, g.name, decision.message);
        std::vector<std::string> failed;
        auto remove = [&](const kube::ResourceKind& kind, const std::string& name) {
          kube::DeleteOptions opts;
          opts.propagation_policy = "Background";
          Status st = d.kube->Delete(kind, ns, name, opts);
          if (!st.ok() && !kube::IsNotFound(st))
            failed.push_back(kind.kind + " " + name + ": " + std::string(st.message()));
        };
        // The StatefulSet goes last: while it exists the group is still seen as leaving, so a removal that
        // failed half way is finished by a later pass. Volumes in use stay until their pods are gone.
        std::string selector;
        const json labels = model::SelectorLabels(c, "broker", g.name);
        for (auto it = labels.begin(); it != labels.end(); ++it) {
          selector += (selector.empty() ? "" : ",") + it.key() + "=" + it.value().get<std::string>();
        }
        auto pvcs = d.kube->List(kube::kinds::kPersistentVolumeClaim, ns, {.label_selector = selector});
        if (!pvcs.ok()) {
          failed.push_back("volumes: " + std::string(pvcs.status().message()));
        } else {
          for (const json& pvc : pvcs->items) {
            remove(kube::kinds::kPersistentVolumeClaim, model::StrAt(pvc, "/metadata/name"_json_pointer));
          }
        }
        remove(kube::kinds::kPodDisruptionBudget, g.name);
        remove(kube::kinds::kService, g.name);
        remove(kube::kinds::kService, g.name + "-client");
        remove(kube::kinds::kConfigMap, g.name + "-config");
        remove(kube::kinds::kConfigMap, model::HaRecordName(c, index));
        if (failed.empty()) remove(kube::kinds::kStatefulSet, g.name);
        if (!failed.empty()) {
          status.scale_in.message = "removing " + g.name + ": " + JoinStrings(failed, "; ");
          log->warn("scale-in group={}/{}: {}", ns, g.name, status.scale_in.message);
          break;
        }
        event(decision.discards, decision.discards ? "BrokerGroupRemovedWithBacklog" : "BrokerGroupRemoved",
              g.name + " removed with its volumes: " + decision.message);
        continue;  // gone: no status entry
      }
    }
    out.leaving.push_back(std::move(status));
  }
  std::reverse(out.leaving.begin(), out.leaving.end());  // ascending, like the serving groups
  return out;
}

}  // namespace fmq::op::controllers
