#pragma once

// ServiceThread: a named background loop with Start/Stop (CONVENTIONS.md rule 6: no detached threads).
//
// Subclasses implement Run(), which loops until IsStopped() and sleeps with WaitForRunning(interval);
// Wakeup() ends a wait early (and a Wakeup() that arrives while Run() is busy makes the next wait return at
// once, so no signal is lost). Stop() sets the flag, wakes the thread and joins it; it is idempotent and must
// be called before destruction by the owner.
//
// Thread-safety: Start/Stop from the owner's thread; Wakeup from any thread.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "broker/base/mutex.h"
#include "broker/base/status.h"

namespace fmq {

class ServiceThread {
 public:
  explicit ServiceThread(std::string name);
  virtual ~ServiceThread();
  ServiceThread(const ServiceThread&) = delete;
  ServiceThread& operator=(const ServiceThread&) = delete;

  Status Start();
  void Stop();
  void Wakeup();

  const std::string& name() const { return name_; }
  bool IsStopped() const { return stopped_.load(std::memory_order_acquire); }

 protected:
  virtual void Run() = 0;
  // Blocks until Wakeup(), Stop() or `interval` passes.
  void WaitForRunning(std::chrono::milliseconds interval);

 private:
  std::string name_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  Mutex mu_;
  CondVar cv_{&mu_};
  bool notified_ FMQ_GUARDED_BY(mu_) = false;
};

}  // namespace fmq
