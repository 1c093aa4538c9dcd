#include "operator/controllers/failover_step.h"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <set>

#include "broker/base/logging.h"
#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "broker/client/ha_ops.h"
#include "operator/controllers/resource_steps.h"
#include "operator/kube/errors.h"
#include "operator/model/cluster_resources.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;
using Kind = model::FailoverDecision::Kind;

std::string HostOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

// The pod's ordinal from its name "<set>-<n>"; -1 for anything else.
int Ordinal(const std::string& pod, const std::string& set) {
  if (pod.size() <= set.size() + 1 || pod.compare(0, set.size() + 1, set + "-") != 0) return -1;
  const std::string n = pod.substr(set.size() + 1);
  if (n.empty() || n.size() > 4 ||
      !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoi(n);
}

}  // namespace

FailoverStep::FailoverStep(Deps deps, model::Detection detection, MetricRegistry* metrics,
                           bool exit_after_claim)
    : d_(std::move(deps)), detection_(detection), exit_after_claim_(exit_after_claim) {
  if (metrics == nullptr) return;
  const std::vector<std::string> labels = {"namespace", "cluster", "group"};
  epoch_ = &metrics->AddGauge(
      "ferrymq_operator_broker_group_epoch",
      "The epoch the broker group's master serves (0: no master yet, or no replicas).", labels);
  promotions_ = &metrics->AddCounter("ferrymq_operator_failovers_total",
                                     "Slaves the operator promoted after their master failed.", labels);
  in_sync_ = &metrics->AddGauge("ferrymq_operator_broker_group_in_sync_replicas",
                                "Members in sync with the group's master, the master included.", labels);
  writable_ = &metrics->AddGauge("ferrymq_operator_broker_group_writable",
                                 "1 while a master of the group's epoch takes writes.", labels);
  replicas_ = &metrics->AddGauge("ferrymq_operator_broker_group_replicas",
                                 "Members the Cluster asks for in the group (spec.brokers.replicasPerGroup).",
                                 labels);
}

void FailoverStep::ReportUnreplicated(const api::Cluster& c, const std::string& group, bool writable) {
  if (writable_ == nullptr) return;
  const std::vector<std::string> labels = {c.metadata.namespace_, c.metadata.name, group};
  writable_->WithLabels(labels).Set(writable ? 1 : 0);
  in_sync_->WithLabels(labels).Set(writable ? 1 : 0);
  replicas_->WithLabels(labels).Set(1);
  epoch_->WithLabels(labels).Set(0);
}

std::vector<FailoverStep::Member> FailoverStep::ObserveMembers(const api::Cluster& c, int group,
                                                               const std::vector<json>& pods,
                                                               client::Admin& admin) {
  const std::string set = model::BrokerGroupName(c, group);
  std::map<int, const json*> by_ordinal;
  for (const json& p : pods) {
    const int n = Ordinal(model::StrAt(p, "/metadata/name"_json_pointer), set);
    if (n >= 0) by_ordinal[n] = &p;
  }
  // Every member the spec asks for, plus any pod still running beyond it.
  const int count =
      std::max(c.spec.brokers.replicas_per_group, by_ordinal.empty() ? 0 : by_ordinal.rbegin()->first + 1);
  std::vector<Member> members(count);
  std::map<std::string, std::string> pod_of_host;
  for (int i = 0; i < count; ++i) {
    Member& m = members[i];
    m.view.pod = set + "-" + std::to_string(i);
    auto it = by_ordinal.find(i);
    if (it == by_ordinal.end()) continue;
    m.view.pod_ready = model::PodReady(*it->second);
    const std::string ip = model::StrAt(*it->second, "/status/podIP"_json_pointer);
    if (ip.empty()) continue;
    m.address = ip + ":" + std::to_string(model::kBrokerPort);
    pod_of_host[ip] = m.view.pod;
  }
  // Asked at once: a member cut off costs one RPC timeout for the pass, not one per member.
  std::vector<std::future<fmq::Result<fmq::model::HaStatusBody>>> answers(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].address.empty()) continue;
    answers[i] =
        std::async(std::launch::async, [&admin, a = members[i].address] { return admin.HaStatus(a); });
  }
  for (size_t i = 0; i < members.size(); ++i) {
    Member& m = members[i];
    if (!answers[i].valid()) continue;
    auto st = answers[i].get();
    if (!st.ok()) continue;
    m.status = std::move(*st);
    m.view.reachable = true;
    m.view.role = m.status.role;
    m.view.epoch = m.status.epoch;
    m.view.writable = m.status.writable;
    m.view.log_end = m.status.complete_end;
    for (const auto& s : m.status.slaves) {
      if (!s.in_sync) continue;
      auto p = pod_of_host.find(HostOf(s.address));
      if (p != pod_of_host.end()) m.view.in_sync_slaves.push_back(p->second);
    }
  }
  return members;
}

Status FailoverStep::WriteRecord(const api::Cluster& c, int group, const model::HaRecord& record,
                                 const std::string& resource_version) {
  const json cm = model::HaRecordConfigMap(c, group, model::EncodeHaRecord(record), resource_version);
  const std::string& ns = c.metadata.namespace_;
  auto written = resource_version.empty() ? d_.kube->Create(kube::kinds::kConfigMap, ns, cm)
                                          : d_.kube->Replace(kube::kinds::kConfigMap, ns, cm);
  return written.status();
}

void FailoverStep::Event(const json& involved, bool warning, const std::string& reason,
                         const std::string& message) {
  if (d_.events == nullptr) return;
  Status st = d_.events->Record(involved, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                                reason, message);
  if (!st.ok()) GetLogger("operator")->warn("cannot record event reason={}: {}", reason, st.message());
}

FailoverStep::Outcome FailoverStep::Run(const api::Cluster& c, int group, const std::vector<json>& pods,
                                        client::Admin& admin, const json& involved) {
  auto log = GetLogger("operator");
  const std::string broker_name = model::BrokerGroupName(c, group);
  const std::string key = c.metadata.namespace_ + "/" + broker_name;
  const std::vector<std::string> labels = {c.metadata.namespace_, c.metadata.name, broker_name};
  Outcome out;

  // Observe: the record, the members, the probe of the recorded master.
  model::HaRecord record;
  std::string resource_version;
  if (auto cm =
          d_.reader->Get(kube::kinds::kConfigMap, c.metadata.namespace_, model::HaRecordName(c, group))) {
    resource_version = model::StrAt(*cm, "/metadata/resourceVersion"_json_pointer);
    const std::string text =
        model::StrAt(*cm, json::json_pointer("/data/" + std::string(model::kHaRecordKey)));
    auto decoded = model::DecodeHaRecord(text);
    if (!decoded.ok()) {
      // A record the operator did not write: never act on it (docs/troubleshooting.md).
      out.ha.state = "InvalidHaRecord";
      out.ha.message = "ConfigMap " + model::HaRecordName(c, group) + " " + std::string(model::kHaRecordKey) +
                       ": " + std::string(decoded.status().message()) +
                       "; failover of this group is stopped until it is fixed or deleted";
      out.urgent = true;
      return out;
    }
    record = std::move(*decoded);
  }
  std::vector<Member> members = ObserveMembers(c, group, pods, admin);
  std::vector<model::MemberView> views;
  for (const Member& m : members) views.push_back(m.view);
  auto member = [&](const std::string& pod) -> const Member* {
    for (const Member& m : members) {
      if (m.view.pod == pod) return &m;
    }
    return nullptr;
  };

  const int64_t now_ms = d_.clock->NowMillis();
  model::ProbeState probe;
  std::string last_reason;
  {
    MutexLock lock(&mu_);
    probe = probes_[key];
    if (!record.master.empty()) {
      const Member* m = member(record.master);
      const bool ok = m != nullptr && m->view.reachable;
      probe = model::AfterProbe(
          probe, ok, now_ms,
          m == nullptr || m->address.empty() ? "the pod has no IP" : "no answer at " + m->address);
      probes_[key] = probe;
    }
    last_reason = last_reason_[key];
  }

  // Decide.
  model::FailoverPolicy policy{detection_, c.spec.brokers.replication.unclean_failover};
  model::FailoverDecision d =
      model::DecideFailover(record, views, probe, policy, now_ms, FormatRfc3339(now_ms));

  // Act.
  std::string act_error;
  bool stale = false;  // the record changed since the cache's copy: act on nothing, look again
  if (d.restore_write_perm) {
    // Before the record drops the claim: a failed restore is retried at the next pass.
    auto restored = admin.SetWritePermInNameServers(broker_name, true);
    if (!restored.ok()) {
      act_error =
          "restoring the write permission on the name servers: " + std::string(restored.status().message());
    } else {
      Event(involved, false, "FailoverAbandoned",
            broker_name + ": " + d.message + " (" + std::to_string(*restored) + " topic(s))");
    }
  }
  if (d.write_record && act_error.empty()) {
    Status st = WriteRecord(c, group, d.record, resource_version);
    if (kube::IsConflict(st) || kube::IsAlreadyExists(st)) {
      // Someone else wrote the record first, or the cache is behind our own last write.
      stale = true;
      log->info("failover group={} record changed since it was read ({}): looking again", key, st.message());
    } else if (!st.ok()) {
      act_error = "writing the HA record: " + std::string(st.message());
      log->warn("failover group={} record write failed: {}", key, st.message());
    } else {
      log->info("failover group={} record written epoch={} master={} pending={}/{} in_sync={}", key,
                d.record.epoch, d.record.master, d.record.pending_epoch, d.record.pending_master,
                d.record.in_sync.size());
      record = d.record;
      if (exit_after_claim_ && d.kind == Kind::kPromote) {
        log->error(
            "fault injection (--fault exit-after-failover-claim): exiting after claiming epoch {} for {} "
            "in group {}, before any broker is touched",
            d.record.pending_epoch, d.record.pending_master, key);
        log->flush();
        std::_Exit(3);
      }
    }
  }
  const std::string role = c.spec.brokers.replication.mode == "async" ? "ASYNC_MASTER" : "SYNC_MASTER";
  if (!stale && act_error.empty() && d.kind == Kind::kPromote) {
    const Member* target = member(d.target);
    client::FailoverOptions fo;
    fo.target = target != nullptr ? target->address : "";
    fo.group_size = std::max<int>(c.spec.brokers.replicas_per_group, static_cast<int>(members.size()));
    fo.unclean = c.spec.brokers.replication.unclean_failover;
    fo.role = role;
    for (const Member& m : members) {
      if (m.address.empty()) continue;
      fo.members.push_back(m.address);
      if (!m.view.reachable) fo.known_unreachable.push_back(m.address);
    }
    // Producers stop routing to the group before anyone is fenced; the promoted master's registration (a
    // new address under broker id 0) restores its queues' permission. A name server that does not answer
    // does not hold the failover up: fencing, not routing, keeps the old master from acknowledging.
    auto wiped = admin.SetWritePermInNameServers(broker_name, false);
    const std::string wipe_note =
        wiped.ok() ? "write permission wiped on the name servers (" + std::to_string(*wiped) + " topic(s))"
                   : "wiping the write permission on the name servers failed (" +
                         std::string(wiped.status().message()) + "), promoting anyway";
    log->warn("failover group={}: {}; {}", key, d.message, wipe_note);
    Event(involved, true, "FailingOver", broker_name + ": " + d.message + "; " + wipe_note);
    auto report = client::Failover(admin, broker_name, fo);
    if (!report.ok()) {
      act_error = "promoting " + d.target + ": " + std::string(report.status().message());
      Event(involved, true, "FailoverFailed", broker_name + ": " + act_error);
    } else {
      if (promotions_ != nullptr) promotions_->WithLabels(labels).Inc();
      std::string msg = broker_name + ": " + d.target + " (" + report->promoted + ") is master of epoch " +
                        std::to_string(report->epoch) + " from log offset " +
                        std::to_string(report->promoted_end) + "; " + std::to_string(report->fenced.size()) +
                        " member(s) fenced, " + std::to_string(report->followers.size()) + " following";
      if (!report->unreachable.empty()) msg += ", unreachable: " + JoinStrings(report->unreachable, ", ");
      log->info("failover group={}: {} in {} ms", key, msg, report->millis);
      Event(involved, false, "MasterPromoted", msg);
      record.epoch = report->epoch;
    }
  } else if (!stale && act_error.empty() && d.kind == Kind::kDemote) {
    const Member* stale = member(d.target);
    const Member* master = member(d.master);
    if (stale == nullptr || master == nullptr || !master->view.reachable || stale->address.empty()) {
      act_error = "cannot make " + d.target + " follow " + d.master + ": the master does not answer";
    } else {
      std::set<int64_t> used;
      for (const Member& m : members) {
        if (&m != stale && m.view.reachable) used.insert(m.status.broker_id);
      }
      int64_t id = stale->status.broker_id >= 1 ? stale->status.broker_id : 1;
      while (used.count(id)) ++id;
      Status st = admin.HaBecomeSlave(stale->address, master->address, master->status.ha_address,
                                      master->status.epoch, id);
      if (!st.ok()) {
        act_error = "making " + d.target + " follow " + d.master + ": " + std::string(st.message());
      } else {
        Event(involved, true, "StaleMasterDemoted", broker_name + ": " + d.message);
      }
    }
  }

  // Report.
  const bool serving = d.kind == Kind::kHealthy;
  out.ha.master = serving ? d.master : "";
  out.ha.epoch = serving ? d.epoch : record.epoch;
  out.ha.in_sync = serving ? d.record.in_sync : std::vector<std::string>{};
  out.ha.last_failover = record.last_failover;
  out.ha.master_since = serving ? d.record.master_since : "";
  out.ha.failovers = record.failovers;
  out.ha.state = act_error.empty() ? d.reason : "FailoverFailed";
  out.ha.message = act_error.empty() ? d.message : act_error + " (" + d.message + ")";
  out.urgent = !serving || !act_error.empty() || d.write_record;
  if (stale) return out;  // decided on an old record: report nothing new
  if (epoch_ != nullptr) {
    epoch_->WithLabels(labels).Set(out.ha.epoch);
    in_sync_->WithLabels(labels).Set(static_cast<double>(out.ha.in_sync.size()));
    writable_->WithLabels(labels).Set(serving ? 1 : 0);
    replicas_->WithLabels(labels).Set(c.spec.brokers.replicas_per_group);
  }
  // Events for transitions of the group's state (acting on brokers recorded its own above). A fresh operator
  // finding its groups serving records nothing.
  if (out.ha.state != last_reason) {
    if (out.ha.state == "MasterUnavailable" || out.ha.state == "NoInSyncSlave" ||
        out.ha.state == "FailoverFailed") {
      Event(involved, true, out.ha.state, broker_name + ": " + out.ha.message);
    } else if (out.ha.state == "MasterChanged" || (out.ha.state == "MasterServing" && !last_reason.empty() &&
                                                   last_reason != "WaitingForMaster")) {
      Event(involved, false, "MasterServing", broker_name + ": " + out.ha.message);
    }
    MutexLock lock(&mu_);
    last_reason_[key] = out.ha.state;
  }
  return out;
}

}  // namespace fmq::op::controllers
