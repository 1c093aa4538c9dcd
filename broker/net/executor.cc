#include "broker/net/executor.h"

#include <pthread.h>

namespace fmq::net {

BoundedExecutor::BoundedExecutor(std::string name, int threads, size_t capacity)
    : name_(std::move(name)), threads_count_(threads < 1 ? 1 : threads), capacity_(capacity) {}

BoundedExecutor::~BoundedExecutor() { Stop(); }

Status BoundedExecutor::Start() {
  if (!threads_.empty()) return Status::FailedPrecondition("executor " + name_ + " already started");
  {
    MutexLock lock(&mu_);
    stopping_ = false;  // an executor may be started again after Stop()
  }
  for (int i = 0; i < threads_count_; ++i) {
    threads_.emplace_back([this, i] {
      std::string n = (name_ + "-" + std::to_string(i)).substr(0, 15);
      pthread_setname_np(pthread_self(), n.c_str());
      Loop();
    });
  }
  return Status::Ok();
}

void BoundedExecutor::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool BoundedExecutor::TrySubmit(std::function<void()> task) {
  MutexLock lock(&mu_);
  if (stopping_ || tasks_.size() >= capacity_) return false;
  tasks_.push_back({std::move(task), std::chrono::steady_clock::now()});
  cv_.Signal();
  return true;
}

size_t BoundedExecutor::queued() const {
  MutexLock lock(&mu_);
  return tasks_.size();
}

int64_t BoundedExecutor::head_wait_ms() const {
  MutexLock lock(&mu_);
  if (tasks_.empty()) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               tasks_.front().queued_at)
      .count();
}

void BoundedExecutor::Loop() {
  while (true) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      while (tasks_.empty() && !stopping_) cv_.Wait();
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front().fn);
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace fmq::net
