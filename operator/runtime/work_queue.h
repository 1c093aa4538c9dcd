#pragma once

// WorkQueue: the keys ("namespace/name") a controller still has to reconcile, with client-go's guarantees:
//
// * dedupe: a key added many times before a worker takes it is handed out once;
// * one at a time: a key being processed is never handed to a second worker; re-adds during processing are
//   remembered ("dirty") and coalesced into one re-run after Done();
// * delays: AddAfter() and AddRateLimited() (the rate limiter decides, Forget() resets it); a key waiting for
// a
//   delay is kept once, at its earliest time;
// * ShutDown(): new adds are ignored and Get() returns nullopt at once, abandoning queued keys (reconciles
// are
//   level-based: the next start lists everything again).
//
// Delays need no thread of their own: Get() waits until the earliest delayed key is due.
//
// Metrics (with a registry), label name=<queue name>:
//   ferrymq_operator_workqueue_depth, _adds_total, _retries_total, _queue_duration_seconds (add -> get),
//   _work_duration_seconds (get -> done).
//
// Thread-safety: every method is safe from any thread. Owned by its controller.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "operator/runtime/rate_limiter.h"

namespace fmq::op::runtime {

class WorkQueue {
 public:
  // `rate_limiter` null: DefaultControllerRateLimiter(). `metrics` not owned, may be null.
  explicit WorkQueue(std::string name, std::unique_ptr<RateLimiter> rate_limiter = nullptr,
                     MetricRegistry* metrics = nullptr);
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key) FMQ_EXCLUDES(mu_);
  // Adds `key` once `delay` has passed (at once if delay <= 0).
  void AddAfter(const std::string& key, Duration delay) FMQ_EXCLUDES(mu_);
  // AddAfter(key, rate_limiter.When(key)).
  void AddRateLimited(const std::string& key) FMQ_EXCLUDES(mu_);
  // Resets the key's rate-limit history (after a successful reconcile).
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);

  // Blocks until a key is ready (then it is "processing" until Done) or the queue shuts down (nullopt).
  std::optional<std::string> Get() FMQ_EXCLUDES(mu_);
  // Like Get() but gives up after `timeout` (nullopt).
  std::optional<std::string> GetFor(std::chrono::milliseconds timeout) FMQ_EXCLUDES(mu_);
  // Ends processing of `key`; if it was re-added meanwhile it is queued again.
  void Done(const std::string& key) FMQ_EXCLUDES(mu_);

  void ShutDown() FMQ_EXCLUDES(mu_);
  bool ShuttingDown() const FMQ_EXCLUDES(mu_);

  // Keys ready to be handed out (not counting processing or delayed ones).
  size_t Len() const FMQ_EXCLUDES(mu_);
  // Keys waiting for their delay.
  size_t DelayedLen() const FMQ_EXCLUDES(mu_);
  bool IsProcessing(const std::string& key) const FMQ_EXCLUDES(mu_);
  const std::string& name() const { return name_; }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  void AddLocked(const std::string& key) FMQ_REQUIRES(mu_);
  // Moves due delayed keys into the queue; returns the earliest remaining due time.
  std::optional<SteadyTime> PromoteDueLocked(SteadyTime now) FMQ_REQUIRES(mu_);
  std::optional<std::string> GetUntil(std::optional<SteadyTime> deadline) FMQ_EXCLUDES(mu_);
  void UpdateDepthLocked() FMQ_REQUIRES(mu_);

  const std::string name_;
  const std::unique_ptr<RateLimiter> rate_limiter_;

  mutable Mutex mu_;
  CondVar cv_{&mu_};
  std::deque<std::string> queue_ FMQ_GUARDED_BY(mu_);
  std::unordered_set<std::string> dirty_ FMQ_GUARDED_BY(mu_);       // wanted (queued or to re-run after Done)
  std::unordered_set<std::string> processing_ FMQ_GUARDED_BY(mu_);  // handed out, not Done yet
  std::unordered_map<std::string, SteadyTime> waiting_ FMQ_GUARDED_BY(mu_);  // delayed key -> due time
  std::multimap<SteadyTime, std::string> waiting_by_time_ FMQ_GUARDED_BY(mu_);
  std::unordered_map<std::string, SteadyTime> added_at_ FMQ_GUARDED_BY(mu_);    // for queue latency
  std::unordered_map<std::string, SteadyTime> started_at_ FMQ_GUARDED_BY(mu_);  // for work duration
  bool shutting_down_ FMQ_GUARDED_BY(mu_) = false;

  Gauge* depth_ = nullptr;  // metrics, owned by the registry
  Counter* adds_ = nullptr;
  Counter* retries_ = nullptr;
  Histogram* queue_latency_ = nullptr;
  Histogram* work_duration_ = nullptr;
};

}  // namespace fmq::op::runtime
