#include "broker/net/remoting_client.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>

#include "broker/protocol/codes.h"

namespace fmq::net {

namespace asio = boost::asio;
using protocol::RemotingCommand;

namespace {
std::unique_ptr<IoThreadPool> OwnPool(const ClientConfig& config) {
  return config.io_pool != nullptr ? nullptr : std::make_unique<IoThreadPool>(1, "fmq-client");
}
}  // namespace

RemotingClient::RemotingClient(ClientConfig config)
    : config_(config), own_pool_(OwnPool(config_)), pool_(own_pool_ ? own_pool_.get() : config_.io_pool) {}

RemotingClient::~RemotingClient() { Stop(); }

Status RemotingClient::Start() {
  if (started_) return Status::FailedPrecondition("client already started");
  if (own_pool_) {
    FMQ_RETURN_IF_ERROR(own_pool_->Start());
  } else if (!pool_->running()) {
    return Status::FailedPrecondition("the shared I/O thread pool is not started");
  }
  started_ = true;
  return Status::Ok();
}

void RemotingClient::Stop() {
  std::map<std::string, std::shared_ptr<Connection>> conns;
  {
    MutexLock lock(&mu_);
    conns.swap(connections_);
  }
  // Wait until every connection is closed and the callbacks of its pending invokes ran: after Stop nothing
  // calls back into the client's users. (Joining an own thread would wait for the same; a shared pool keeps
  // running.)
  std::vector<std::future<void>> closed;
  for (auto& [addr, c] : conns) {
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done->get_future());
    c->Close([done] { done->set_value(); });
  }
  if (pool_->running()) {
    for (auto& f : closed) f.wait();
  }
  if (own_pool_) own_pool_->Stop();
  started_ = false;
}

Result<std::vector<std::string>> ResolveAddresses(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("address '" + host_port + "' is not host:port");
  }
  const std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return Status::Unavailable("cannot resolve " + host_port + ": " + ec.message());
  std::vector<std::string> out;
  for (const auto& e : endpoints) {
    std::string a = e.endpoint().address().to_string() + ":" + port;
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  }
  if (out.empty()) return Status::Unavailable("cannot resolve " + host_port + ": no address");
  return out;
}

Result<std::shared_ptr<Connection>> RemotingClient::GetOrConnect(const std::string& addr) {
  {
    MutexLock lock(&mu_);
    auto it = connections_.find(addr);
    if (it != connections_.end() && !it->second->closed()) return it->second;
  }
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("address '" + addr + "' is not host:port");
  const std::string host = addr.substr(0, colon);
  const std::string port = addr.substr(colon + 1);
  asio::ip::tcp::resolver resolver(pool_->context());
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return Status::Unavailable("cannot resolve " + addr + ": " + ec.message());
  asio::ip::tcp::socket socket(asio::make_strand(pool_->context()));
  std::promise<boost::system::error_code> connected;
  auto result = connected.get_future();
  asio::async_connect(socket, endpoints, [&connected](const boost::system::error_code& e, const auto&) {
    connected.set_value(e);
  });
  if (result.wait_for(config_.connect_timeout) != std::future_status::ready) {
    asio::post(socket.get_executor(), [&socket] {
      boost::system::error_code ignored;
      socket.close(ignored);
    });
    result.wait();
    return Status::Unavailable("connect to " + addr + " timed out");
  }
  if (auto e = result.get()) return Status::Unavailable("connect to " + addr + " failed: " + e.message());
  Connection::Options opts;
  opts.idle_timeout = config_.idle_timeout;
  if (config_.tls) {
    opts.tls = config_.tls->Current();
    opts.tls_client = true;
  }
  auto conn = std::make_shared<Connection>(
      std::move(socket), opts,
      [this](std::shared_ptr<Connection> c, RemotingCommand cmd) {
        Responder responder(c, cmd);
        if (request_handler_) {
          request_handler_(std::move(cmd), responder);
        } else {
          responder.Send(
              RemotingCommand::ResponseTo(cmd, protocol::response_code::kRequestCodeNotSupported,
                                          " request type " + std::to_string(cmd.code) + " not supported"));
        }
      },
      nullptr);
  conn->Start();
  MutexLock lock(&mu_);
  auto& slot = connections_[addr];
  if (slot && !slot->closed()) {
    conn->Close();  // another thread connected first
    return slot;
  }
  slot = conn;
  return conn;
}

void RemotingClient::InvokeAsync(const std::string& addr, RemotingCommand request,
                                 std::chrono::milliseconds timeout, Connection::ResponseCallback done) {
  auto conn = GetOrConnect(addr);
  if (!conn.ok()) {
    done(conn.status());
    return;
  }
  if (config_.request_signer) config_.request_signer(request);
  (*conn)->Invoke(std::move(request), timeout, std::move(done));
}

namespace {
// The answer a synchronous invoke waits for: the waiter sleeps once on a futex and the I/O thread wakes it
// with one system call. (std::promise costs a third: its set_value runs std::call_once, whose glibc
// implementation always ends in a futex wake; a mutex and condition variable also cost a third, because the
// woken waiter re-takes the mutex in glibc's "contended" state and its unlock then wakes nobody with a system
// call; std::atomic::wait yields the CPU four times before it sleeps.)
class SyncAnswer {
 public:
  void Set(Result<RemotingCommand> r) {
    result_ = std::move(r);
    if (state_.exchange(kSet, std::memory_order_acq_rel) == kSleeping) {
      syscall(SYS_futex, &state_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
  Result<RemotingCommand> Wait() {
    uint32_t s = kPending;
    if (state_.compare_exchange_strong(s, kSleeping, std::memory_order_acq_rel)) {
      while (state_.load(std::memory_order_acquire) != kSet) {
        syscall(SYS_futex, &state_, FUTEX_WAIT_PRIVATE, kSleeping, nullptr, nullptr, 0);
      }
    }
    return std::move(result_);
  }

 private:
  static constexpr uint32_t kPending = 0, kSet = 1, kSleeping = 2;
  std::atomic<uint32_t> state_{kPending};
  Result<RemotingCommand> result_ = Status::Internal("no answer");  // written by Set before kSet
};
}  // namespace

Result<RemotingCommand> RemotingClient::InvokeSync(const std::string& addr, RemotingCommand request,
                                                   std::chrono::milliseconds timeout) {
  // Shared with the callback: Set may still be inside its wake-up call when the waiter returns.
  auto answer = std::make_shared<SyncAnswer>();
  InvokeAsync(addr, std::move(request), timeout,
              [answer](Result<RemotingCommand> r) { answer->Set(std::move(r)); });
  return answer->Wait();
}

Status RemotingClient::InvokeOneway(const std::string& addr, RemotingCommand request) {
  FMQ_ASSIGN_OR_RETURN(auto conn, GetOrConnect(addr));
  request.flag |= protocol::kFlagOneway;
  if (config_.request_signer) config_.request_signer(request);
  conn->Send(std::move(request));
  return Status::Ok();
}

}  // namespace fmq::net
