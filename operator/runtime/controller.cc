#include "operator/runtime/controller.h"

#include <exception>

#include "broker/base/logging.h"
#include "broker/base/service_thread.h"
#include "operator/kube/object.h"

namespace fmq::op::runtime {

class Controller::Worker final : public ServiceThread {
 public:
  Worker(Controller* c, int index) : ServiceThread("ctl-" + c->name_ + "-" + std::to_string(index)), c_(c) {}

 protected:
  void Run() override {
    while (!IsStopped()) {
      auto key = c_->queue_.Get();
      if (!key) return;  // shut down
      c_->ProcessOne(*key);
      c_->queue_.Done(*key);
    }
  }

 private:
  Controller* const c_;  // owns the worker
};

Controller::Controller(ControllerOptions options, ReconcileFunc reconcile)
    : name_(options.name),
      worker_count_(std::max(1, options.workers)),
      reconcile_(std::move(reconcile)),
      queue_(options.name, std::move(options.rate_limiter), options.metrics) {
  if (options.metrics != nullptr) {
    reconcile_total_ = &options.metrics->AddCounter("ferrymq_operator_reconcile_total",
                                                    "Reconciles by controller and result (success, error, "
                                                    "requeue_after).",
                                                    {"controller", "result"});
    reconcile_duration_ =
        &options.metrics
             ->AddHistogram("ferrymq_operator_reconcile_duration_seconds", "Time one Reconcile call takes.",
                            {"controller"}, MetricRegistry::ExponentialBuckets(0.001, 2.5, 14))
             .WithLabels({name_});
    in_progress_ = &options.metrics->AddGauge("ferrymq_operator_reconcile_in_progress_start_time_seconds",
                                              "Unix time a reconcile still running started, per object.",
                                              {"controller", "namespace", "name"});
    // Create the series at zero so dashboards see the controller before its first reconcile.
    for (const char* result : {"success", "error", "requeue_after"}) {
      reconcile_total_->WithLabels({name_, result});
    }
  }
}

Controller::~Controller() { Stop(); }

Status Controller::Start() {
  if (started_) return Status::FailedPrecondition("controller " + name_ + " already started");
  started_ = true;
  for (int i = 0; i < worker_count_; ++i) workers_.push_back(std::make_unique<Worker>(this, i));
  for (auto& w : workers_) FMQ_RETURN_IF_ERROR(w->Start());
  GetLogger("runtime")->info("controller started controller={} workers={}", name_, worker_count_);
  return Status::Ok();
}

void Controller::Stop() {
  queue_.ShutDown();
  for (auto& w : workers_) w->Stop();
}

void Controller::ProcessOne(const std::string& key) {
  auto [ns, name] = kube::SplitKey(key);
  if (in_progress_ != nullptr) in_progress_->WithLabels({name_, ns, name}).SetToCurrentTime();
  auto start = std::chrono::steady_clock::now();
  ReconcileResult result;
  try {
    result = reconcile_(key);
  } catch (const std::exception& e) {
    // A reconciler must not throw; if one does, treat it as a failed pass rather than losing the worker.
    result = ReconcileResult::Error(Status::Internal(std::string("reconcile threw: ") + e.what()));
  } catch (...) {
    result = ReconcileResult::Error(Status::Internal("reconcile threw a non-standard exception"));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (in_progress_ != nullptr) in_progress_->Remove({name_, ns, name});
  if (reconcile_duration_ != nullptr) reconcile_duration_->Observe(seconds);

  const char* label;
  if (!result.status.ok()) {
    label = "error";
    GetLogger("runtime")->warn("reconcile failed controller={} key={} retries={} error={}", name_, key,
                               queue_.NumRequeues(key), result.status.ToString());
    queue_.AddRateLimited(key);
  } else if (result.requeue_after) {
    label = "requeue_after";
    queue_.Forget(key);
    queue_.AddAfter(key, *result.requeue_after);
  } else {
    label = "success";
    queue_.Forget(key);
  }
  if (reconcile_total_ != nullptr) reconcile_total_->WithLabels({name_, label}).Inc();
}

EventHandler Controller::EnqueueObjectHandler() {
  auto enqueue = [this](const Json& o) { Enqueue(kube::ObjectKey(o)); };
  return {enqueue, [enqueue](const Json&, const Json& n) { enqueue(n); }, enqueue};
}

EventHandler Controller::EnqueueOwnerHandler(std::string owner_kind) {
  IndexFunc owners = IndexByControllerOwner(std::move(owner_kind));
  auto enqueue = [this, owners](const Json& o) {
    for (const auto& key : owners(o)) Enqueue(key);
  };
  return {enqueue,
          [enqueue](const Json& old_object, const Json& new_object) {
            enqueue(old_object);  // an owner that was replaced hears about it too
            enqueue(new_object);
          },
          enqueue};
}

EventHandler Controller::EnqueueMappedHandler(std::function<std::vector<std::string>(const Json&)> map) {
  auto enqueue = [this, map = std::move(map)](const Json& o) {
    for (const auto& key : map(o)) Enqueue(key);
  };
  return {enqueue,
          [enqueue](const Json& old_object, const Json& new_object) {
            enqueue(old_object);
            enqueue(new_object);
          },
          enqueue};
}

}  // namespace fmq::op::runtime
