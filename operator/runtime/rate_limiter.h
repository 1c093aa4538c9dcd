#pragma once

// Rate limiters for work-queue retries (client-go's workqueue rate limiters) and a jittered backoff for loops
// that retry the apiserver (informers, leader election).
//
// The controller default is max(per-item exponential 5 ms .. 1000 s, overall token bucket 10 qps / burst
// 100): one failing key backs off on its own, and a storm of failures cannot exceed 10 retries per second
// overall.
//
// Thread-safety: rate limiters are safe to call concurrently; a Backoff belongs to one thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"

namespace fmq::op::runtime {

using Duration = std::chrono::nanoseconds;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `item` must wait before its next attempt; each call counts as one more failure of it.
  virtual Duration When(const std::string& item) = 0;
  // Clears the item's failure history (after a success).
  virtual void Forget(const std::string& item) = 0;
  // Failures recorded for the item since the last Forget.
  virtual int NumRequeues(const std::string& item) = 0;
};

// base * 2^failures, capped at max_delay.
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(Duration base_delay, Duration max_delay) : base_(base_delay), max_(max_delay) {}
  Duration When(const std::string& item) override FMQ_EXCLUDES(mu_);
  void Forget(const std::string& item) override FMQ_EXCLUDES(mu_);
  int NumRequeues(const std::string& item) override FMQ_EXCLUDES(mu_);

 private:
  const Duration base_;
  const Duration max_;
  Mutex mu_;
  std::unordered_map<std::string, int> failures_ FMQ_GUARDED_BY(mu_);
};

// A token bucket shared by all items: `qps` tokens per second, at most `burst` saved up. Each When() reserves
// a token and returns how long until it is available (reservations queue up, as golang.org/x/time/rate's
// Reserve).
class BucketRateLimiter final : public RateLimiter {
 public:
  // `clock` is not owned (SystemClock() if null); its monotonic reading drives the refill.
  BucketRateLimiter(double qps, int burst, const Clock* clock = nullptr);
  Duration When(const std::string& item) override FMQ_EXCLUDES(mu_);
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }

 private:
  const double qps_;
  const double burst_;
  const Clock* const clock_;
  Mutex mu_;
  double tokens_ FMQ_GUARDED_BY(mu_);
  int64_t last_nanos_ FMQ_GUARDED_BY(mu_);
};

// The longest delay of several limiters.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
      : limiters_(std::move(limiters)) {}
  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  const std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// max(per-item 5 ms .. 1000 s, bucket 10 qps / burst 100).
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(const Clock* clock = nullptr);

// Jittered exponential backoff: initial, x2 each time, capped, each delay randomised to [d/2, d] so replicas
// that failed together do not retry together. Not thread-safe (one per retrying loop).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);
  std::chrono::milliseconds Next();
  void Reset() { current_ = initial_; }

 private:
  const std::chrono::milliseconds initial_;
  const std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
  std::mt19937_64 rng_;
};

// `d` randomised to [d*(1-fraction), d] (leader-election retry periods).
std::chrono::milliseconds Jitter(std::chrono::milliseconds d, double fraction);

}  // namespace fmq::op::runtime
