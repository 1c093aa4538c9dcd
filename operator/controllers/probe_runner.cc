#include "operator/controllers/probe_runner.h"

#include <pthread.h>
#include <algorithm>

#include "broker/base/logging.h"
#include "broker/base/strings.h"

namespace fmq::op::controllers {

namespace {
using SteadyClock = std::chrono::steady_clock;

bool SameSettings(const ProbeTarget& a, const ProbeTarget& b) {
  return a.topic == b.topic && a.message_size == b.message_size && a.interval == b.interval &&
         a.groups == b.groups && a.admin == b.admin;
}
}  // namespace

ProbeRunner::ProbeRunner(MetricRegistry* metrics, std::function<void(const std::string&)> on_change)
    : on_change_(std::move(on_change)) {
  if (metrics == nullptr) return;
  success_ =
      &metrics->AddGauge("ferrymq_operator_probe_success",
                         "1 if the Cluster's last dial test (spec.probe) passed on every broker group.",
                         {"namespace", "cluster"});
  latency_ = &metrics->AddHistogram(
      "ferrymq_operator_probe_latency_seconds", "Dial test: from send to read back, per message.",
      {"namespace", "cluster", "group"}, MetricRegistry::ExponentialBuckets(0.001, 2, 14));
  failures_ = &metrics->AddCounter("ferrymq_operator_probe_failures_total",
                                   "Dial tests a broker group failed (send failed, message lost or late).",
                                   {"namespace", "cluster", "group"});
}

ProbeRunner::~ProbeRunner() { Stop(); }

void ProbeRunner::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "probe");
    Loop();
  });
}

void ProbeRunner::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void ProbeRunner::Set(const std::string& key, ProbeTarget target) {
  MutexLock lock(&mu_);
  auto [it, added] = entries_.try_emplace(key);
  if (added || !SameSettings(it->second.target, target)) {
    it->second.next = SteadyClock::now();  // new or changed: probe now
    cv_.SignalAll();
  }
  it->second.target = std::move(target);
}

void ProbeRunner::Remove(const std::string& key) {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (success_ != nullptr) success_->Remove({it->second.target.ns, it->second.target.cluster});
  entries_.erase(it);
}

std::optional<ProbeOutcome> ProbeRunner::Last(const std::string& key) const {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.last;
}

ProbeOutcome ProbeRunner::RunOnce(const ProbeTarget& t) {
  client::ClientOptions options = t.admin->core().options();
  options.shared_remoting = t.admin->core().remoting();
  options.use_default_topic = false;
  // A broker that does not answer is reported within a fifth of the interval (1 to 3 s), so the outcome, and
  // the reconcile after it, land within two intervals of a group stopping.
  options.rpc_timeout =
      std::clamp<std::chrono::milliseconds>(t.interval / 5, std::chrono::seconds(1), std::chrono::seconds(3));
  client::ProbeOptions po;
  po.topic = t.topic;
  po.count = 1;
  po.size = t.message_size;
  po.timeout = std::min<std::chrono::milliseconds>(t.interval / 2, std::chrono::seconds(10));
  po.send_timeout = options.rpc_timeout;
  po.expect_groups = t.groups;
  auto r = client::RunProbe(options, po);
  const bool missing_topic = !r.ok() || std::any_of(r->groups.begin(), r->groups.end(), [](const auto& g) {
    return g.error.starts_with("not in the route");
  });
  if (missing_topic) {
    // Created on every master of the Cluster (1 queue each); probed again at the next interval.
    client::CreateTopicOptions to;
    to.read_queue_nums = to.write_queue_nums = 1;
    auto created = t.admin->CreateTopic(t.topic, t.cluster, to);
    if (!created.ok()) {
      GetLogger("operator")
          ->warn("probe topic {} not created in cluster {}/{}: {}", t.topic, t.ns, t.cluster,
                 created.status().ToString());
    }
  }
  ProbeOutcome out;
  if (!r.ok()) {
    out.message = "probe topic " + t.topic + ": " + std::string(r.status().message());
    return out;
  }
  std::vector<std::string> problems;
  for (const auto& g : r->groups) {
    const std::string problem = g.Problem();
    if (!problem.empty()) problems.push_back(g.group + ": " + problem);
    for (double ms : g.e2e_ms) {
      if (latency_ != nullptr) latency_->WithLabels({t.ns, t.cluster, g.group}).Observe(ms / 1000.0);
    }
    if (failures_ != nullptr && !problem.empty()) failures_->WithLabels({t.ns, t.cluster, g.group}).Inc();
  }
  out.ok = problems.empty() && r->ok();
  if (out.ok) {
    // No latency here: the condition changes only when the outcome does (latency is in the metrics).
    out.message = "every broker group (" + std::to_string(r->groups.size()) + ") took and delivered a " +
                  std::to_string(t.message_size) + "-byte message";
  } else {
    out.message = JoinStrings(problems, "; ");
    if (out.message.empty()) out.message = "no broker group in the route of " + t.topic;
  }
  return out;
}

void ProbeRunner::Loop() {
  mu_.lock();
  while (!stopping_) {
    // The entry due first.
    auto due = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (due == entries_.end() || it->second.next < due->second.next) due = it;
    }
    if (due == entries_.end()) {
      cv_.Wait();
      continue;
    }
    const auto now = SteadyClock::now();
    if (due->second.next > now) {
      cv_.WaitFor(due->second.next - now);
      continue;
    }
    const std::string key = due->first;
    const ProbeTarget target = due->second.target;
    due->second.next = now + target.interval;
    mu_.unlock();
    ProbeOutcome outcome = RunOnce(target);
    mu_.lock();
    auto it = entries_.find(key);
    if (it == entries_.end() || !SameSettings(it->second.target, target)) continue;  // removed or changed
    const bool changed = it->second.last != outcome;
    it->second.last = outcome;
    if (success_ != nullptr) success_->WithLabels({target.ns, target.cluster}).Set(outcome.ok ? 1 : 0);
    if (changed) {
      GetLogger("operator")
          ->log(outcome.ok ? spdlog::level::info : spdlog::level::warn, "probe of cluster {}: {}", key,
                outcome.message);
      if (on_change_) {
        mu_.unlock();
        on_change_(key);
        mu_.lock();
      }
    }
  }
  mu_.unlock();
}

}  // namespace fmq::op::controllers
