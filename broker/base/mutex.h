#pragma once

// Mutex and MutexLock: std::mutex with clang capability annotations, so FMQ_GUARDED_BY members are checked.
// CondVar waits on a Mutex. Thread-safety: these are the synchronisation primitives.

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "broker/base/thread_annotations.h"

namespace fmq {

class FMQ_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() FMQ_ACQUIRE() { mu_.lock(); }
  void unlock() FMQ_RELEASE() { mu_.unlock(); }
  bool try_lock() FMQ_TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class FMQ_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) FMQ_ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() FMQ_RELEASE() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;  // not owned; outlives the lock
};

// Condition variable bound to one Mutex; callers hold that mutex around Wait*. (Not annotated with
// FMQ_REQUIRES: clang cannot see that the CondVar's mutex is the caller's member; the callers' own
// FMQ_GUARDED_BY checks still apply to the state they test around the wait.)
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  void Wait() {
    std::unique_lock<std::mutex> lk(mu_->mu_, std::adopt_lock);
    cv_.wait(lk);
    lk.release();
  }
  // Returns false on timeout.
  template <typename Rep, typename Period>
  bool WaitFor(std::chrono::duration<Rep, Period> d) {
    std::unique_lock<std::mutex> lk(mu_->mu_, std::adopt_lock);
    bool signalled = cv_.wait_for(lk, d) == std::cv_status::no_timeout;
    lk.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  Mutex* mu_;  // not owned
  std::condition_variable cv_;
};

}  // namespace fmq
