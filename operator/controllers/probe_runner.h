#pragma once

// ProbeRunner: the operator's continuous dial test (Cluster.spec.probe; the RocketMQ console's dial test as a
// canary). One background thread probes every Cluster that asks for it, each at its interval: one message of
// spec.probe.messageSize bytes to every broker group's queue of the probe topic and back (client::RunProbe,
// through the Cluster's admin client, so ACL signing and TLS are the operator's). A group missing from the
// topic's route (a new Cluster, a group added by a scale-out) gets the topic created on every master of the
// Cluster, 1 queue each, and is probed at the next interval.
//
// The Cluster reconciler calls Set on every pass (leader only: the reconcilers run only on the leader) and
// reads Last into the ProbeSucceeded condition; `on_change` (the composition root enqueues the Cluster) runs
// when an outcome differs from the one before, so the condition follows within one interval plus the probe's
// own time (at most min(interval, 10 s)).
//
// Metrics (docs/metrics.md): ferrymq_operator_probe_success {namespace, cluster} (1/0, the last outcome),
// ferrymq_operator_probe_latency_seconds {namespace, cluster, group} (send to read back, per message),
// ferrymq_operator_probe_failures_total {namespace, cluster, group}.
//
// Thread-safety: Set, Remove and Last from any thread; Start/Stop from the owner's.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "broker/client/admin.h"
#include "broker/client/probe.h"

namespace fmq::op::controllers {

struct ProbeTarget {
  std::string ns;       // the Cluster's namespace
  std::string cluster;  // its name, also brokerClusterName
  std::string topic;
  int message_size = 128;
  std::chrono::milliseconds interval{30'000};
  std::vector<std::string> groups;       // broker groups that must answer
  std::shared_ptr<client::Admin> admin;  // the Cluster's admin client (connections, signing, TLS)
};

struct ProbeOutcome {
  bool ok = false;
  std::string message;  // what the condition says
  bool operator==(const ProbeOutcome&) const = default;
};

class ProbeRunner {
 public:
  ProbeRunner(MetricRegistry* metrics, std::function<void(const std::string& key)> on_change);
  ~ProbeRunner();
  ProbeRunner(const ProbeRunner&) = delete;
  ProbeRunner& operator=(const ProbeRunner&) = delete;

  void Start();
  void Stop();

  // Probes `key` ("namespace/name") from now on (at once when new or its settings changed).
  void Set(const std::string& key, ProbeTarget target) FMQ_EXCLUDES(mu_);
  void Remove(const std::string& key) FMQ_EXCLUDES(mu_);
  std::optional<ProbeOutcome> Last(const std::string& key) const FMQ_EXCLUDES(mu_);

  // One probe of `t`, what the runner does at each interval (public for tests).
  ProbeOutcome RunOnce(const ProbeTarget& t);

 private:
  struct Entry {
    ProbeTarget target;
    std::chrono::steady_clock::time_point next{};
    std::optional<ProbeOutcome> last;
  };
  void Loop() FMQ_EXCLUDES(mu_);

  GaugeFamily* success_ = nullptr;
  HistogramFamily* latency_ = nullptr;
  CounterFamily* failures_ = nullptr;
  const std::function<void(const std::string&)> on_change_;
  mutable Mutex mu_;
  CondVar cv_{&mu_};
  std::map<std::string, Entry> entries_ FMQ_GUARDED_BY(mu_);
  bool stopping_ FMQ_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace fmq::op::controllers
