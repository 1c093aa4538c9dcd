#pragma once

// RemotingClient: the client side of the remoting protocol. Keeps one connection per "host:port" (created on
// first use, replaced when it closes), matches responses to requests by opaque, and hands requests the peer
// sends (e.g. NOTIFY_CONSUMER_IDS_CHANGED from a broker) to an optional handler.
//
// Its connections run on an IoThreadPool: its own single thread, or a pool shared with the process's other
// clients (ClientConfig::io_pool).
//
// Created by its user (ferryctl, the bench, the operator, tests); Start() before use, Stop() before
// destruction, never from an I/O thread. Thread-safety: Invoke* from any thread.

#include <utility>  // Boost 1.74's Asio misses this include

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/net/connection.h"
#include "broker/net/io_thread_pool.h"

namespace fmq::net {

struct ClientConfig {
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds idle_timeout{120'000};
  // I/O threads shared with other clients; nullptr: the client starts a thread of its own. Not owned; must
  // be started before Start() and stopped only after this client's Stop().
  IoThreadPool* io_pool = nullptr;
  // Runs on every request this client sends, last, before it is encoded: ACL signing (acl::SignRequest with
  // the caller's access and secret key). Empty: requests leave as built.
  std::function<void(protocol::RemotingCommand&)> request_signer{};
  // TLS for every connection this client opens (a client context: verifies the server only with a trust
  // bundle; presents a certificate for mutual TLS). Null: plaintext.
  std::shared_ptr<TlsContextSource> tls{};
};

// Every address `host_port` ("host:port") resolves to, as "ip:port", in the resolver's order without
// repeats; an IP literal gives itself. Unavailable naming the address when it does not resolve.
Result<std::vector<std::string>> ResolveAddresses(const std::string& host_port);

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
  std::unique_ptr<IoThreadPool> own_pool_;  // when config_.io_pool is null
  IoThreadPool* const pool_;                // own_pool_ or config_.io_pool
  bool started_ = false;
  Handler request_handler_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<Connection>> connections_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::net
