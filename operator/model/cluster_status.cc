#include "operator/model/cluster_status.h"

#include "broker/base/strings.h"
#include "operator/model/cluster_resources.h"

namespace fmq::op::model {
namespace {

using nlohmann::json;

int64_t IntAt(const json& j, const json::json_pointer& p) {
  return j.contains(p) && j.at(p).is_number_integer() ? j.at(p).get<int64_t>() : 0;
}

}  // namespace

std::string StrAt(const json& j, const json::json_pointer& p) {
  return j.contains(p) && j.at(p).is_string() ? j.at(p).get<std::string>() : std::string();
}

bool PodReady(const json& pod) {
  if (!pod.contains("/status/conditions"_json_pointer)) return false;
  for (const json& c : pod.at("/status/conditions"_json_pointer)) {
    if (c.is_object() && c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

bool StatefulSetUpdated(const json& sts) {
  const int64_t replicas =
      sts.contains("/spec/replicas"_json_pointer) ? IntAt(sts, "/spec/replicas"_json_pointer) : 1;
  const std::string current = StrAt(sts, "/status/currentRevision"_json_pointer);
  const std::string update = StrAt(sts, "/status/updateRevision"_json_pointer);
  // With OnDelete (groups with replicas, rolled by the operator) the StatefulSet controller never moves
  // currentRevision; updatedReplicas alone says every pod runs the update revision.
  const bool on_delete = StrAt(sts, "/spec/updateStrategy/type"_json_pointer) == "OnDelete";
  return IntAt(sts, "/status/observedGeneration"_json_pointer) >=
             IntAt(sts, "/metadata/generation"_json_pointer) &&
         IntAt(sts, "/status/updatedReplicas"_json_pointer) >= replicas && !update.empty() &&
         (on_delete || current.empty() || current == update) &&
         IntAt(sts, "/status/replicas"_json_pointer) == replicas;
}

bool StatefulSetRolledOut(const json& sts) {
  const int64_t replicas =
      sts.contains("/spec/replicas"_json_pointer) ? IntAt(sts, "/spec/replicas"_json_pointer) : 1;
  return StatefulSetUpdated(sts) && IntAt(sts, "/status/readyReplicas"_json_pointer) >= replicas;
}

bool IsSubset(const json& desired, const json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto l = live.find(it.key());
      if (l == live.end()) return false;
      if (!IsSubset(it.value(), *l)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!IsSubset(desired[i], live[i])) return false;
    }
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired == live;  // 1 == 1.0
  return desired == live;
}

RolloutPlan PlanBrokerRollout(const std::vector<json>& desired, const std::map<std::string, json>& live) {
  RolloutPlan plan;
  bool busy = false;  // an earlier group is rolling or being updated now
  for (const json& d : desired) {
    const std::string name = StrAt(d, "/metadata/name"_json_pointer);
    auto it = live.find(name);
    if (it == live.end()) {
      plan.apply.push_back(name);
      busy = true;
      continue;
    }
    const bool changed = !IsSubset(d, it->second);
    if (changed && !busy) {
      plan.apply.push_back(name);
      busy = true;
    } else if (changed) {
      plan.held_back.push_back(name);
    }
    if (!StatefulSetRolledOut(it->second)) busy = true;
  }
  return plan;
}

api::ClusterStatus ComputeClusterStatus(const api::Cluster& c, const ObservedCluster& o,
                                        std::chrono::system_clock::time_point now) {
  api::ClusterStatus s = c.status;  // keeps lastTransitionTime of unchanged conditions
  const int64_t gen = c.metadata.generation;
  s.observed_generation = gen;
  s.name_servers = NameServerAddresses(c);
  auto set = [&](const char* type, bool value, std::string reason, std::string message) {
    api::SetCondition(
        &s.conditions,
        {type, std::string(value ? api::kTrue : api::kFalse), std::move(reason), std::move(message), "", gen},
        now);
  };

  // Pods by role.
  std::map<std::string, const json*> pods_by_name;
  for (const json& p : o.pods) pods_by_name[StrAt(p, "/metadata/name"_json_pointer)] = &p;
  auto pod_ready = [&](const std::string& name) {
    auto it = pods_by_name.find(name);
    return it != pods_by_name.end() && PodReady(*it->second);
  };

  const int groups = c.spec.brokers.groups;
  s.desired_replicas = c.spec.name_server.replicas + groups * c.spec.brokers.replicas_per_group;
  s.ready_replicas = 0;
  std::vector<std::string> not_ready;
  for (int i = 0; i < c.spec.name_server.replicas; ++i) {
    std::string name = NameServerName(c) + "-" + std::to_string(i);
    if (pod_ready(name)) {
      ++s.ready_replicas;
    } else {
      not_ready.push_back(name);
    }
  }
  s.broker_groups.clear();
  std::vector<std::string> without_master;
  for (int g = 0; g < groups; ++g) {
    const std::string group = BrokerGroupName(c, g);
    for (int r = 0; r < c.spec.brokers.replicas_per_group; ++r) {
      std::string name = group + "-" + std::to_string(r);
      if (pod_ready(name)) {
        ++s.ready_replicas;
      } else {
        not_ready.push_back(name);
      }
    }
    api::BrokerGroupStatus bg;
    bg.name = group;
    bg.master = group + "-0";
    if (auto h = o.ha.find(group); h != o.ha.end()) {
      bg.master = h->second.master;
      bg.epoch = h->second.epoch;
      bg.in_sync = h->second.in_sync;
      bg.last_failover = h->second.last_failover;
      bg.failovers = h->second.failovers;
      bg.failover_state = h->second.state;
      bg.failover_message = h->second.message;
    }
    bg.ready = !bg.master.empty() && pod_ready(bg.master);
    if (auto m = o.registered_masters.find(group); m != o.registered_masters.end()) bg.address = m->second;
    auto broker_error = o.broker_errors.find(group);
    bg.writable = bg.ready && !bg.address.empty() && broker_error == o.broker_errors.end();
    if (!bg.writable) {
      std::string why = broker_error != o.broker_errors.end() ? broker_error->second : "";
      if (why.empty() && bg.failover_state != "MasterServing") why = bg.failover_message;
      without_master.push_back(why.empty() ? group : group + " (" + why + ")");
    }
    s.broker_groups.push_back(std::move(bg));
  }
  s.replicas_summary = std::to_string(s.ready_replicas) + "/" + std::to_string(s.desired_replicas);
  for (const api::BrokerGroupStatus& g : o.leaving) s.broker_groups.push_back(g);

  // ScalingIn: present once a group left; False again when none is leaving.
  if (!o.leaving.empty()) {
    std::vector<std::string> parts;
    for (const api::BrokerGroupStatus& g : o.leaving) parts.push_back(g.name + ": " + g.scale_in.message);
    const std::string& phase = o.leaving.back().scale_in.phase;  // the highest group goes first
    set("ScalingIn", true, phase.empty() ? "Draining" : phase, JoinStrings(parts, "; "));
  } else if (api::FindCondition(s.conditions, "ScalingIn") != nullptr) {
    set("ScalingIn", false, "Complete", "no broker group is leaving the cluster");
  }

  // ResourcesSynced.
  bool synced = o.invalid_spec.empty() && o.apply_error.empty() && o.security_error.empty();
  if (!o.invalid_spec.empty()) {
    set("ResourcesSynced", false, "InvalidSpec", o.invalid_spec);
  } else if (!o.apply_error.empty()) {
    set("ResourcesSynced", false, "ApplyFailed", o.apply_error);
  } else if (!o.security_error.empty()) {
    set("ResourcesSynced", false, "TlsSecretInvalid", o.security_error);
  } else {
    set("ResourcesSynced", true, "Synced",
        "every owned object is applied for generation " + std::to_string(gen));
  }

  // Available.
  bool available = false;
  if (!o.name_servers_answered) {
    set("Available", false, "NameServerUnavailable",
        "no name server answered" + (o.name_server_error.empty() ? "" : ": " + o.name_server_error));
  } else if (!without_master.empty()) {
    set("Available", false, "GroupWithoutMaster",
        "broker groups without a ready master registered with the name servers: " +
            JoinStrings(without_master, ", "));
  } else {
    available = true;
    set("Available", true, "Available", "every broker group has a writable master");
  }

  // Progressing: objects missing, StatefulSets not yet on their latest spec, or updates held back.
  std::vector<std::string> rolling, missing;
  std::vector<std::string> sts_names = {NameServerName(c)};
  for (int g = 0; g < groups; ++g) sts_names.push_back(BrokerGroupName(c, g));
  for (const auto& name : sts_names) {
    auto it = o.statefulsets.find(name);
    if (it == o.statefulsets.end()) {
      missing.push_back(name);
    } else if (!StatefulSetUpdated(it->second)) {
      rolling.push_back(name);
    }
  }
  bool progressing = !missing.empty() || !rolling.empty() || !o.held_back.empty();
  if (!missing.empty()) {
    set("Progressing", true, "Creating", "creating " + JoinStrings(missing, ", "));
  } else if (!rolling.empty()) {
    set("Progressing", true, "RollingUpdate", "rolling out " + JoinStrings(rolling, ", "));
  } else if (!o.held_back.empty()) {
    set("Progressing", true, "RollingUpdate",
        "one broker group at a time: waiting to update " + JoinStrings(o.held_back, ", "));
  } else {
    set("Progressing", false, "Complete", "every StatefulSet runs its latest spec");
  }

  // Degraded: rolled out, yet pods are not ready.
  bool degraded = !progressing && !not_ready.empty();
  if (degraded) {
    set("Degraded", true, "PodsNotReady", "pods not ready: " + JoinStrings(not_ready, ", "));
  } else {
    set("Degraded", false, "Healthy", not_ready.empty() ? "every pod is ready" : "pods are still starting");
  }

  // ProbeSucceeded: only with spec.probe; not part of Ready (it reports what clients see, not what runs).
  if (c.spec.probe.enabled) {
    if (!o.probe) {
      api::SetCondition(&s.conditions,
                        {"ProbeSucceeded", std::string(api::kUnknown), "ProbePending",
                         "the first probe has not finished yet", "", gen},
                        now);
    } else {
      set("ProbeSucceeded", o.probe->ok, o.probe->ok ? "ProbeSucceeded" : "ProbeFailed", o.probe->message);
    }
  } else {
    std::erase_if(s.conditions, [](const api::Condition& x) { return x.type == "ProbeSucceeded"; });
  }

  // Ready: the roll-up.
  if (synced && available && !progressing && !degraded) {
    set("Ready", true, "Ready", s.replicas_summary + " pods ready, every broker group writable");
  } else {
    const char* reason = !synced       ? "ResourcesNotSynced"
                         : progressing ? "Progressing"
                         : degraded    ? "Degraded"
                                       : "NotAvailable";
    const api::Condition* cause = api::FindCondition(s.conditions, !synced       ? "ResourcesSynced"
                                                                   : progressing ? "Progressing"
                                                                   : degraded    ? "Degraded"
                                                                                 : "Available");
    set("Ready", false, reason, cause != nullptr ? cause->message : "");
  }
  return s;
}

}  // namespace fmq::op::model
