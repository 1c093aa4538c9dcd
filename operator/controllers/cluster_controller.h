#pragma once

// ClusterReconciler: makes the Kubernetes objects of a Cluster match its spec and reports what runs.
//
// One pass (CONVENTIONS.md rule 13): read the Cluster and everything it owns from the caches; compute the
// desired objects (operator/model); server-side apply only those that differ from what the apiserver has (so
// a converged pass writes nothing), broker groups one at a time; ask the name servers which groups have a
// master and whether each master answers; compute the conditions and write status last, only when it changed;
// record Events on transitions. Teardown is owner-reference garbage collection, so the Cluster carries no
// finalizer.
//
// Groups with replicas (spec.brokers.replicasPerGroup > 1) also go through the failover step
// (failover_step.h): the group's HA record, its master's health, promotion of an in-sync slave when the
// master failed; status.brokerGroups[] shows the outcome.
//
// Thread-safety: Reconcile may run on several workers at once for different keys (the work queue never runs
// one key twice at once); the only per-cluster state is the failover step's probe state, under its mutex.

#include <string>

#include "broker/base/metrics.h"
#include "operator/controllers/failover_step.h"
#include "operator/controllers/probe_runner.h"
#include "operator/controllers/reconciler.h"

namespace fmq::op::controllers {

struct ClusterOptions {
  model::Detection detection;         // when a master counts as failed
  MetricRegistry* metrics = nullptr;  // may be null
  // Test fault injection (ferrymq-operator --fault exit-after-failover-claim): the process exits right after
  // a failover claim is written to an HA record, before any broker is touched.
  bool exit_after_failover_claim = false;
  // Runs spec.probe's dial tests (may be null: no probes; then ProbeSucceeded stays ProbePending).
  ProbeRunner* probes = nullptr;
};

class ClusterReconciler {
 public:
  explicit ClusterReconciler(Deps deps, ClusterOptions options = {});
  Outcome Reconcile(const std::string& key);

 private:
  Deps d_;
  FailoverStep failover_;
  ProbeRunner* const probes_;
};

}  // namespace fmq::op::controllers
