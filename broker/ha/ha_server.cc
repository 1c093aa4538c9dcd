#include "broker/ha/ha_server.h"

#include "broker/net/tls_stream.h"

#include <utility>  // Boost 1.74's Asio misses this include (ARCHITECTURE.md, section 7)

#include <boost/asio.hpp>

#include <boost/asio/redirect_error.hpp>

#include "broker/base/coding.h"
#include "broker/base/logging.h"

namespace fmq::ha {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;

struct HaServer::Impl {
  Impl(HaServerConfig config, asio::io_context& io, store::MessageStore& store, Delegate& delegate,
       const Clock& clock);
  struct Session;

  Status Bind();
  void Start();
  void Stop();
  void Wake();
  void CloseAll();
  awaitable<void> AcceptLoop();
  awaitable<void> ReadLoop(std::shared_ptr<Session> s);
  awaitable<void> WriteLoop(std::shared_ptr<Session> s);
  awaitable<void> Housekeeping();
  // Where streaming starts for a slave's first report; an error closes the connection.
  Result<int64_t> StartOffset(const Session& s, int64_t first_report) const;
  void Close(const std::shared_ptr<Session>& s, const std::string& why);

  const HaServerConfig config_;
  asio::io_context& io_;
  store::MessageStore& store_;
  Delegate& delegate_;
  const Clock& clock_;
  tcp::acceptor acceptor_;
  asio::steady_timer housekeeping_timer_;
  std::atomic<int> port_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<int> idle_writers_{0};
  uint64_t next_id_ = 1;                                   // I/O thread only
  std::map<uint64_t, std::shared_ptr<Session>> sessions_;  // I/O thread only
};

struct HaServer::Impl::Session {
  Session(tcp::socket sock, uint64_t session_id, asio::io_context& io)
      : socket(std::move(sock)), stream(socket), id(session_id), wake_timer(io) {}
  tcp::socket socket;
  net::TlsStream stream;  // the socket, or TLS over it
  const uint64_t id;
  std::string peer;
  bool ferry = false;
  bool connected_reported = false;  // OnSlaveConnected ran (so OnSlaveClosed must)
  int64_t next = -1;                // next byte to send; -1 until the first report
  int64_t last_read_ms = 0;
  int64_t last_write_ms = 0;
  int64_t confirm_sent = -1;
  bool idle = false;
  bool closed = false;
  asio::steady_timer wake_timer;
};

HaServer::Impl::Impl(HaServerConfig config, asio::io_context& io, store::MessageStore& store,
                     Delegate& delegate, const Clock& clock)
    : config_(std::move(config)),
      io_(io),
      store_(store),
      delegate_(delegate),
      clock_(clock),
      acceptor_(io),
      housekeeping_timer_(io) {}

HaServer::HaServer(HaServerConfig config, net::IoThreadPool& io, store::MessageStore& store,
                   Delegate& delegate, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), io.context(), store, delegate, clock)) {}

HaServer::~HaServer() { Stop(); }
Status HaServer::Bind() { return impl_->Bind(); }
void HaServer::Start() { impl_->Start(); }
void HaServer::Stop() { impl_->Stop(); }
int HaServer::port() const { return impl_->port_.load(); }
void HaServer::Wake() { impl_->Wake(); }
void HaServer::CloseAll() { impl_->CloseAll(); }

Status HaServer::Impl::Bind() {
  error_code ec;
  auto addr = asio::ip::make_address(config_.host, ec);
  if (ec)
    return Status::InvalidArgument("replication listen address '" + config_.host + "' is not an IP address");
  tcp::endpoint ep(addr, static_cast<uint16_t>(config_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (ec == asio::error::address_in_use) {
    return Status::FailedPrecondition("replication port " + std::to_string(config_.port) + " on " +
                                      config_.host +
                                      " is already in use by another process: stop that process or set "
                                      "haListenPort to a free port");
  }
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::IOError("listen on replication port " + std::to_string(config_.port) + ": " +
                           ec.message());
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HaServer::Impl::Start() {
  asio::co_spawn(io_, AcceptLoop(), asio::detached);
  asio::co_spawn(io_, Housekeeping(), asio::detached);
}

void HaServer::Impl::Stop() {
  if (stopped_.exchange(true)) return;
  asio::post(io_, [this] {
    error_code ec;
    acceptor_.close(ec);
    housekeeping_timer_.cancel();
    auto sessions = sessions_;
    for (auto& [id, s] : sessions) Close(s, "the broker is stopping");
  });
}

void HaServer::Impl::Wake() {
  if (idle_writers_.load(std::memory_order_acquire) == 0) return;
  asio::post(io_, [this] {
    for (auto& [id, s] : sessions_) {
      if (s->idle) s->wake_timer.cancel();
    }
  });
}

void HaServer::Impl::CloseAll() {
  asio::post(io_, [this] {
    auto sessions = sessions_;
    for (auto& [id, s] : sessions) Close(s, "this broker is no longer a master");
  });
}

void HaServer::Impl::Close(const std::shared_ptr<Session>& s, const std::string& why) {
  if (s->closed) return;
  s->closed = true;
  error_code ec;
  s->socket.shutdown(tcp::socket::shutdown_both, ec);
  s->socket.close(ec);
  s->wake_timer.cancel();
  sessions_.erase(s->id);
  if (s->connected_reported) delegate_.OnSlaveClosed(s->id);
  GetLogger("ha")->info("replication connection closed id={} peer={} reason=\"{}\"", s->id, s->peer, why);
}

awaitable<void> HaServer::Impl::AcceptLoop() {
  while (!stopped_.load()) {
    error_code ec;
    tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopped_.load() || ec == asio::error::operation_aborted) co_return;
      GetLogger("ha")->warn("replication accept failed error={}", ec.message());
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<Session>(std::move(sock), next_id_++, io_);
    auto remote = s->socket.remote_endpoint(ec);
    s->peer = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    s->last_read_ms = clock_.NowMillis();
    sessions_[s->id] = s;
    asio::co_spawn(io_, ReadLoop(s), asio::detached);
    asio::co_spawn(io_, WriteLoop(s), asio::detached);
  }
}

Result<int64_t> HaServer::Impl::StartOffset(const Session& s, int64_t first) const {
  const int64_t min = store_.MinPhyOffset().value();
  const int64_t max = store_.MaxPhyOffset().value();
  if (first < 0 || first > max) {
    return Status::InvalidArgument("the slave reports offset " + std::to_string(first) +
                                   ", beyond this master's log end " + std::to_string(max) +
                                   " (not a slave of this master, or not a replication client)");
  }
  if (!s.ferry && first == 0) {
    // A RocketMQ slave with an empty log starts at the master's last segment (HAConnection's rule).
    const auto seg = static_cast<int64_t>(store_.config().mapped_file_size_commit_log);
    return max - max % seg;
  }
  if (first < min) {
    return Status::FailedPrecondition(
        "the slave's log ends at " + std::to_string(first) + ", below this master's oldest data at " +
        std::to_string(min) +
        ": retention deleted what it misses; empty the slave's store to copy the "
        "master from its oldest segment");
  }
  return first;
}

awaitable<void> HaServer::Impl::ReadLoop(std::shared_ptr<Session> s) {
  auto log = GetLogger("ha");
  uint8_t buf[kReportSize];
  error_code ec;
  if (config_.tls && config_.tls_mode != net::TlsMode::kDisabled) {
    // As on the remoting ports: a first byte 0x16 starts a TLS handshake; enforcing refuses anything else.
    uint8_t first_byte = 0;
    co_await s->socket.async_receive(asio::buffer(&first_byte, 1), tcp::socket::message_peek,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Close(s, "closed before its first report");
    if (first_byte == 0x16) {
      s->stream.UseTls(config_.tls->Current());
      co_await s->stream.async_handshake(/*server=*/true, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return Close(s, "TLS handshake failed: " + ec.message());
    } else if (config_.tls_mode == net::TlsMode::kEnforcing) {
      co_return Close(s, "plaintext replication connection refused (tls.server.mode=enforcing)");
    }
  }
  co_await asio::async_read(s->stream, asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Close(s, "closed before its first report");
  int64_t first = DecodeI64(buf);
  if (first == kFerryHelloMagic) {
    const std::string greeting = EncodeGreeting();
    co_await asio::async_write(s->stream, asio::buffer(greeting),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Close(s, "closed before its hello");
    uint8_t len_buf[4];
    co_await asio::async_read(s->stream, asio::buffer(len_buf),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Close(s, "closed inside its hello");
    const int32_t len = DecodeI32(len_buf);
    if (len <= 0 || static_cast<uint32_t>(len) > kMaxHelloBytes) co_return Close(s, "hello of a bad length");
    std::string text(static_cast<size_t>(len), '\0');
    co_await asio::async_read(s->stream, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Close(s, "closed inside its hello");
    MasterHello answer;
    auto hello = DecodeSlaveHello(text);
    if (!hello.ok()) {
      answer.error_code = std::string(kRefusedBadHello);
      answer.error = "unreadable hello: " + std::string(hello.status().message());
    } else {
      answer = delegate_.OnHello(*hello, s->peer);
    }
    const std::string wire = EncodeHelloResponse(answer);
    co_await asio::async_write(s->stream, asio::buffer(wire), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !answer.ok) {
      if (!answer.ok)
        log->warn("refused slave peer={} code={} reason=\"{}\"", s->peer, answer.error_code, answer.error);
      co_return Close(s, answer.ok ? "closed after its hello" : "refused: " + answer.error_code);
    }
    s->ferry = true;
    s->last_write_ms = clock_.NowMillis();
    co_await asio::async_read(s->stream, asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Close(s, "closed before its first report");
    first = DecodeI64(buf);
    delegate_.OnSlaveConnected(s->id, hello->address.empty() ? s->peer : hello->address, hello->broker_id,
                               true);
  } else {
    if (!delegate_.ServesSlaves())
      co_return Close(s, "a RocketMQ slave connected, but this broker is not a master");
    delegate_.OnSlaveConnected(s->id, s->peer, -1, false);
  }
  s->connected_reported = true;
  auto start = StartOffset(*s, first);
  if (!start.ok()) {
    log->warn("refused slave peer={} error={}", s->peer, start.status().ToString());
    co_return Close(s, std::string(start.status().message()));
  }
  s->next = *start;
  s->last_read_ms = clock_.NowMillis();
  delegate_.OnSlaveReport(s->id, first);
  s->wake_timer.cancel();
  log->info("slave connected id={} peer={} protocol={} start={}", s->id, s->peer,
            s->ferry ? "ferrymq" : "rocketmq", s->next);
  while (!s->closed) {
    co_await asio::async_read(s->stream, asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Close(s, ec == asio::error::eof ? "the slave closed the connection" : ec.message());
    const int64_t ack = DecodeI64(buf);
    if (ack < 0 || ack > store_.MaxPhyOffset().value()) {
      co_return Close(s, "report " + std::to_string(ack) + " is outside this master's log");
    }
    s->last_read_ms = clock_.NowMillis();
    delegate_.OnSlaveReport(s->id, ack);
  }
}

awaitable<void> HaServer::Impl::WriteLoop(std::shared_ptr<Session> s) {
  std::string header;
  while (!s->closed) {
    if (s->next >= 0) {
      const int64_t heartbeat_ms = s->ferry ? config_.ferry_heartbeat_ms : config_.classic_heartbeat_ms;
      const int64_t max = store_.MaxPhyOffset().value();
      const int64_t now = clock_.NowMillis();
      // INT64_MAX (an ASYNC_MASTER's) tells a FerryMQ slave that reads are unbounded.
      const int64_t confirm = s->ferry ? delegate_.ConfirmOffset() : -1;
      store::SelectedBuffer data;
      if (s->next < max) {
        auto got = store_.TEST_commit_log().GetDataFrom(PhysicalOffset(s->next));
        if (!got.ok()) {
          GetLogger("ha")->error("cannot read the commit log for slave peer={} offset={} error={}", s->peer,
                                 s->next, got.status().ToString());
          co_return Close(s, "commit log unreadable at " + std::to_string(s->next));
        }
        data = std::move(*got);
        const auto batch =
            static_cast<size_t>(s->ferry ? config_.ferry_batch_bytes : config_.classic_batch_bytes);
        data.size = std::min({data.size, batch, static_cast<size_t>(max - s->next)});
      }
      if (data.size > 0 || now - s->last_write_ms >= heartbeat_ms ||
          (s->ferry && confirm != s->confirm_sent)) {
        header.resize(s->ferry ? kFerryHeaderSize : kClassicHeaderSize);
        auto* h = reinterpret_cast<uint8_t*>(header.data());
        if (s->ferry) {
          EncodeFerryHeader(s->next, static_cast<int32_t>(data.size), confirm, h);
        } else {
          EncodeClassicHeader(s->next, static_cast<int32_t>(data.size), h);
        }
        std::array<asio::const_buffer, 2> bufs{asio::buffer(header), asio::buffer(data.data, data.size)};
        error_code ec;
        co_await asio::async_write(s->stream, bufs, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return Close(s, "write failed: " + ec.message());
        s->next += static_cast<int64_t>(data.size);
        s->last_write_ms = now;
        s->confirm_sent = confirm;
        if (data.size > 0) continue;
      }
    }
    // Nothing to send: sleep until new data or a new confirm offset (Wake), or 100 ms (heartbeats).
    s->idle = true;
    idle_writers_.fetch_add(1, std::memory_order_acq_rel);
    // Data may have arrived between the check above and marking idle: look once more before sleeping.
    if (s->next < 0 || s->next >= store_.MaxPhyOffset().value()) {
      s->wake_timer.expires_after(std::chrono::milliseconds(100));
      error_code ec;
      co_await s->wake_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    idle_writers_.fetch_sub(1, std::memory_order_acq_rel);
    s->idle = false;
  }
}

awaitable<void> HaServer::Impl::Housekeeping() {
  while (!stopped_.load()) {
    housekeeping_timer_.expires_after(std::chrono::seconds(1));
    error_code ec;
    co_await housekeeping_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_.load()) co_return;
    const int64_t now = clock_.NowMillis();
    auto sessions = sessions_;
    for (auto& [id, s] : sessions) {
      if (now - s->last_read_ms > config_.housekeeping_ms) {
        Close(s, "silent for more than haHousekeepingInterval (" + std::to_string(config_.housekeeping_ms) +
                     " ms)");
      }
    }
  }
}

}  // namespace fmq::ha
