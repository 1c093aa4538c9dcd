#pragma once

// BoundedExecutor: a fixed pool of threads with a bounded task queue, one per request family (send, pull,
// admin, ...). When the queue is full TrySubmit() refuses at once, so the caller can answer SYSTEM_BUSY
// instead of letting work pile up (architecture: "a full queue answers SYSTEM_BUSY at once; an Asio thread
// never blocks on disk").
//
// Created and started by the composition root, stopped before the server that submits to it is destroyed.
// Thread-safety: TrySubmit from any thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"

namespace fmq::net {

class BoundedExecutor {
 public:
  BoundedExecutor(std::string name, int threads, size_t capacity);
  ~BoundedExecutor();
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  Status Start();
  // Runs the tasks already queued, then joins. Idempotent.
  void Stop();
  // Queues `task`; false when the queue is full or the executor stopped.
  bool TrySubmit(std::function<void()> task) FMQ_EXCLUDES(mu_);
  size_t queued() const FMQ_EXCLUDES(mu_);
  size_t capacity() const { return capacity_; }
  // How long the oldest queued task has waited (RocketMQ's ...ThreadPoolQueueHeadWaitTimeMills); 0 when
  // empty.
  int64_t head_wait_ms() const FMQ_EXCLUDES(mu_);
  const std::string& name() const { return name_; }

 private:
  void Loop();

  const std::string name_;
  const int threads_count_;
  const size_t capacity_;
  mutable Mutex mu_;
  CondVar cv_{&mu_};
  struct Task {
    std::function<void()> fn;
    std::chrono::steady_clock::time_point queued_at;
  };
  std::deque<Task> tasks_ FMQ_GUARDED_BY(mu_);
  bool stopping_ FMQ_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace fmq::net
