#include "broker/ha/ha_client.h"

#include "broker/net/tls_stream.h"

#include <utility>  // Boost 1.74's Asio misses this include (ARCHITECTURE.md, section 7)

#include <boost/asio.hpp>

#include <boost/asio/redirect_error.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>

#include "broker/base/coding.h"
#include "broker/base/logging.h"
#include "broker/base/mutex.h"

namespace fmq::ha {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {
constexpr milliseconds kConnectTimeout{3'000};
constexpr milliseconds kHandshakeTimeout{5'000};
// A RocketMQ master answers the magic with a heartbeat after haSendHeartbeatInterval (5 s by default).
constexpr milliseconds kGreetingTimeout{7'000};
constexpr milliseconds kRetryAfterFailure{1'000};
constexpr milliseconds kRetryAfterRefusal{5'000};
constexpr milliseconds kRetryAfterDivergence{30'000};

bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  return true;
}
}  // namespace

std::string_view CopyStateName(CopyState s) {
  switch (s) {
    case CopyState::kStopped:
      return "stopped";
    case CopyState::kConnecting:
      return "connecting";
    case CopyState::kHandshake:
      return "handshake";
    case CopyState::kCopying:
      return "copying";
    case CopyState::kRefused:
      return "refused";
    case CopyState::kDiverged:
      return "diverged";
  }
  return "unknown";
}

struct HaClient::Impl {
  Impl(HaClientConfig config, asio::io_context& io, store::MessageStore& store, Delegate& delegate,
       const Clock& clock)
      : config_(std::move(config)), io_(io), store_(store), delegate_(delegate), clock_(clock) {}
  struct Conn;

  void Start(std::string master_ha_address);
  void Stop();
  CopySnapshot Snapshot() const FMQ_EXCLUDES(mu_);
  awaitable<void> Run(std::string address);
  // One connection: returns the delay before the next attempt.
  awaitable<milliseconds> Session(const std::string& address);
  awaitable<void> Reporter(std::shared_ptr<Conn> conn);
  // Cuts the log where it stops agreeing with the master's; returns the offset to ask for (a window below the
  // log end, or the master's oldest offset for an empty log).
  Result<int64_t> PlanCopy(const MasterHello& hello);
  // Appends a frame's body (checking the overlap window); adopts the master's epochs the log passes.
  Status Apply(int64_t offset, const uint8_t* data, size_t size);
  void SetState(CopyState state, std::string error = "") FMQ_EXCLUDES(mu_);

  const HaClientConfig config_;
  asio::io_context& io_;
  store::MessageStore& store_;
  Delegate& delegate_;
  const Clock& clock_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
  std::promise<void> finished_;
  std::shared_future<void> finished_future_;

  // I/O thread only.
  bool ferry_allowed_ = true;  // false once the master answered the hello as a RocketMQ master
  std::shared_ptr<tcp::socket> socket_;
  std::unique_ptr<asio::steady_timer> retry_timer_;
  std::vector<store::EpochEntry> pending_epochs_;  // master epochs the log has not reached yet

  mutable Mutex mu_;
  CopySnapshot snapshot_ FMQ_GUARDED_BY(mu_);
};

// One connection's state shared by the reading loop and the reporter.
struct HaClient::Impl::Conn {
  explicit Conn(asio::io_context& io) : socket(io), stream(socket), report_timer(io) {}
  tcp::socket socket;
  net::TlsStream stream;  // the socket, or TLS over it
  asio::steady_timer report_timer;
  bool report_due = false;
  bool ferry = false;
  int64_t last_frame_ms = 0;
  int64_t last_report_ms = 0;
};

HaClient::HaClient(HaClientConfig config, net::IoThreadPool& io, store::MessageStore& store,
                   Delegate& delegate, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), io.context(), store, delegate, clock)) {}

HaClient::~HaClient() { Stop(); }
void HaClient::Start(std::string master_ha_address) { impl_->Start(std::move(master_ha_address)); }
void HaClient::Stop() { impl_->Stop(); }
bool HaClient::running() const { return impl_->running_.load(); }
CopySnapshot HaClient::Snapshot() const { return impl_->Snapshot(); }

void HaClient::Impl::Start(std::string master_ha_address) {
  if (running_.exchange(true)) return;
  stop_ = false;
  finished_ = std::promise<void>();
  finished_future_ = finished_.get_future().share();
  {
    MutexLock lock(&mu_);
    snapshot_ = CopySnapshot{};
    snapshot_.master_ha_address = master_ha_address;
    snapshot_.state = CopyState::kConnecting;
  }
  asio::co_spawn(io_, Run(std::move(master_ha_address)), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        GetLogger("ha")->error("replication copy loop failed error={}", ex.what());
      }
    }
    finished_.set_value();
  });
}

void HaClient::Impl::Stop() {
  if (!running_.load()) return;
  stop_ = true;
  // Both the copy loop and this closure must be done before Stop returns: the loop may end on its own (it
  // checks stop_) before the closure runs, and the closure uses this object (ASan saw it run after
  // ~HaClient once).
  // A loop that already ended (it failed) needs no closing, and its io threads may be gone.
  if (finished_future_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    std::promise<void> closed;
    asio::post(io_, [this, &closed] {
      if (socket_) {
        error_code ec;
        socket_->close(ec);
      }
      if (retry_timer_) retry_timer_->cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  finished_future_.wait();
  running_ = false;
}

CopySnapshot HaClient::Impl::Snapshot() const {
  MutexLock lock(&mu_);
  return snapshot_;
}

void HaClient::Impl::SetState(CopyState state, std::string error) {
  MutexLock lock(&mu_);
  snapshot_.state = state;
  if (!error.empty()) snapshot_.last_error = std::move(error);
}

awaitable<void> HaClient::Impl::Run(std::string address) {
  retry_timer_ = std::make_unique<asio::steady_timer>(io_);
  ferry_allowed_ = true;
  while (!stop_.load()) {
    const milliseconds delay = co_await Session(address);
    if (stop_.load()) break;
    retry_timer_->expires_after(delay);
    error_code ec;
    co_await retry_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  socket_.reset();
  SetState(CopyState::kStopped);
}

awaitable<milliseconds> HaClient::Impl::Session(const std::string& address) {
  auto log = GetLogger("ha");
  auto conn = std::make_shared<Conn>(io_);
  socket_ = std::shared_ptr<tcp::socket>(conn, &conn->socket);
  SetState(CopyState::kConnecting);
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) {
    SetState(CopyState::kRefused, "master replication address '" + address + "' is not host:port");
    co_return kRetryAfterDivergence;
  }
  error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    SetState(CopyState::kConnecting, "resolve " + address + ": " + ec.message());
    co_return kRetryAfterFailure;
  }
  // Every wait below is bounded: a watchdog closes the socket when its deadline passes.
  asio::steady_timer watchdog(io_);
  auto arm = [&](milliseconds d) {
    watchdog.expires_after(d);
    watchdog.async_wait([conn](error_code e) {
      if (!e) {
        error_code ignored;
        conn->socket.close(ignored);
      }
    });
  };
  arm(kConnectTimeout);
  co_await asio::async_connect(conn->socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || stop_.load()) {
    watchdog.cancel();
    SetState(CopyState::kConnecting, "connect " + address + ": " + (ec ? ec.message() : "stopped"));
    co_return kRetryAfterFailure;
  }
  conn->socket.set_option(tcp::no_delay(true), ec);
  if (config_.tls) {
    conn->stream.UseTls(config_.tls->Current());
    arm(kGreetingTimeout);
    co_await conn->stream.async_handshake(/*server=*/false, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || stop_.load()) {
      watchdog.cancel();
      SetState(CopyState::kConnecting,
               "TLS handshake with " + address + " failed: " + (ec ? ec.message() : "stopped"));
      co_return kRetryAfterFailure;
    }
  }
  conn->ferry = ferry_allowed_;
  int64_t first_report = store_.MaxPhyOffset().value();
  pending_epochs_.clear();
  if (conn->ferry) {
    SetState(CopyState::kHandshake);
    SlaveHello hello;
    hello.cluster = config_.cluster;
    hello.broker_name = config_.broker_name;
    hello.broker_id = config_.broker_id;
    hello.address = config_.self_address;
    hello.epochs = store_.epochs().entries();
    hello.min_offset = store_.MinPhyOffset().value();
    hello.max_offset = std::max(hello.min_offset, store_.MaxPhyOffset().value());
    hello.known_epoch = delegate_.KnownEpoch();
    // The magic alone first: a RocketMQ master must never read the hello as reports.
    uint8_t magic[kReportSize];
    EncodeReport(kFerryHelloMagic, magic);
    arm(kGreetingTimeout);
    co_await asio::async_write(conn->stream, asio::buffer(magic),
                               asio::redirect_error(asio::use_awaitable, ec));
    uint8_t head[kClassicHeaderSize];
    if (!ec) {
      co_await asio::async_read(conn->stream, asio::buffer(head),
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
      // No greeting within the heartbeat interval and more: not a FerryMQ master.
      watchdog.cancel();
      log->info("master {} did not greet: copying with RocketMQ's classic replication protocol", address);
      ferry_allowed_ = false;
      co_return milliseconds(0);
    }
    if (ec) {
      watchdog.cancel();
      SetState(CopyState::kConnecting, "hello to " + address + ": " + ec.message());
      co_return kRetryAfterFailure;
    }
    int64_t magic_back = DecodeI64(head);
    int32_t len = DecodeI32(head + 8);
    if (magic_back == kFerryHelloMagic && len == 0) {
      // A RocketMQ master: it took the magic for an offset and answered with a heartbeat.
      watchdog.cancel();
      log->info("master {} speaks RocketMQ's classic replication protocol: copying without epochs", address);
      ferry_allowed_ = false;
      co_return milliseconds(0);
    }
    if (magic_back != kFerryHelloMagic || len < 0 || static_cast<uint32_t>(len) > kMaxHelloBytes) {
      watchdog.cancel();
      SetState(CopyState::kRefused,
               "the peer at " + address +
                   " answered the hello with bytes that are not a "
                   "replication answer: is haMasterAddress the master's replication port?");
      co_return kRetryAfterRefusal;
    }
    std::string greeting(static_cast<size_t>(len), '\0');
    arm(kHandshakeTimeout);
    co_await asio::async_read(conn->stream, asio::buffer(greeting),
                              asio::redirect_error(asio::use_awaitable, ec));
    const std::string request = EncodeHelloRequest(hello);
    if (!ec) {
      co_await asio::async_write(conn->stream, asio::buffer(request),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
      co_await asio::async_read(conn->stream, asio::buffer(head),
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      watchdog.cancel();
      SetState(CopyState::kConnecting, "hello to " + address + ": " + ec.message());
      co_return kRetryAfterFailure;
    }
    magic_back = DecodeI64(head);
    len = DecodeI32(head + 8);
    if (magic_back != kFerryHelloMagic || len <= 0 || static_cast<uint32_t>(len) > kMaxHelloBytes) {
      watchdog.cancel();
      SetState(CopyState::kRefused, "the master at " + address +
                                        " answered the hello with bytes that are not "
                                        "a hello answer");
      co_return kRetryAfterRefusal;
    }
    std::string text(static_cast<size_t>(len), '\0');
    co_await asio::async_read(conn->stream, asio::buffer(text),
                              asio::redirect_error(asio::use_awaitable, ec));
    watchdog.cancel();
    if (ec) {
      SetState(CopyState::kConnecting, "hello answer from " + address + ": " + ec.message());
      co_return kRetryAfterFailure;
    }
    auto answer = DecodeMasterHello(text);
    if (!answer.ok()) {
      SetState(CopyState::kRefused,
               "unreadable hello answer from " + address + ": " + std::string(answer.status().message()));
      co_return kRetryAfterRefusal;
    }
    {
      MutexLock lock(&mu_);
      snapshot_.ferry = true;
      snapshot_.master_epoch = answer->epoch;
      snapshot_.master_max = answer->max_offset;
    }
    if (!answer->ok) {
      const std::string why =
          "master " + address + " refused this slave (" + answer->error_code + "): " + answer->error;
      log->warn("{}", why);
      SetState(CopyState::kRefused, why);
      co_return kRetryAfterRefusal;
    }
    if (answer->epoch < delegate_.KnownEpoch()) {
      const std::string why = "master " + address + " is at epoch " + std::to_string(answer->epoch) +
                              ", below epoch " + std::to_string(delegate_.KnownEpoch()) +
                              " this broker follows: it is a replaced master and is not followed";
      log->warn("{}", why);
      SetState(CopyState::kRefused, why);
      co_return kRetryAfterRefusal;
    }
    if (Status s = delegate_.OnMasterAccepted(*answer); !s.ok()) {
      SetState(CopyState::kRefused, std::string(s.message()));
      co_return kRetryAfterRefusal;
    }
    auto start = PlanCopy(*answer);
    if (!start.ok()) {
      const std::string why = std::string(start.status().message());
      log->error("replication from {} cannot continue: {}", address, why);
      SetState(CopyState::kDiverged, why);
      co_return kRetryAfterDivergence;
    }
    first_report = *start;
    {
      MutexLock lock(&mu_);
      snapshot_.hello = *answer;
    }
  } else {
    watchdog.cancel();
    store_.SetConfirmOffset(PhysicalOffset(INT64_MAX));  // a RocketMQ master sends no confirm offset
  }
  uint8_t report[kReportSize];
  EncodeReport(first_report, report);
  co_await asio::async_write(conn->stream, asio::buffer(report),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    SetState(CopyState::kConnecting, "report to " + address + ": " + ec.message());
    co_return kRetryAfterFailure;
  }
  conn->last_frame_ms = conn->last_report_ms = clock_.NowMillis();
  SetState(CopyState::kCopying);
  log->info("copying from master={} protocol={} from_offset={}", address,
            conn->ferry ? "ferrymq" : "rocketmq", first_report);
  asio::co_spawn(io_, Reporter(conn), asio::detached);

  const size_t header_size = conn->ferry ? kFerryHeaderSize : kClassicHeaderSize;
  uint8_t head[kFerryHeaderSize];
  std::vector<uint8_t> body;
  int64_t expected = conn->ferry ? first_report : -1;
  milliseconds result = kRetryAfterFailure;
  while (!stop_.load()) {
    co_await asio::async_read(conn->stream, asio::buffer(head, header_size),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    auto frame = DecodeFrameHeader(head, conn->ferry, config_.max_frame_bytes);
    if (!frame.ok()) {
      SetState(CopyState::kRefused,
               "bad frame from " + address + ": " + std::string(frame.status().message()));
      result = kRetryAfterRefusal;
      break;
    }
    body.resize(static_cast<size_t>(frame->size));
    if (frame->size > 0) {
      co_await asio::async_read(conn->stream, asio::buffer(body),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    conn->last_frame_ms = clock_.NowMillis();
    const int64_t own_max = store_.MaxPhyOffset().value();
    if (conn->ferry
            ? frame->offset != expected
            : (own_max != 0 && own_max != store_.MinPhyOffset().value() && frame->offset != own_max)) {
      SetState(CopyState::kRefused, "master " + address + " sent offset " + std::to_string(frame->offset) +
                                        " but this slave expects " +
                                        std::to_string(conn->ferry ? expected : own_max));
      result = kRetryAfterRefusal;
      break;
    }
    if (frame->size > 0) {
      Status s = Apply(frame->offset, body.data(), body.size());
      if (!s.ok()) {
        const bool diverged = s.code() == StatusCode::kFailedPrecondition;
        log->error("replication from {} stopped: {}", address, s.ToString());
        SetState(diverged ? CopyState::kDiverged : CopyState::kRefused, std::string(s.message()));
        result = diverged ? kRetryAfterDivergence : kRetryAfterRefusal;
        break;
      }
      expected = frame->offset + frame->size;
    }
    if (conn->ferry) store_.SetConfirmOffset(PhysicalOffset(frame->confirm));
    {
      MutexLock lock(&mu_);
      snapshot_.master_max = std::max(snapshot_.master_max, frame->offset + frame->size);
      if (conn->ferry) snapshot_.master_confirm = frame->confirm;
      snapshot_.bytes_copied += frame->size;
      snapshot_.last_frame_ms = conn->last_frame_ms;
    }
    if (frame->size > 0) {
      conn->report_due = true;
      conn->report_timer.cancel();
    }
  }
  error_code ignored;
  conn->socket.close(ignored);
  conn->report_timer.cancel();
  if (ec && ec != asio::error::operation_aborted && !stop_.load()) {
    SetState(CopyState::kConnecting, "connection to " + address + " lost: " + ec.message());
  }
  co_return result;
}

awaitable<void> HaClient::Impl::Reporter(std::shared_ptr<Conn> conn) {
  tcp::socket* socket = &conn->socket;
  const int64_t interval = conn->ferry ? config_.report_interval_ms : config_.classic_report_interval_ms;
  uint8_t report[kReportSize];
  while (socket->is_open() && !stop_.load()) {
    const int64_t now = clock_.NowMillis();
    if (now - conn->last_frame_ms > config_.housekeeping_ms) {
      GetLogger("ha")->warn("master silent for more than haHousekeepingInterval ({} ms): reconnecting",
                            config_.housekeeping_ms);
      error_code ignored;
      socket->close(ignored);
      break;
    }
    if (conn->report_due || now - conn->last_report_ms >= interval) {
      conn->report_due = false;
      int64_t holds = store_.MaxPhyOffset().value();
      if (config_.sync_flush) {
        // SYNC_FLUSH: acknowledge only what survives a power loss here.
        if (Status s = store_.TEST_commit_log().WaitFlushed(holds); !s.ok()) {
          GetLogger("ha")->error("flush of replicated bytes failed error={}", s.ToString());
          holds = store_.TEST_commit_log().FlushedOffset().value();
        }
      }
      EncodeReport(holds, report);
      error_code ec;
      co_await asio::async_write(conn->stream, asio::buffer(report),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      conn->last_report_ms = now;
      continue;
    }
    conn->report_timer.expires_after(milliseconds(std::min<int64_t>(interval, 1'000)));
    error_code ec;
    co_await conn->report_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

Result<int64_t> HaClient::Impl::PlanCopy(const MasterHello& hello) {
  const PhysicalOffset own_min = store_.MinPhyOffset();
  const PhysicalOffset own_max = store_.MaxPhyOffset();
  pending_epochs_.clear();
  if (own_max <= own_min) {
    // Nothing here yet: copy everything the master still holds, from its oldest segment.
    FMQ_RETURN_IF_ERROR(store_.epochs().Reset({}));
    pending_epochs_ = hello.epochs;
    return hello.min_offset;
  }
  auto point = store::FindConsistentPoint(store_.epochs().entries(), own_min, own_max, hello.epochs,
                                          PhysicalOffset(hello.max_offset));
  if (!point.ok()) {
    return Status::FailedPrecondition(
        "this slave's log (offsets " + std::to_string(own_min.value()) + ".." +
        std::to_string(own_max.value()) +
        ") and the master's cannot be reconciled: " + std::string(point.status().message()) +
        ". If the master's log is the one to keep, stop this broker, delete its store directory and start it "
        "again to copy the master from scratch");
  }
  if (*point < own_min) {
    return Status::FailedPrecondition(
        "this slave's whole log (from " + std::to_string(own_min.value()) + ") lies beyond the point " +
        std::to_string(point->value()) +
        " where it stops agreeing with the master's: delete its store directory "
        "and start it again to copy the master from scratch");
  }
  if (*point < own_max) {
    const PhysicalOffset cut = std::min(*point, store_.CompleteEnd());
    GetLogger("ha")->warn("truncating the commit log to where it agrees with the master's: from={} to={}",
                          own_max.value(), cut.value());
    FMQ_RETURN_IF_ERROR(store_.TruncateTo(cut));
  }
  const int64_t end = store_.MaxPhyOffset().value();
  if (end < hello.min_offset) {
    return Status::FailedPrecondition("this slave's log ends at " + std::to_string(end) +
                                      ", before the master's oldest data at " +
                                      std::to_string(hello.min_offset) +
                                      " (retention deleted what it misses): delete its store directory and "
                                      "start it again to copy the master from scratch");
  }
  std::vector<store::EpochEntry> adopted;
  for (const auto& e : hello.epochs) {
    if (e.start.value() < end) {
      adopted.push_back(e);
    } else {
      pending_epochs_.push_back(e);
    }
  }
  FMQ_RETURN_IF_ERROR(store_.epochs().Reset(adopted));
  return std::max({end - kOverlapBytes, store_.MinPhyOffset().value(), hello.min_offset});
}

Status HaClient::Impl::Apply(int64_t offset, const uint8_t* data, size_t size) {
  const int64_t own_max = store_.MaxPhyOffset().value();
  if (offset < own_max) {
    // The overlap window: these bytes must already be here, identical.
    const size_t overlap =
        static_cast<size_t>(std::min<int64_t>(own_max, offset + static_cast<int64_t>(size)) - offset);
    auto mine = store_.TEST_commit_log().GetData(PhysicalOffset(offset), overlap);
    if (!mine.ok())
      return Status::Internal("cannot read own log for the overlap check: " + mine.status().ToString());
    if (std::memcmp(mine->data, data, overlap) != 0) {
      return Status::FailedPrecondition(
          "the master's bytes at offset " + std::to_string(offset) +
          " differ from this slave's: the logs diverged without an epoch change (were they written by "
          "unrelated "
          "masters?). Delete this broker's store directory to copy the master from scratch");
    }
    offset += static_cast<int64_t>(overlap);
    data += overlap;
    size -= overlap;
  }
  if (size == 0) return Status::Ok();
  FMQ_RETURN_IF_ERROR(store_.AppendReplicated(PhysicalOffset(offset), {data, size}));
  const int64_t end = store_.MaxPhyOffset().value();
  if (!pending_epochs_.empty() && pending_epochs_.front().start.value() < end) {
    auto entries = store_.epochs().entries();
    while (!pending_epochs_.empty() && pending_epochs_.front().start.value() < end) {
      entries.push_back(pending_epochs_.front());
      pending_epochs_.erase(pending_epochs_.begin());
    }
    FMQ_RETURN_IF_ERROR(store_.epochs().Reset(std::move(entries)));
  }
  return Status::Ok();
}

}  // namespace fmq::ha
