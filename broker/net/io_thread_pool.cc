#include "broker/net/io_thread_pool.h"

#include <pthread.h>

namespace fmq::net {

namespace asio = boost::asio;

IoThreadPool::IoThreadPool(int threads, std::string name)
    : threads_count_(threads < 1 ? 1 : threads), name_(std::move(name)), io_(threads_count_) {}

IoThreadPool::~IoThreadPool() { Stop(); }

Status IoThreadPool::Start() {
  if (!threads_.empty()) return Status::FailedPrecondition("I/O thread pool " + name_ + " already started");
  io_.restart();  // a pool may be started again after Stop()
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor());
  for (int i = 0; i < threads_count_; ++i) {
    threads_.emplace_back([this, i] {
      const std::string n = name_.substr(0, 12) + "-" + std::to_string(i);
      pthread_setname_np(pthread_self(), n.substr(0, 15).c_str());
      io_.run();
    });
  }
  return Status::Ok();
}

void IoThreadPool::Stop() {
  work_.reset();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();  // run() returns once the closes and their callbacks are done
  }
  threads_.clear();
}

}  // namespace fmq::net
