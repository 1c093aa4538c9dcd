#include "operator/runtime/leader_election.h"

#include <random>

#include "broker/base/logging.h"
#include "operator/kube/errors.h"
#include "operator/kube/object.h"

namespace fmq::op::runtime {

class LeaderElector::Loop final : public ServiceThread {
 public:
  explicit Loop(LeaderElector* e) : ServiceThread("leader-elect"), e_(e) {}
  void Wait(std::chrono::milliseconds d) { WaitForRunning(d); }

 protected:
  void Run() override { e_->Run(); }

 private:
  LeaderElector* const e_;  // owns the loop
};

namespace {

// client-go waits retryPeriod * (1 + up to 1.2): candidates that start together spread out.
std::chrono::milliseconds JitteredRetry(std::chrono::milliseconds d) {
  std::random_device rd;
  std::uniform_real_distribution<double> dist(1.0, 2.2);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * dist(rd)));
}

int64_t IntField(const kube::Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

LeaderElector::LeaderElector(kube::Config config, LeaderElectionConfig election, LeaderCallbacks callbacks)
    : config_(std::move(config)),
      election_(std::move(election)),
      callbacks_(std::move(callbacks)),
      clock_(election_.clock != nullptr ? election_.clock : &SystemClock()) {
  if (election_.metrics != nullptr) {
    leader_gauge_ =
        &election_.metrics
             ->AddGauge("ferrymq_operator_leader", "1 while this replica holds the leader Lease.", {"lease"})
             .WithLabels({election_.lease_namespace + "/" + election_.lease_name});
    leader_gauge_->Set(0);
  }
}

LeaderElector::~LeaderElector() { Stop(); }

Status LeaderElector::Start() {
  if (loop_) return Status::FailedPrecondition("leader elector already started");
  if (election_.lease_namespace.empty() || election_.lease_name.empty() || election_.identity.empty()) {
    return Status::InvalidArgument("leader election needs a lease namespace, a lease name and an identity");
  }
  if (election_.lease_duration <= election_.renew_deadline ||
      election_.renew_deadline <= election_.retry_period || election_.retry_period.count() <= 0) {
    return Status::InvalidArgument(
        "leader election needs lease duration > renew deadline > retry period > 0 (defaults 15 s, 10 s, 2 "
        "s)");
  }
  // No retries and a short timeout: one slow call must not stretch a renewal past the renew deadline. No
  // metrics registry either: renewals every retry period are not the operator's writes.
  FMQ_ASSIGN_OR_RETURN(
      client_, kube::Client::New(config_, {.request_timeout = election_.retry_period, .max_attempts = 1}));
  loop_ = std::make_unique<Loop>(this);
  GetLogger("runtime")->info("leader election started lease={}/{} identity={}", election_.lease_namespace,
                             election_.lease_name, election_.identity);
  return loop_->Start();
}

void LeaderElector::Stop() {
  if (loop_) loop_->Stop();
}

std::string LeaderElector::CurrentLeader() const {
  MutexLock lock(&mu_);
  return observed_holder_;
}

std::string LeaderElector::Now() const { return kube::FormatMicroTime(clock_->NowMillis() * 1000); }

void LeaderElector::SetLeading(bool leading) {
  leading_.store(leading);
  if (leader_gauge_ != nullptr) leader_gauge_->Set(leading ? 1 : 0);
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto& ns = election_.lease_namespace;
  const auto& name = election_.lease_name;
  const auto& id = election_.identity;
  const int64_t duration_secs = std::max<int64_t>(1, election_.lease_duration.count() / 1000);
  const std::string now = Now();
  auto log = GetLogger("runtime");

  auto got = client_->Get(kube::kinds::kLease, ns, name);
  if (!got.ok()) {
    if (!kube::IsNotFound(got.status())) {
      log->warn("cannot read the leader Lease lease={}/{} error={}", ns, name, got.status().ToString());
      return false;
    }
    kube::Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                        {"kind", "Lease"},
                        {"metadata", {{"name", name}, {"namespace", ns}}},
                        {"spec",
                         {{"holderIdentity", id},
                          {"leaseDurationSeconds", duration_secs},
                          {"acquireTime", now},
                          {"renewTime", now},
                          {"leaseTransitions", 0}}}};
    auto created = client_->Create(kube::kinds::kLease, ns, lease);
    if (!created.ok()) {
      if (!kube::IsAlreadyExists(created.status())) {
        log->warn("cannot create the leader Lease lease={}/{} error={}", ns, name,
                  created.status().ToString());
      }
      return false;
    }
    {
      MutexLock lock(&mu_);
      observed_holder_ = id;
      observed_renew_time_ = now;
      observed_at_ = std::chrono::steady_clock::now();
      observed_transitions_ = 0;
    }
    if (callbacks_.on_new_leader) callbacks_.on_new_leader(id);
    return true;
  }

  kube::Json lease = std::move(got).value();
  kube::Json spec =
      lease.contains("spec") && lease["spec"].is_object() ? lease["spec"] : kube::Json::object();
  const std::string holder = kube::GetString(spec, "holderIdentity");
  const std::string renew = kube::GetString(spec, "renewTime");
  const int64_t transitions = IntField(spec, "leaseTransitions");
  int64_t record_secs = IntField(spec, "leaseDurationSeconds");
  if (record_secs <= 0) record_secs = duration_secs;
  const auto steady_now = std::chrono::steady_clock::now();
  bool holder_changed = false;
  std::chrono::steady_clock::time_point observed_at;
  {
    MutexLock lock(&mu_);
    if (holder != observed_holder_ || renew != observed_renew_time_) {
      holder_changed = holder != observed_holder_;
      observed_holder_ = holder;
      observed_renew_time_ = renew;
      observed_at_ = steady_now;
      observed_transitions_ = transitions;
    }
    observed_at = observed_at_;
  }
  if (holder_changed && !holder.empty() && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
  if (!holder.empty() && holder != id && observed_at + std::chrono::seconds(record_secs) > steady_now) {
    return false;  // held by someone who renewed within its lease duration
  }

  spec["holderIdentity"] = id;
  spec["leaseDurationSeconds"] = duration_secs;
  spec["renewTime"] = now;
  if (holder != id) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = transitions + 1;
  }
  lease["spec"] = spec;  // metadata.resourceVersion stays: the PUT is a compare-and-swap
  auto put = client_->Replace(kube::kinds::kLease, ns, lease);
  if (!put.ok()) {
    if (kube::IsConflict(put.status())) {
      log->debug("lost the race for the Lease lease={}/{}", ns, name);
    } else {
      log->warn("cannot write the leader Lease lease={}/{} error={}", ns, name, put.status().ToString());
    }
    return false;
  }
  {
    MutexLock lock(&mu_);
    observed_holder_ = id;
    observed_renew_time_ = now;
    observed_at_ = std::chrono::steady_clock::now();
    observed_transitions_ = IntField(spec, "leaseTransitions");
  }
  if (holder != id) {
    log->info("acquired the leader Lease lease={}/{} identity={} previous={}", ns, name, id,
              holder.empty() ? std::string("none") : holder);
    if (callbacks_.on_new_leader) callbacks_.on_new_leader(id);
  }
  return true;
}

void LeaderElector::Release() {
  const auto& ns = election_.lease_namespace;
  const auto& name = election_.lease_name;
  auto got = client_->Get(kube::kinds::kLease, ns, name);
  if (!got.ok()) return;
  kube::Json lease = std::move(got).value();
  if (!lease.contains("spec") || kube::GetString(lease["spec"], "holderIdentity") != election_.identity)
    return;
  std::string now = Now();
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = now;
  lease["spec"]["acquireTime"] = now;
  auto put = client_->Replace(kube::kinds::kLease, ns, lease);
  if (put.ok()) {
    GetLogger("runtime")->info("released the leader Lease lease={}/{} identity={}", ns, name,
                               election_.identity);
  } else {
    GetLogger("runtime")->warn("cannot release the leader Lease lease={}/{} error={}", ns, name,
                               put.status().ToString());
  }
}

void LeaderElector::Run() {
  auto log = GetLogger("runtime");
  while (!loop_->IsStopped()) {
    if (TryAcquireOrRenew()) break;
    loop_->Wait(JitteredRetry(election_.retry_period));
  }
  if (loop_->IsStopped()) return;
  SetLeading(true);
  if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  auto last_renew = std::chrono::steady_clock::now();
  bool lost = false;
  while (true) {
    loop_->Wait(election_.retry_period);
    if (loop_->IsStopped()) break;
    if (TryAcquireOrRenew()) {
      last_renew = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - last_renew >= election_.renew_deadline) {
      lost = true;
      break;
    }
  }
  if (lost) {
    log->error("lost the leader Lease lease={}/{} identity={}: no renewal within {} ms",
               election_.lease_namespace, election_.lease_name, election_.identity,
               election_.renew_deadline.count());
    lost_.store(true);
  } else if (election_.release_on_stop) {
    Release();
  }
  SetLeading(false);
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

}  // namespace fmq::op::runtime
