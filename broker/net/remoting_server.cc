#include "broker/net/remoting_server.h"

#include <future>

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"

namespace fmq::net {

namespace asio = boost::asio;
using protocol::RemotingCommand;

RemotingServer::RemotingServer(ServerConfig config)
    : config_(std::move(config)),
      accept_strand_(boost::asio::make_strand(io_)),
      acceptor_(io_),
      tls_mode_(config_.tls_mode),
      tls_(config_.tls) {}

RemotingServer::~RemotingServer() { Stop(); }

void RemotingServer::Register(int32_t code, Handler handler, BoundedExecutor* executor) {
  routes_[code] = Route{std::move(handler), executor};
}

void RemotingServer::SetDefaultHandler(Handler handler, BoundedExecutor* executor) {
  default_route_ = Route{std::move(handler), executor};
}

Status RemotingServer::Bind() {
  if (bound_port_.load() != 0) return Status::Ok();
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(config_.host, ec);
  if (ec) return Status::InvalidArgument("listen address '" + config_.host + "' is not an IP address");
  asio::ip::tcp::endpoint ep(addr, static_cast<uint16_t>(config_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (ec == asio::error::address_in_use) {
    return Status::FailedPrecondition("port " + std::to_string(config_.port) + " on " + config_.host +
                                      " is already in use by another process: stop that process or choose "
                                      "another port (listenPort)");
  }
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " +
                           ec.message());
  }
  bound_port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

Status RemotingServer::Start() {
  FMQ_RETURN_IF_ERROR(Bind());
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor());
  running_ = true;
  Accept();
  for (int i = 0; i < std::max(1, config_.io_threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
  GetLogger("net")->info("listening address={}:{} tls={}", config_.host, bound_port_.load(),
                         tls_ ? TlsModeName(tls_mode_) : "disabled");
  return Status::Ok();
}

void RemotingServer::Accept() {
  acceptor_.async_accept(
      asio::make_strand(io_),
      asio::bind_executor(accept_strand_, [this](boost::system::error_code ec, asio::ip::tcp::socket s) {
        if (!running_) return;
        if (!ec) {
          Connection::Options opts{config_.idle_timeout, config_.max_frame_length};
          if (tls_ && tls_mode_ != TlsMode::kDisabled) {
            opts.tls = tls_->Current();
            opts.tls_mode = tls_mode_;
          }
          opts.log_limiter = &log_limiter_;
          auto conn = std::make_shared<Connection>(
              std::move(s), opts,
              [this](std::shared_ptr<Connection> c, RemotingCommand cmd) { OnRequest(c, std::move(cmd)); },
              [this](Connection* c) {
                if (close_listener_) close_listener_(c);
                MutexLock lock(&mu_);
                for (auto it = connections_.begin(); it != connections_.end(); ++it) {
                  if (it->get() == c) {
                    connections_.erase(it);
                    break;
                  }
                }
                closed_cv_.SignalAll();
              });
          {
            MutexLock lock(&mu_);
            connections_.insert(conn);
          }
          conn->Start();
        } else if (ec != asio::error::operation_aborted) {
          GetLogger("net")->warn("accept failed error={}", ec.message());
        }
        Accept();
      }));
}

void RemotingServer::OnRequest(const std::shared_ptr<Connection>& conn, RemotingCommand cmd) {
  std::shared_ptr<RpcTiming> timing;
  if (rpc_observer_ != nullptr && !cmd.IsOneway()) {
    timing = std::make_shared<RpcTiming>();
    timing->observer = rpc_observer_;
    timing->request_code = cmd.code;
    timing->received = std::chrono::steady_clock::now();
  }
  Responder responder(conn, cmd, std::move(timing));
  auto it = routes_.find(cmd.code);
  const Route* route = it != routes_.end() ? &it->second : (default_route_ ? &*default_route_ : nullptr);
  // The filter's verdict, sent instead of the handler's answer when it refuses.
  auto refused = [this, remote = conn->remote_address()](const RemotingCommand& c, const Responder& r) {
    if (!filter_) return false;
    std::optional<RemotingCommand> answer = filter_(remote, c);
    if (!answer) return false;
    r.Send(std::move(*answer));
    return true;
  };
  if (route == nullptr) {
    if (refused(cmd, responder)) return;
    responder.Send(
        RemotingCommand::ResponseTo(cmd, protocol::response_code::kRequestCodeNotSupported,
                                    " request type " + std::to_string(cmd.code) + " not supported"));
    return;
  }
  const int32_t code = cmd.code;
  if (route->executor == nullptr) {  // registered to run inline on the I/O thread
    if (refused(cmd, responder)) return;
    route->handler(std::move(cmd), responder);
    return;
  }
  auto task = [handler = route->handler, cmd = std::move(cmd), responder, refused]() mutable {
    if (refused(cmd, responder)) return;
    handler(std::move(cmd), responder);
  };
  if (!route->executor->TrySubmit(std::move(task))) {
    RemotingCommand busy;
    busy.code = protocol::response_code::kSystemBusy;
    busy.remark = "[REJECTREQUEST]system busy, start flow control for a while";
    responder.Send(std::move(busy));
    GetLogger("net")->debug("rejected request code={} executor={} reason=full", code,
                            route->executor->name());
  }
}

size_t RemotingServer::connection_count() const {
  MutexLock lock(&mu_);
  return connections_.size();
}

void RemotingServer::Stop() {
  if (!running_.exchange(false)) return;
  // Close the listener on the accept strand (the acceptor is not thread-safe, and an accept completion may be
  // running on another I/O thread) and wait for it, so the port is released before Stop returns.
  std::promise<void> listener_closed;
  asio::post(accept_strand_, [this, &listener_closed] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    listener_closed.set_value();
  });
  listener_closed.get_future().wait();
  std::set<std::shared_ptr<Connection>> conns;
  {
    MutexLock lock(&mu_);
    conns = connections_;
  }
  for (auto& c : conns) c->Close();
  {
    // Let the I/O threads finish closing (and answer pending invokes) before they stop.
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!connections_.empty() && std::chrono::steady_clock::now() < deadline) {
      closed_cv_.WaitFor(std::chrono::milliseconds(50));
    }
  }
  work_.reset();
  io_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  MutexLock lock(&mu_);
  connections_.clear();
}

}  // namespace fmq::net
