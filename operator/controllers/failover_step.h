#pragma once

// FailoverStep: the step of the Cluster reconciler that keeps each broker group with replicas writable
// (docs/kubernetes.md, "Failover"). One call handles one group, as a chain of named parts:
//
//   observe  the group's HA record (ConfigMap "<cluster>-broker-<g>-ha", from the informer cache), its pods
//            (Ready, IP) and every member's own replication state (FERRYMQ_HA_STATUS on <pod IP>:10911); the
//            recorded master's answer or silence feeds the group's probe state;
//   decide   model::DecideFailover (pure; operator/model/failover.h);
//   act      write the record by compare-and-swap on its resourceVersion when it changed (a failover is
//            claimed there before any broker is touched, so two operators or a stale leader never promote
//            twice), then wipe the group's write permission on the name servers (producers stop routing to
//            it; the promoted master's registration restores it) and promote (client::Failover: at least
//            N - W + 1 members fenced at the new epoch, the target promoted, the others follow), or make a
//            stale master follow the group's master (FERRYMQ_HA_BECOME_SLAVE), or, when a claim is dropped
//            (its failover never touched a broker and the old master serves again), restore the write
//            permission first;
//   report   what status.brokerGroups[] shows (ObservedCluster::GroupHa), Events when the group's state
//            changes or a broker is acted on, and metrics.
//
// The probe state lives here, per group, in memory: a new leader observes from scratch, which only delays a
// failover. A converged group (its master serving, the record up to date) costs no write.
//
// Thread-safety: Run may be called from several workers at once (for different Clusters); the probe state
// is under a mutex.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "broker/client/admin.h"
#include "broker/model/ha_body.h"
#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"
#include "operator/model/cluster_status.h"
#include "operator/model/failover.h"

namespace fmq::op::controllers {

class FailoverStep {
 public:
  // `metrics` may be null. `exit_after_claim`: test fault injection (see ClusterOptions).
  FailoverStep(Deps deps, model::Detection detection, MetricRegistry* metrics, bool exit_after_claim = false);

  struct Outcome {
    model::ObservedCluster::GroupHa ha;
    bool urgent = false;  // the group is not healthy: probe again soon (the detection window needs probes)
  };
  // `pods`: the Cluster's pods (from the cache); `involved`: the Cluster as an Event's involvedObject.
  Outcome Run(const api::Cluster& cluster, int group, const std::vector<nlohmann::json>& pods,
              client::Admin& admin, const nlohmann::json& involved) FMQ_EXCLUDES(mu_);

  // How often a group that is not healthy is looked at again.
  static constexpr std::chrono::milliseconds kProbePeriod{2000};
  // The broker-group gauges of a group without replicas (the failover step does not run for it): writable as
  // the Cluster's status says, in sync 1 while writable, replicas 1, epoch 0.
  void ReportUnreplicated(const api::Cluster& cluster, const std::string& group, bool writable);

  // How often a healthy group's master is probed: a failure is noticed within this, not at the next 30 s
  // level check (nothing in Kubernetes changes when a master stops answering until its pod turns unready).
  static constexpr std::chrono::milliseconds kHealthyProbePeriod{3000};

 private:
  struct Member {
    model::MemberView view;
    std::string address;  // <pod IP>:10911; empty without an IP
    fmq::model::HaStatusBody status;
  };
  std::vector<Member> ObserveMembers(const api::Cluster& cluster, int group,
                                     const std::vector<nlohmann::json>& pods, client::Admin& admin);
  // Writes `record` (create, or replace at `resource_version`). Conflict when someone else wrote first.
  Status WriteRecord(const api::Cluster& cluster, int group, const model::HaRecord& record,
                     const std::string& resource_version);
  void Event(const nlohmann::json& involved, bool warning, const std::string& reason,
             const std::string& message);

  const Deps d_;
  const model::Detection detection_;
  const bool exit_after_claim_;
  GaugeFamily* epoch_ = nullptr;
  CounterFamily* promotions_ = nullptr;
  GaugeFamily* in_sync_ = nullptr;
  GaugeFamily* writable_ = nullptr;
  GaugeFamily* replicas_ = nullptr;
  Mutex mu_;
  std::map<std::string, model::ProbeState> probes_ FMQ_GUARDED_BY(mu_);  // "<ns>/<brokerName>"
  std::map<std::string, std::string> last_reason_ FMQ_GUARDED_BY(mu_);   // likewise: the last decision
};

}  // namespace fmq::op::controllers
