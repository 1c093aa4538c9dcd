#pragma once

// Scheduler: one thread running tasks now or after a delay, in due order. The PushConsumer issues every pull
// from it (never from a network thread, where connecting to a new broker would wait for itself), including
// the delayed ones: flow control (50 ms), back-off after errors (1 s), local re-consumption.
//
// Owned by its user; Stop() drops tasks not yet due and joins. Thread-safety: Schedule from any thread.

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "broker/base/mutex.h"

namespace fmq::client::internal {

class Scheduler {
 public:
  Scheduler() = default;
  ~Scheduler() { Stop(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void Start();
  void Stop() FMQ_EXCLUDES(mu_);
  // False once stopped.
  bool Schedule(std::chrono::milliseconds delay, std::function<void()> task) FMQ_EXCLUDES(mu_);

 private:
  void Loop() FMQ_EXCLUDES(mu_);

  Mutex mu_;
  CondVar cv_{&mu_};
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> tasks_ FMQ_GUARDED_BY(mu_);
  bool stopped_ FMQ_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace fmq::client::internal
