#pragma once

// LeaderElector: one active operator replica, chosen through a coordination.k8s.io/v1 Lease (client-go's
// algorithm, with its defaults: lease 15 s, renew deadline 10 s, retry 2 s).
//
// * Acquire: every retry period (jittered) read the Lease; take it if it is free (no holder), ours, or its
// holder
//   has not renewed for a whole lease duration as observed on *our* monotonic clock (so clock skew between
//   nodes does not matter); write it with a resourceVersion precondition (compare-and-swap), so two
//   candidates can never both win. Taking it from another holder bumps leaseTransitions and sets acquireTime.
// * Lead: renew every retry period. If no renewal succeeded for the renew deadline, leadership is lost:
//   on_stopped_leading runs and the elector stops (the operator exits, as Kubernetes controllers do, instead
//   of racing a new leader).
// * Stop(): a leader releases the Lease (empty holder, 1 s duration) so a standby takes over at its next
// retry, then
//   on_stopped_leading runs.
//
// The elector builds its own Kubernetes client from `config` with request timeout = retry period and no
// retries, so a hung apiserver cannot stretch a renewal past the renew deadline.
//
// Metric: ferrymq_operator_leader{lease="<ns>/<name>"} 1 while leading, else 0.
//
// Created and stopped by the composition root. Thread-safety: IsLeader/CurrentLeader from any thread.
// Callbacks run on the elector's thread (on_stopped_leading on Stop()'s thread when Stop ends leadership);
// they must not call Stop().

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"

namespace fmq::op::runtime {

struct LeaderElectionConfig {
  std::string lease_namespace{};
  std::string lease_name = "ferrymq-operator";
  std::string identity{};  // $POD_NAME or the host name
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  bool release_on_stop = true;
  MetricRegistry* metrics = nullptr;  // not owned, may be null
  const Clock* clock = nullptr;       // wall clock for acquireTime/renewTime; SystemClock() if null
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading{};
  std::function<void()> on_stopped_leading{};
  // Someone (maybe us) became the holder.
  std::function<void(const std::string& identity)> on_new_leader{};
};

class LeaderElector {
 public:
  LeaderElector(kube::Config config, LeaderElectionConfig election, LeaderCallbacks callbacks);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Validates the configuration and starts campaigning.
  Status Start();
  // Stops campaigning; a leader releases the Lease (if release_on_stop) and hears on_stopped_leading.
  // Idempotent.
  void Stop();

  bool IsLeader() const { return leading_.load(); }
  // The holder last observed ("" if none or not yet read).
  std::string CurrentLeader() const FMQ_EXCLUDES(mu_);
  // False once leadership was lost (the operator should exit).
  bool Healthy() const { return !lost_.load(); }

 private:
  class Loop;

  // One acquire-or-renew attempt; true when we hold the Lease afterwards.
  bool TryAcquireOrRenew() FMQ_EXCLUDES(mu_);
  void Release() FMQ_EXCLUDES(mu_);
  void Run();  // the elector thread's body
  void SetLeading(bool leading);
  std::string Now() const;

  const kube::Config config_;
  const LeaderElectionConfig election_;
  const LeaderCallbacks callbacks_;
  const Clock* const clock_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<Loop> loop_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> lost_{false};
  Gauge* leader_gauge_ = nullptr;  // owned by the registry

  mutable Mutex mu_;
  // The record as last read or written, and when (monotonic) it last changed.
  std::string observed_holder_ FMQ_GUARDED_BY(mu_);
  std::string observed_renew_time_ FMQ_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point observed_at_ FMQ_GUARDED_BY(mu_);
  int64_t observed_transitions_ FMQ_GUARDED_BY(mu_) = 0;
};

}  // namespace fmq::op::runtime
