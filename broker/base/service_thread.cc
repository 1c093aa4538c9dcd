#include "broker/base/service_thread.h"

#include <pthread.h>

#include "broker/base/check.h"

namespace fmq {

ServiceThread::ServiceThread(std::string name) : name_(std::move(name)) {}

ServiceThread::~ServiceThread() {
  FMQ_CHECK_MSG(!thread_.joinable(), "ServiceThread destroyed while running: call Stop() first");
}

Status ServiceThread::Start() {
  if (started_.exchange(true))
    return Status::FailedPrecondition("service thread " + name_ + " already started");
  stopped_.store(false, std::memory_order_release);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    Run();
  });
  return Status::Ok();
}

void ServiceThread::Stop() {
  stopped_.store(true, std::memory_order_release);
  Wakeup();
  if (thread_.joinable()) thread_.join();
}

void ServiceThread::Wakeup() {
  MutexLock lock(&mu_);
  notified_ = true;
  cv_.SignalAll();
}

void ServiceThread::WaitForRunning(std::chrono::milliseconds interval) {
  MutexLock lock(&mu_);
  if (!notified_ && !IsStopped()) {
    auto deadline = std::chrono::steady_clock::now() + interval;
    while (!notified_ && !IsStopped()) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      cv_.WaitFor(deadline - now);
    }
  }
  notified_ = false;
}

}  // namespace fmq
