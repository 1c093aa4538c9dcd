#pragma once

// RemotingServer: accepts TCP connections and dispatches each request by code to a handler running on the
// BoundedExecutor registered for it. A full executor is answered SYSTEM_BUSY at once; a code nobody
// registered is answered REQUEST_CODE_NOT_SUPPORTED (code 3); neither reaches a handler, and the I/O threads
// never run handler code. Bad input closes only the connection it came on.
//
// Created by the composition root; handlers and executors are registered before Start() and outlive the
// server. Stop() closes the listener and every connection and joins the I/O threads. Thread-safety: Start and
// Stop from the owner's thread; handlers run on executor threads.

#include <utility>  // Boost 1.74's Asio misses this include

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/net/connection.h"
#include "broker/net/executor.h"

namespace fmq::net {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 10911;  // 0: pick a free port (tests)
  int io_threads = 1;
  std::chrono::milliseconds idle_timeout{120'000};
  size_t max_frame_length = protocol::kMaxFrameLength;
  // TLS (RocketMQ's tls.server.mode): kPermissive serves TLS and plaintext on the port, kEnforcing TLS only;
  // `tls` then supplies the certificate for each new connection (reloaded when its files change).
  TlsMode tls_mode = TlsMode::kDisabled;
  std::shared_ptr<TlsContextSource> tls{};
};

class RemotingServer {
 public:
  explicit RemotingServer(ServerConfig config);
  ~RemotingServer();
  RemotingServer(const RemotingServer&) = delete;
  RemotingServer& operator=(const RemotingServer&) = delete;

  // REQUIRES: before Start(). `executor` is not owned and must outlive the server. A null executor runs the
  // handler inline on the connection's I/O thread: only for handlers that never block (they must hand any
  // wait to a callback), where skipping the thread hand-off saves two context switches per request.
  void Register(int32_t code, Handler handler, BoundedExecutor* executor);
  // Handles every code without a registration (instead of answering code 3).
  void SetDefaultHandler(Handler handler, BoundedExecutor* executor);

  // TLS for the connections accepted from now on (the composition root's choice after it read its config).
  // REQUIRES: before Start().
  void SetTls(TlsMode mode, std::shared_ptr<TlsContextSource> source) {
    tls_mode_ = mode;
    tls_ = std::move(source);
  }

  // Checks every request before its handler (or the code-3 answer) sees it: a filter that returns an answer
  // refuses the request with it (ACL: NO_PERMISSION), nullopt lets it through. It runs where the handler runs
  // (the executor's thread, or the I/O thread for inline handlers and unknown codes) and gets the peer's
  // "ip:port". REQUIRES: before Start().
  using RequestFilter = std::function<std::optional<protocol::RemotingCommand>(
      const std::string& remote_address, const protocol::RemotingCommand& request)>;
  void SetRequestFilter(RequestFilter filter) { filter_ = std::move(filter); }

  // Reports every answered request to `observer` (not owned; outlives the server). REQUIRES: before Start().
  void SetRpcObserver(RpcObserver* observer) { rpc_observer_ = observer; }

  // Called (on an I/O thread) when a connection closes, before it is forgotten: client registries drop the
  // channel's producers and consumers at once. REQUIRES: before Start().
  void SetCloseListener(std::function<void(Connection*)> listener) { close_listener_ = std::move(listener); }

  // Binds and listens without accepting yet, so the owner learns the port (and a port in use) before it
  // builds what the handlers need. A port in use is FailedPrecondition with the address and what to do.
  Status Bind();
  // Binds (unless Bind() ran) and starts accepting connections.
  Status Start();
  void Stop();

  int port() const { return bound_port_.load(); }
  size_t connection_count() const FMQ_EXCLUDES(mu_);

 private:
  struct Route {
    Handler handler;
    BoundedExecutor* executor;
  };
  void Accept();
  void OnRequest(const std::shared_ptr<Connection>& conn, protocol::RemotingCommand cmd);

  const ServerConfig config_;
  boost::asio::io_context io_;
  // The acceptor is not thread-safe: its accept completions and Stop's close run on this one strand.
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::map<int32_t, Route> routes_;
  std::optional<Route> default_route_;
  std::function<void(Connection*)> close_listener_;
  RequestFilter filter_;
  RpcObserver* rpc_observer_ = nullptr;
  mutable Mutex mu_;
  CondVar closed_cv_{&mu_};
  std::set<std::shared_ptr<Connection>> connections_ FMQ_GUARDED_BY(mu_);
  std::atomic<int> bound_port_{0};
  LogLimiter log_limiter_;  // refused plaintext peers and failed handshakes
  TlsMode tls_mode_;
  std::shared_ptr<TlsContextSource> tls_;
  std::atomic<bool> running_{false};
};

}  // namespace fmq::net
