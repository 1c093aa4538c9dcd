#include "broker/client/internal/scheduler.h"

namespace fmq::client::internal {

void Scheduler::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    tasks_.clear();
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

bool Scheduler::Schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    if (stopped_) return false;
    tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
  }
  cv_.Signal();
  return true;
}

void Scheduler::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      while (!task) {
        if (stopped_) return;
        if (tasks_.empty()) {
          cv_.Wait();
          continue;
        }
        const auto now = std::chrono::steady_clock::now();
        auto first = tasks_.begin();
        if (first->first > now) {
          cv_.WaitFor(first->first - now);
          continue;
        }
        task = std::move(first->second);
        tasks_.erase(first);
      }
    }
    task();
  }
}

}  // namespace fmq::client::internal
