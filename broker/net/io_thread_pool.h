#pragma once

// IoThreadPool: one io_context run by a fixed number of threads. A RemotingClient runs its connections on
// its own pool of one thread, or on a pool shared with other clients of the process: a process with 64
// producers then wakes two I/O threads rather than 64, and a busy shared thread picks up the next ready
// socket from the same epoll_wait instead of being woken for each response (ferrymq-bench; see
// bench/README.md).
//
// Created by its user (a RemotingClient, or a composition root such as ferrymq-bench for a shared pool);
// Start() before use; Stop() joins the threads once their work is done. Every client using a shared pool must
// be stopped before the pool stops. Thread-safety: context() from any thread; Start/Stop from the owner.

#include <utility>  // Boost 1.74's Asio misses this include (ARCHITECTURE.md, section 7)

#include <boost/asio.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/status.h"

namespace fmq::net {

class IoThreadPool {
 public:
  // `name` (at most 12 characters are kept) names the threads "<name>-<i>" for top and perf.
  explicit IoThreadPool(int threads = 1, std::string name = "fmq-io");
  ~IoThreadPool();
  IoThreadPool(const IoThreadPool&) = delete;
  IoThreadPool& operator=(const IoThreadPool&) = delete;

  Status Start();
  // Lets the threads finish the work under way (closing sockets, their callbacks), then joins them.
  // Idempotent; the pool may be started again.
  void Stop();

  boost::asio::io_context& context() { return io_; }
  int threads() const { return threads_count_; }
  bool running() const { return !threads_.empty(); }

 private:
  const int threads_count_;
  const std::string name_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace fmq::net
