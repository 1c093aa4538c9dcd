#include "operator/runtime/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace fmq::op::runtime {

Duration ItemExponentialRateLimiter::When(const std::string& item) {
  MutexLock lock(&mu_);
  int exp = failures_[item]++;
  // base * 2^exp without overflowing: past 2^40 the cap has long been reached.
  if (exp > 40) return max_;
  double d = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (d >= static_cast<double>(max_.count())) return max_;
  return Duration(static_cast<int64_t>(d));
}

void ItemExponentialRateLimiter::Forget(const std::string& item) {
  MutexLock lock(&mu_);
  failures_.erase(item);
}

int ItemExponentialRateLimiter::NumRequeues(const std::string& item) {
  MutexLock lock(&mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, const Clock* clock)
    : qps_(qps), burst_(burst), clock_(clock != nullptr ? clock : &SystemClock()) {
  MutexLock lock(&mu_);
  tokens_ = burst_;
  last_nanos_ = clock_->MonotonicNanos();
}

Duration BucketRateLimiter::When(const std::string&) {
  MutexLock lock(&mu_);
  int64_t now = clock_->MonotonicNanos();
  if (now > last_nanos_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_nanos_) * 1e-9 * qps_);
    last_nanos_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration(0);
  return Duration(static_cast<int64_t>(std::ceil(-tokens_ / qps_ * 1e9)));
}

Duration MaxOfRateLimiter::When(const std::string& item) {
  Duration d(0);
  for (const auto& l : limiters_) d = std::max(d, l->When(item));
  return d;
}

void MaxOfRateLimiter::Forget(const std::string& item) {
  for (const auto& l : limiters_) l->Forget(item);
}

int MaxOfRateLimiter::NumRequeues(const std::string& item) {
  int n = 0;
  for (const auto& l : limiters_) n = std::max(n, l->NumRequeues(item));
  return n;
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(const Clock* clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(
      std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(5), std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(initial), max_(max), current_(initial), rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::Next() {
  auto d = current_;
  current_ = std::min(max_, current_ * 2);
  if (d.count() <= 1) return d;
  std::uniform_int_distribution<int64_t> dist(d.count() / 2, d.count());
  return std::chrono::milliseconds(dist(rng_));
}

std::chrono::milliseconds Jitter(std::chrono::milliseconds d, double fraction) {
  if (d.count() <= 0 || fraction <= 0) return d;
  std::random_device rd;
  std::uniform_real_distribution<double> dist(1.0 - std::min(fraction, 1.0), 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * dist(rd)));
}

}  // namespace fmq::op::runtime
