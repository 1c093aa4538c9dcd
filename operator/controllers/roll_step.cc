#include "operator/controllers/roll_step.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "broker/base/logging.h"
#include "broker/base/time_codec.h"
#include "broker/client/ha_ops.h"
#include "operator/model/cluster_resources.h"
#include "operator/model/group_roll.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kSwitchoverCatchUp{30'000};

// How long every name server of the Cluster has been Ready (the shortest; -1 ms while one is missing or not
// Ready), from the pods' Ready condition.
std::chrono::milliseconds NameServersReadyFor(const api::Cluster& c, const std::vector<json>& pods,
                                              int64_t now_ms) {
  const std::string prefix = model::NameServerName(c) + "-";
  int ready = 0;
  int64_t shortest = std::numeric_limits<int64_t>::max();
  for (const json& p : pods) {
    if (model::StrAt(p, "/metadata/name"_json_pointer).rfind(prefix, 0) != 0) continue;
    if (!model::PodReady(p)) return std::chrono::milliseconds(-1);
    ++ready;
    for (const json& cond : p.value("status", json::object()).value("conditions", json::array())) {
      if (cond.value("type", "") != "Ready") continue;
      auto since = ParseRfc3339Micros(cond.value("lastTransitionTime", ""));
      if (since.ok()) shortest = std::min(shortest, now_ms - *since / 1000);
    }
  }
  if (ready < c.spec.name_server.replicas) return std::chrono::milliseconds(-1);
  return std::chrono::milliseconds(std::max<int64_t>(0, shortest));
}

}  // namespace

bool RollStep(const Deps& d, const api::Cluster& c, int group, const json* sts, const std::vector<json>& pods,
              const model::ObservedCluster::GroupHa& ha, client::Admin& admin, const json& involved) {
  if (sts == nullptr) return false;
  const std::string revision = model::StrAt(*sts, "/status/updateRevision"_json_pointer);
  if (revision.empty()) return true;  // the StatefulSet controller has not looked at it yet
  const std::string set = model::BrokerGroupName(c, group);
  std::vector<model::RollMember> members;
  std::map<std::string, std::string> address;
  for (int i = 0; i < c.spec.brokers.replicas_per_group; ++i) {
    model::RollMember m;
    m.pod = set + "-" + std::to_string(i);
    for (const json& p : pods) {
      if (model::StrAt(p, "/metadata/name"_json_pointer) != m.pod) continue;
      m.exists = true;
      m.ready = model::PodReady(p);
      m.deleting = !model::StrAt(p, "/metadata/deletionTimestamp"_json_pointer).empty();
      m.updated = model::StrAt(p, "/metadata/labels/controller-revision-hash"_json_pointer) == revision;
      const std::string ip = model::StrAt(p, "/status/podIP"_json_pointer);
      if (!ip.empty()) address[m.pod] = ip + ":" + std::to_string(model::kBrokerPort);
    }
    members.push_back(std::move(m));
  }
  const int64_t now_ms = d.clock->NowMillis();
  std::chrono::milliseconds master_serving_for(-1);
  if (auto since = ParseRfc3339Micros(ha.master_since); since.ok())
    master_serving_for = std::chrono::milliseconds(std::max<int64_t>(0, now_ms - *since / 1000));
  const model::RollDecision decision = model::DecideGroupRoll(
      members, ha.master, ha.in_sync, NameServersReadyFor(c, pods, now_ms), master_serving_for);
  if (decision.kind == model::RollDecision::Kind::kDone) return false;
  if (decision.kind == model::RollDecision::Kind::kWait) return true;

  auto log = GetLogger("operator");
  auto event = [&](bool warning, const char* reason, const std::string& message) {
    if (d.events == nullptr) return;
    Status st = d.events->Record(involved, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                                 reason, set + ": " + message);
    if (!st.ok()) log->warn("cannot record event reason={}: {}", reason, st.message());
  };
  if (decision.kind == model::RollDecision::Kind::kRestart) {
    log->info("rolling group={}/{}: {}", c.metadata.namespace_, set, decision.message);
    Status st = d.kube->Delete(kube::kinds::kPod, c.metadata.namespace_, decision.pod);
    if (!st.ok()) {
      event(true, "RollingRestartFailed", "deleting " + decision.pod + ": " + std::string(st.message()));
    } else {
      event(false, "RollingRestart", decision.message);
    }
    return true;
  }
  // kSwitchover
  auto target = address.find(decision.pod);
  if (target == address.end()) return true;
  log->info("rolling group={}/{}: {}", c.metadata.namespace_, set, decision.message);
  auto report = client::Switchover(admin, set, target->second, kSwitchoverCatchUp);
  if (!report.ok()) {
    event(true, "SwitchoverFailed", decision.message + ": " + std::string(report.status().message()));
  } else {
    event(false, "Switchover",
          decision.pod + " (" + report->promoted + ") is master of epoch " + std::to_string(report->epoch) +
              " after a switchover from " + ha.master + " in " + std::to_string(report->millis) + " ms");
  }
  return true;
}

}  // namespace fmq::op::controllers
