#pragma once

// PeriodicTasks: one ServiceThread that runs named tasks at fixed periods (route refresh, heartbeats,
// rebalance, offset commits). Trigger() runs a task at the next wake-up (e.g. rebalance on
// NOTIFY_CONSUMER_IDS_CHANGED). Tasks run one at a time on this thread, so they may block on sync RPCs.
//
// Owned by a client object: Add() before Start(), Stop() before destroying what the tasks use.
// Thread-safety: Trigger from any thread.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"

namespace fmq::client::internal {

class PeriodicTasks : public ServiceThread {
 public:
  explicit PeriodicTasks(std::string name) : ServiceThread(std::move(name)) {}
  ~PeriodicTasks() override { Stop(); }

  // Returns the task's index for Trigger(). `run_at_start`: first run right after Start().
  size_t Add(std::string name, std::chrono::milliseconds period, std::function<void()> fn, bool run_at_start);
  void Trigger(size_t task) FMQ_EXCLUDES(mu_);

 protected:
  void Run() override;

 private:
  struct Task {
    std::string name;
    std::chrono::milliseconds period;
    std::function<void()> fn;
    std::chrono::steady_clock::time_point due;
  };
  std::vector<Task> tasks_;  // fixed after Start()
  Mutex mu_;
  std::vector<bool> triggered_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::client::internal
