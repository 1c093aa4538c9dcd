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
// Thread-safety: Reconcile may run on several workers at once for different keys (the work queue never runs
// one key twice at once); the reconciler keeps no per-cluster state.

#include <string>

#include "operator/controllers/reconciler.h"

namespace fmq::op::controllers {

class ClusterReconciler {
 public:
  explicit ClusterReconciler(Deps deps);
  Outcome Reconcile(const std::string& key);

 private:
  Deps d_;
};

}  // namespace fmq::op::controllers
