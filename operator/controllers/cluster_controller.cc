#include "operator/controllers/cluster_controller.h"

#include <algorithm>

#include "broker/base/logging.h"
#include "operator/api/types.h"
#include "operator/controllers/cluster_security.h"
#include "operator/controllers/roll_step.h"
#include "operator/controllers/scale_in_step.h"
#include "operator/model/cluster_status.h"
#include "operator/model/scale_in.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kRecheckHealthy{30'000};
constexpr milliseconds kRecheckNotReady{5'000};

std::string Name(const json& obj) { return obj["metadata"]["name"].get<std::string>(); }

// Events for condition transitions between the status the apiserver has and the one just computed.
void RecordTransitions(kube::EventRecorder* events, const json& involved, const api::ClusterStatus& before,
                       const api::ClusterStatus& after) {
  if (events == nullptr) return;
  auto status_of = [](const api::ClusterStatus& s, const char* type) {
    const api::Condition* c = api::FindCondition(s.conditions, type);
    return c ? c->status : std::string(api::kUnknown);
  };
  auto message_of = [](const api::ClusterStatus& s, const char* type) {
    const api::Condition* c = api::FindCondition(s.conditions, type);
    return c ? c->message : std::string();
  };
  auto log = GetLogger("operator");
  auto record = [&](kube::EventType type, const char* reason, const std::string& message) {
    Status st = events->Record(involved, type, reason, message);
    if (!st.ok())
      log->warn("cannot record event reason={} cluster={}: {}", reason, KeyOf(involved), st.message());
  };
  if (status_of(before, "Ready") != status_of(after, "Ready")) {
    if (status_of(after, "Ready") == api::kTrue) {
      record(kube::EventType::kNormal, "ClusterReady", message_of(after, "Ready"));
    } else if (status_of(before, "Ready") == api::kTrue) {
      record(kube::EventType::kWarning, "ClusterNotReady", message_of(after, "Ready"));
    }
  }
  if (status_of(before, "Degraded") != api::kTrue && status_of(after, "Degraded") == api::kTrue) {
    record(kube::EventType::kWarning, "Degraded", message_of(after, "Degraded"));
  }
  if (status_of(before, "ResourcesSynced") != status_of(after, "ResourcesSynced") &&
      status_of(after, "ResourcesSynced") == api::kFalse) {
    const api::Condition* c = api::FindCondition(after.conditions, "ResourcesSynced");
    record(kube::EventType::kWarning, c->reason.c_str(), c->message);
  }
}

}  // namespace

ClusterReconciler::ClusterReconciler(Deps deps, ClusterOptions options)
    : d_(deps),
      failover_(deps, options.detection, options.metrics, options.exit_after_failover_claim),
      probes_(options.probes) {}

Outcome ClusterReconciler::Reconcile(const std::string& key) {
  auto log = GetLogger("operator");
  const auto [ns, name] = SplitKey(key);
  std::optional<json> obj = d_.reader->Get(kube::kinds::kFerryCluster, ns, name);
  if (!obj) {
    d_.admins->Release(key);  // deleted: garbage collection removes what it owned; its admin client goes
    if (probes_ != nullptr) probes_->Remove(key);
    return {};
  }

  model::ObservedCluster observed;
  api::Cluster cluster;
  auto parsed = api::ClusterFromJson(*obj);
  if (parsed.ok()) {
    cluster = std::move(*parsed);
  } else {
    cluster.metadata = api::MetaFromJson(*obj);
    if (obj->contains("status")) cluster.status = api::ClusterStatusFromJson((*obj)["status"]);
    observed.invalid_spec = std::string(parsed.status().message());
  }
  const json involved = {{"apiVersion", std::string(api::kApiVersion)},
                         {"kind", "Cluster"},
                         {"metadata", {{"name", name}, {"namespace", ns}, {"uid", cluster.metadata.uid}}}};

  bool urgent = false;  // a group with replicas is not healthy: look again within the probe period
  bool scaling_in = false;
  std::vector<int> leaving;  // groups beyond spec.brokers.groups whose StatefulSet still exists
  if (observed.invalid_spec.empty()) {
    // spec.security: the credentials Secret the pods mount exists before they are applied; a TLS Secret that
    // is missing or incomplete is reported (the pods wait for it to mount).
    if (cluster.spec.security.acl_enabled) {
      auto creds = EnsureCredentials(*d_.kube, cluster);
      if (!creds.ok()) observed.apply_error = std::string(creds.status().message());
    }
    if (cluster.spec.security.tls.enabled()) {
      if (Status st = CheckTlsSecret(*d_.kube, cluster); !st.ok()) observed.security_error = st.message();
    }
    std::vector<json> desired = model::DesiredObjects(cluster, d_.options);
    // Broker StatefulSets roll one group at a time.
    std::vector<json> broker_sets;
    std::map<std::string, json> live_sets;
    for (const json& d : desired) {
      if (d["kind"] != "StatefulSet") continue;
      if (auto live = d_.reader->Get(kube::kinds::kStatefulSet, ns, Name(d))) live_sets[Name(d)] = *live;
      if (Name(d) != model::NameServerName(cluster)) broker_sets.push_back(d);
    }
    model::RolloutPlan plan = model::PlanBrokerRollout(broker_sets, live_sets);
    observed.held_back = plan.held_back;
    auto in = [](const std::vector<std::string>& v, const std::string& s) {
      return std::find(v.begin(), v.end(), s) != v.end();
    };
    for (const json& d : desired) {
      const kube::ResourceKind* kind = KindOf(d);
      const std::string n = Name(d);
      if (kind == &kube::kinds::kStatefulSet && n != model::NameServerName(cluster) && !in(plan.apply, n))
        continue;
      std::optional<json> live = kind == &kube::kinds::kStatefulSet && live_sets.count(n)
                                     ? std::optional<json>(live_sets[n])
                                     : d_.reader->Get(*kind, ns, n);
      if (live && model::IsSubset(d, *live)) continue;
      std::string conflict;
      auto applied = d_.kube->ApplyForcingConflicts(*kind, ns, d, kFieldManager, &conflict);
      if (!applied.ok()) {
        if (observed.apply_error.empty()) {
          observed.apply_error = kind->kind + " " + n + ": " + std::string(applied.status().message());
        }
        log->warn("apply failed cluster={} object={}/{}: {}", key, kind->kind, n, applied.status().message());
        continue;
      }
      log->info("applied cluster={} object={}/{}{}", key, kind->kind, n, live ? " (updated)" : " (created)");
      if (!conflict.empty() && d_.events != nullptr) {
        (void)d_.events->Record(
            involved, kube::EventType::kWarning, "FieldConflict",
            kind->kind + " " + n + ": took over fields from another manager: " + conflict);
      }
      if (kind == &kube::kinds::kStatefulSet) live_sets[n] = *applied;
    }
    // Groups beyond spec.brokers.groups whose StatefulSet still exists are leaving the cluster (scale-in).
    for (const json& s :
         d_.reader->List(kube::kinds::kStatefulSet, ns, {{"app.kubernetes.io/instance", name}})) {
      auto index = model::BrokerGroupIndex(name, Name(s));
      if (!index || *index < cluster.spec.brokers.groups) continue;
      leaving.push_back(*index);
      live_sets[Name(s)] = s;
    }
    std::sort(leaving.begin(), leaving.end());
    observed.statefulsets = std::move(live_sets);
    observed.pods = d_.reader->List(kube::kinds::kPod, ns, {{"app.kubernetes.io/instance", name}});

    auto admin = ClusterAdmin(d_, cluster, key);
    if (!admin.ok()) {
      observed.name_server_error = std::string(admin.status().message());
    } else {
      auto masters = RegisteredMasters(**admin, name);
      if (masters.ok()) {
        observed.name_servers_answered = true;
        observed.registered_masters = std::move(*masters);
        // The brokers' own answer: the name servers keep listing a dead master until it expires (2 minutes).
        // Groups with replicas: the failover step below asks every member itself.
        for (const auto& [group, addr] : observed.registered_masters) {
          if (cluster.spec.brokers.replicas_per_group > 1) continue;
          auto info = (*admin)->BrokerRuntimeInfo(addr);
          if (!info.ok()) observed.broker_errors[group] = std::string(info.status().message());
        }
      } else {
        observed.name_server_error = std::string(masters.status().message());
      }
      // spec.probe: the dial test runs in the background (probe_runner.h) with this admin client; its last
      // outcome is the ProbeSucceeded condition.
      if (probes_ != nullptr && cluster.spec.probe.enabled) {
        ProbeTarget t;
        t.ns = ns;
        t.cluster = name;
        t.topic = cluster.spec.probe.topic;
        t.message_size = cluster.spec.probe.message_size;
        t.interval = cluster.spec.probe.interval;
        for (int g = 0; g < cluster.spec.brokers.groups; ++g)
          t.groups.push_back(model::BrokerGroupName(cluster, g));
        t.admin = *admin;
        probes_->Set(key, std::move(t));
      }
      // Groups with replicas: the failover step (it talks to the members, not the name servers); leaving
      // groups keep it until they are removed.
      if (cluster.spec.brokers.replicas_per_group > 1) {
        std::vector<int> groups;
        for (int g = 0; g < cluster.spec.brokers.groups; ++g) groups.push_back(g);
        groups.insert(groups.end(), leaving.begin(), leaving.end());
        for (int g : groups) {
          const std::string group = model::BrokerGroupName(cluster, g);
          FailoverStep::Outcome ha = failover_.Run(cluster, g, observed.pods, **admin, involved);
          urgent = urgent || ha.urgent;
          // A changed pod template rolls through slaves and a switchover, once the master serves.
          auto sts = observed.statefulsets.find(group);
          if (!ha.urgent && g < cluster.spec.brokers.groups) {
            urgent = RollStep(d_, cluster, g, sts == observed.statefulsets.end() ? nullptr : &sts->second,
                              observed.pods, ha.ha, **admin, involved) ||
                     urgent;
          }
          observed.ha[group] = std::move(ha.ha);
        }
      }
    }
    // Leaving groups (and a scale-in called off): after failover, with the same admin client.
    ScaleInOutcome scale_in = ScaleInStep(d_, cluster, leaving, observed.statefulsets, observed.pods,
                                          observed.ha, admin.ok() ? admin->get() : nullptr, involved);
    observed.leaving = std::move(scale_in.leaving);
    scaling_in = scale_in.busy;
  }

  if (probes_ != nullptr) {
    if (!cluster.spec.probe.enabled) {
      probes_->Remove(key);
    } else if (auto last = probes_->Last(key)) {
      observed.probe = model::ObservedCluster::Probe{last->ok, last->message};
    }
  }
  const api::ClusterStatus before = cluster.status;
  api::ClusterStatus after = model::ComputeClusterStatus(
      cluster, observed, std::chrono::system_clock::time_point(milliseconds(d_.clock->NowMillis())));
  if (cluster.spec.brokers.replicas_per_group <= 1) {
    for (const auto& bg : after.broker_groups) failover_.ReportUnreplicated(cluster, bg.name, bg.writable);
  }
  json status = api::ClusterStatusToJson(after);
  const json live_status = obj->value("status", json::object());
  if (!model::IsSubset(status, live_status)) {
    json patch = {{"apiVersion", std::string(api::kApiVersion)},
                  {"kind", "Cluster"},
                  {"metadata", {{"name", name}, {"namespace", ns}}},
                  {"status", status}};
    auto written = d_.kube->ApplyStatus(kube::kinds::kFerryCluster, ns, patch,
                                        {.field_manager = kFieldManager, .force = true});
    if (!written.ok()) return {written.status().WithContext("status of Cluster " + key), std::nullopt};
    RecordTransitions(d_.events, involved, before, after);
  }
  if (!observed.invalid_spec.empty()) return {};  // terminal until the spec changes (a new generation)
  if (!observed.apply_error.empty()) return {Status::Unavailable(observed.apply_error), std::nullopt};
  if (!observed.security_error.empty()) return {Status::Ok(), kRecheckNotReady};
  if (urgent) return {Status::Ok(), FailoverStep::kProbePeriod};
  if (scaling_in) return {Status::Ok(), kRecheckNotReady};
  if (cluster.spec.brokers.replicas_per_group > 1 && observed.invalid_spec.empty()) {
    return {Status::Ok(), FailoverStep::kHealthyProbePeriod};
  }
  return {Status::Ok(), api::IsConditionTrue(after.conditions, "Ready") ? kRecheckHealthy : kRecheckNotReady};
}

}  // namespace fmq::op::controllers
