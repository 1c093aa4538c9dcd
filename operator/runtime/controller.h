#pragma once

// Controller: a work queue of object keys and N workers that call Reconcile(key) (CONVENTIONS.md rule 13).
//
//   Controller topics({.name = "topic", .workers = 2, .metrics = &registry},
//                     [&](const std::string& key) { return reconciler.Reconcile(key); });
//   topic_informer.AddEventHandler(topics.EnqueueObjectHandler());
//   cluster_informer.AddEventHandler(topics.EnqueueMappedHandler(...clusterRef index lookup...));
//   topics.Start();
//
// After each Reconcile:
//   error                -> AddRateLimited(key) (per-key exponential backoff within the global bucket)
//   requeue_after = d    -> Forget(key), AddAfter(key, d)
//   success              -> Forget(key)
// The queue guarantees a key never runs on two workers at once.
//
// Metrics (with a registry):
//   ferrymq_operator_reconcile_total{controller,result}    result = success | error | requeue_after
//   ferrymq_operator_reconcile_duration_seconds{controller}
//   ferrymq_operator_reconcile_in_progress_start_time_seconds{controller,namespace,name}  (present while
//   running) plus the work-queue metrics under name=<controller>.
//
// Thread-safety: Enqueue* and the handlers from any thread; Start/Stop from the owner's thread. Reconcile
// runs on worker threads, concurrently for different keys.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/metrics.h"
#include "broker/base/status.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/work_queue.h"

namespace fmq::op::runtime {

struct ReconcileResult {
  Status status{};
  // Reconcile again after this long even if nothing changes (drift against brokers, waiting for pods).
  std::optional<std::chrono::milliseconds> requeue_after{};

  static ReconcileResult Done() { return {}; }
  static ReconcileResult RequeueAfter(std::chrono::milliseconds d) { return {Status::Ok(), d}; }
  static ReconcileResult Error(Status s) { return {std::move(s), std::nullopt}; }
};

using ReconcileFunc = std::function<ReconcileResult(const std::string& key)>;

struct ControllerOptions {
  std::string name{};  // "cluster", "topic": metric label and logs
  int workers = 2;
  MetricRegistry* metrics = nullptr;                    // not owned, may be null
  std::unique_ptr<RateLimiter> rate_limiter = nullptr;  // null: DefaultControllerRateLimiter()
};

class Controller {
 public:
  Controller(ControllerOptions options, ReconcileFunc reconcile);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  Status Start();
  // Shuts the queue down (queued keys are dropped) and waits for running reconciles to return. Idempotent.
  void Stop();

  void Enqueue(const std::string& key) { queue_.Add(key); }
  void EnqueueAfter(const std::string& key, std::chrono::milliseconds delay) { queue_.AddAfter(key, delay); }

  // Enqueues the key of every added, updated or deleted object. Updates that change nothing but the status or
  // the resourceVersion are still enqueued: reconcilers are idempotent.
  EventHandler EnqueueObjectHandler();
  // Enqueues the controller owner ("namespace/name") of every event's object when the owner's kind is
  // `owner_kind`.
  EventHandler EnqueueOwnerHandler(std::string owner_kind);
  // Enqueues whatever keys `map` returns for every event's object (e.g. Topics of a Cluster via the
  // clusterRef index).
  EventHandler EnqueueMappedHandler(std::function<std::vector<std::string>(const Json& object)> map);

  WorkQueue& queue() { return queue_; }
  const std::string& name() const { return name_; }

 private:
  class Worker;
  void ProcessOne(const std::string& key);

  const std::string name_;
  const int worker_count_;
  const ReconcileFunc reconcile_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool started_ = false;

  CounterFamily* reconcile_total_ = nullptr;  // owned by the registry
  Histogram* reconcile_duration_ = nullptr;
  GaugeFamily* in_progress_ = nullptr;
};

}  // namespace fmq::op::runtime
