#pragma once

// What every reconciler of this module shares: its dependencies and the outcome of one pass.

#include <chrono>
#include <optional>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/status.h"
#include "operator/controllers/admin_pool.h"
#include "operator/controllers/object_reader.h"
#include "operator/kube/client.h"
#include "operator/kube/events.h"
#include "operator/model/cluster_resources.h"

namespace fmq::op::controllers {

inline constexpr const char* kFieldManager = "ferrymq-operator";

// The result of one Reconcile(key): an error is retried with the work queue's per-item backoff; otherwise
// `requeue_after` (if set) schedules the next level check (broker state is not watched, so it is polled).
struct Outcome {
  Status status;
  std::optional<std::chrono::milliseconds> requeue_after;
};

// Not owned; the composition root keeps every dependency alive longer than the reconcilers.
struct Deps {
  kube::Client* kube = nullptr;
  kube::EventRecorder* events = nullptr;
  const ObjectReader* reader = nullptr;
  AdminPool* admins = nullptr;
  const Clock* clock = nullptr;
  model::Options options;
  // Where the operator writes files it needs on disk (TLS material for its admin clients); the chart mounts
  // an emptyDir at /tmp.
  std::string work_dir = "/tmp/ferrymq-operator";
};

}  // namespace fmq::op::controllers
