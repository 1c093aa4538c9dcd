#pragma once

// RemotingClient: the client side of the remoting protocol. Keeps one connection per "host:port" (created on
// first use, replaced when it closes), matches responses to requests by opaque, and hands requests the peer
// sends (e.g. NOTIFY_CONSUMER_IDS_CHANGED from a broker) to an optional handler.
//
// Created by its user (ferryctl, the bench, the operator, tests); Start() before use, Stop() before
// destruction. Thread-safety: Invoke* from any thread.

#include <utility>  // Boost 1.74's Asio misses this include

#include <boost/asio.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/net/connection.h"

namespace fmq::net {

struct ClientConfig {
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds idle_timeout{120'000};
};

class RemotingClient {
 public:
  explicit RemotingClient(ClientConfig config = {});
  ~RemotingClient();
  RemotingClient(const RemotingClient&) = delete;
  RemotingClient& operator=(const RemotingClient&) = delete;

  Status Start();
  void Stop();

  // Requests from peers; runs on the I/O thread, so it must not block (hand work to an executor).
  void SetRequestHandler(Handler handler) { request_handler_ = std::move(handler); }

  Result<protocol::RemotingCommand> InvokeSync(const std::string& addr, protocol::RemotingCommand request,
                                               std::chrono::milliseconds timeout);
  void InvokeAsync(const std::string& addr, protocol::RemotingCommand request,
                   std::chrono::milliseconds timeout, Connection::ResponseCallback done);
  Status InvokeOneway(const std::string& addr, protocol::RemotingCommand request);

 private:
  Result<std::shared_ptr<Connection>> GetOrConnect(const std::string& addr) FMQ_EXCLUDES(mu_);

  const ClientConfig config_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  Handler request_handler_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<Connection>> connections_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::net
