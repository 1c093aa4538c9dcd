#include "broker/client/internal/periodic.h"

#include <algorithm>

namespace fmq::client::internal {

size_t PeriodicTasks::Add(std::string name, std::chrono::milliseconds period, std::function<void()> fn,
                          bool run_at_start) {
  const auto now = std::chrono::steady_clock::now();
  tasks_.push_back({std::move(name), period, std::move(fn), run_at_start ? now : now + period});
  MutexLock lock(&mu_);
  triggered_.push_back(false);
  return tasks_.size() - 1;
}

void PeriodicTasks::Trigger(size_t task) {
  {
    MutexLock lock(&mu_);
    if (task < triggered_.size()) triggered_[task] = true;
  }
  Wakeup();
}

void PeriodicTasks::Run() {
  while (!IsStopped()) {
    auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < tasks_.size() && !IsStopped(); ++i) {
      bool triggered;
      {
        MutexLock lock(&mu_);
        triggered = triggered_[i];
        triggered_[i] = false;
      }
      if (triggered || now >= tasks_[i].due) {
        tasks_[i].fn();
        now = std::chrono::steady_clock::now();
        tasks_[i].due = now + tasks_[i].period;
      }
    }
    auto next = now + std::chrono::seconds(1);
    for (const auto& t : tasks_) next = std::min(next, t.due);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
    WaitForRunning(std::max(wait, std::chrono::milliseconds(1)));
  }
}

}  // namespace fmq::client::internal
