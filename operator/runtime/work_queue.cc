#include "operator/runtime/work_queue.h"

namespace fmq::op::runtime {

namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

WorkQueue::WorkQueue(std::string name, std::unique_ptr<RateLimiter> rate_limiter, MetricRegistry* metrics)
    : name_(std::move(name)),
      rate_limiter_(rate_limiter ? std::move(rate_limiter) : DefaultControllerRateLimiter()) {
  if (metrics != nullptr) {
    auto buckets = MetricRegistry::ExponentialBuckets(0.001, 4, 10);  // 1 ms .. ~4.4 min
    depth_ =
        &metrics->AddGauge("ferrymq_operator_workqueue_depth", "Keys waiting in the work queue.", {"name"})
             .WithLabels({name_});
    adds_ =
        &metrics
             ->AddCounter("ferrymq_operator_workqueue_adds_total", "Keys added to the work queue.", {"name"})
             .WithLabels({name_});
    retries_ = &metrics
                    ->AddCounter("ferrymq_operator_workqueue_retries_total",
                                 "Rate-limited re-adds (retries).", {"name"})
                    .WithLabels({name_});
    queue_latency_ =
        &metrics
             ->AddHistogram("ferrymq_operator_workqueue_queue_duration_seconds",
                            "Time a key waits in the queue before a worker takes it.", {"name"}, buckets)
             .WithLabels({name_});
    work_duration_ = &metrics
                          ->AddHistogram("ferrymq_operator_workqueue_work_duration_seconds",
                                         "Time a worker spends on a key.", {"name"}, buckets)
                          .WithLabels({name_});
  }
}

void WorkQueue::UpdateDepthLocked() {
  if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (dirty_.count(key)) return;  // already wanted: dedupe
  if (adds_ != nullptr) adds_->Inc();
  dirty_.insert(key);
  added_at_.emplace(key, std::chrono::steady_clock::now());
  if (processing_.count(key)) return;  // re-run after Done()
  queue_.push_back(key);
  UpdateDepthLocked();
  cv_.Signal();
}

void WorkQueue::Add(const std::string& key) {
  MutexLock lock(&mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  MutexLock lock(&mu_);
  if (shutting_down_) return;
  if (delay <= Duration::zero()) {
    AddLocked(key);
    return;
  }
  auto due = std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    if (it->second <= due) return;  // already due earlier
    auto range = waiting_by_time_.equal_range(it->second);
    for (auto r = range.first; r != range.second; ++r) {
      if (r->second == key) {
        waiting_by_time_.erase(r);
        break;
      }
    }
    it->second = due;
  } else {
    waiting_.emplace(key, due);
  }
  waiting_by_time_.emplace(due, key);
  cv_.SignalAll();  // a waiter may need to wake earlier
}

void WorkQueue::AddRateLimited(const std::string& key) {
  if (retries_ != nullptr) retries_->Inc();
  AddAfter(key, rate_limiter_->When(key));
}

void WorkQueue::Forget(const std::string& key) { rate_limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) { return rate_limiter_->NumRequeues(key); }

std::optional<WorkQueue::SteadyTime> WorkQueue::PromoteDueLocked(SteadyTime now) {
  while (!waiting_by_time_.empty()) {
    auto first = waiting_by_time_.begin();
    if (first->first > now) return first->first;
    std::string key = first->second;
    waiting_by_time_.erase(first);
    waiting_.erase(key);
    AddLocked(key);
  }
  return std::nullopt;
}

std::optional<std::string> WorkQueue::GetUntil(std::optional<SteadyTime> deadline) {
  MutexLock lock(&mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    auto now = std::chrono::steady_clock::now();
    std::optional<SteadyTime> next_due = PromoteDueLocked(now);
    if (!queue_.empty()) break;
    std::optional<SteadyTime> wake = next_due;
    if (deadline && (!wake || *deadline < *wake)) wake = deadline;
    if (deadline && now >= *deadline) return std::nullopt;
    if (wake) {
      cv_.WaitFor(*wake - now);
    } else {
      cv_.Wait();
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  UpdateDepthLocked();
  processing_.insert(key);
  dirty_.erase(key);
  auto now = std::chrono::steady_clock::now();
  auto added = added_at_.find(key);
  if (added != added_at_.end()) {
    if (queue_latency_ != nullptr) queue_latency_->Observe(Seconds(now - added->second));
    added_at_.erase(added);
  }
  started_at_[key] = now;
  return key;
}

std::optional<std::string> WorkQueue::Get() { return GetUntil(std::nullopt); }

std::optional<std::string> WorkQueue::GetFor(std::chrono::milliseconds timeout) {
  return GetUntil(std::chrono::steady_clock::now() + timeout);
}

void WorkQueue::Done(const std::string& key) {
  MutexLock lock(&mu_);
  processing_.erase(key);
  auto started = started_at_.find(key);
  if (started != started_at_.end()) {
    if (work_duration_ != nullptr)
      work_duration_->Observe(Seconds(std::chrono::steady_clock::now() - started->second));
    started_at_.erase(started);
  }
  if (dirty_.count(key) && !shutting_down_) {
    queue_.push_back(key);
    UpdateDepthLocked();
    cv_.Signal();
  }
}

void WorkQueue::ShutDown() {
  MutexLock lock(&mu_);
  shutting_down_ = true;
  cv_.SignalAll();
}

bool WorkQueue::ShuttingDown() const {
  MutexLock lock(&mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

size_t WorkQueue::DelayedLen() const {
  MutexLock lock(&mu_);
  return waiting_.size();
}

bool WorkQueue::IsProcessing(const std::string& key) const {
  MutexLock lock(&mu_);
  return processing_.count(key) > 0;
}

}  // namespace fmq::op::runtime
