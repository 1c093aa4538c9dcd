#include "broker/net/connection.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <system_error>

#include "broker/base/logging.h"

namespace fmq::net {

namespace asio = boost::asio;
using protocol::RemotingCommand;

namespace {
constexpr int kMaxIov = 64;  // frames per sendmsg (Asio's own gather writes use the same limit)
// Answers held back while the frames of one read are handled are written once they reach this size.
constexpr size_t kMaxReadAnswerBytes = 64 * 1024;
}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, Options options, RequestCallback on_request,
                       CloseCallback on_close)
    : socket_(std::move(socket)),
      fd_(socket_.native_handle()),
      strand_(asio::make_strand(socket_.get_executor())),
      idle_timer_(strand_),
      response_timer_(strand_),
      options_(options),
      on_request_(std::move(on_request)),
      on_close_(std::move(on_close)),
      decoder_(options.max_frame_length) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  remote_ = ec ? "unknown" : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  if (options_.tls_client && options_.tls) {
    transport_ = Transport::kTls;
  } else if (!options_.tls_client && options_.tls && options_.tls_mode != TlsMode::kDisabled) {
    transport_ = Transport::kUndecided;
  }
}

bool LogLimiter::Allow(uint64_t* suppressed) {
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  int64_t last = last_ns_.load(std::memory_order_relaxed);
  if (now - last >= 1'000'000'000 && last_ns_.compare_exchange_strong(last, now)) {
    *suppressed = held_.exchange(0);
    return true;
  }
  held_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void Connection::LogLimited(const std::string& line) {
  uint64_t suppressed = 0;
  if (options_.log_limiter != nullptr && !options_.log_limiter->Allow(&suppressed)) return;
  if (suppressed > 0) {
    GetLogger("net")->warn("{} (+{} more like it since the last line)", line, suppressed);
  } else {
    GetLogger("net")->warn("{}", line);
  }
}

Connection::~Connection() = default;

void Connection::Start() {
  if (transport_ == Transport::kTls) {  // a client: send the ClientHello before anything else
    MutexLock lock(&tls_mu_);
    tls_ = std::make_unique<TlsSession>(options_.tls);
    std::string hello;
    if (Status s = tls_->Start(&hello); !s.ok()) {
      GetLogger("net")->warn("TLS handshake not started remote={} reason=\"{}\"", remote_, s.message());
      Close();
      return;
    }
    Write({std::move(hello)});
  }
  asio::post(strand_, [self = shared_from_this()] {
    self->TouchIdle();
    self->ArmIdleTimer(self->options_.idle_timeout);
    self->ReadMore();
  });
}

void Connection::ArmIdleTimer(Clock::duration after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled by the close
    if (auto self = weak.lock()) self->OnIdleTimer();
  });
}

void Connection::OnIdleTimer() {
  if (closed_) return;
  const auto idle =
      Clock::now() - Clock::time_point(Clock::duration(last_activity_.load(std::memory_order_relaxed)));
  if (idle >= options_.idle_timeout) {
    CloseOnStrand("idle for longer than the idle timeout");
    return;
  }
  ArmIdleTimer(options_.idle_timeout - idle);
}

void Connection::ArmResponseTimer() {
  Clock::time_point at;
  {
    MutexLock lock(&pending_mu_);
    at = response_timer_at_;
  }
  if (at == Clock::time_point::max() || closed_) return;
  response_timer_.expires_at(at);  // cancels a wait armed for later (its handler sees operation_aborted)
  response_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed, or cancelled by the close
    if (auto self = weak.lock()) self->OnResponseTimer();
  });
}

void Connection::OnResponseTimer() {
  std::vector<ResponseCallback> expired;
  {
    MutexLock lock(&pending_mu_);
    const auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto it = pending_.find(deadlines_.begin()->second);
      deadlines_.erase(deadlines_.begin());
      if (it == pending_.end()) continue;
      expired.push_back(std::move(it->second.done));
      pending_.erase(it);
    }
    response_timer_at_ = deadlines_.empty() ? Clock::time_point::max() : deadlines_.begin()->first;
  }
  for (auto& done : expired)
    done(Status::DeadlineExceeded("no response from " + remote_ + " within the timeout"));
  ArmResponseTimer();
}

void Connection::ReadMore() {
  if (closed_) return;
  socket_.async_read_some(
      asio::buffer(read_buf_),
      asio::bind_executor(strand_, [self = shared_from_this()](auto ec, size_t n) { self->OnRead(ec, n); }));
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  if (ec) {
    CloseOnStrand(ec == asio::error::eof ? "" : ec.message());
    return;
  }
  TouchIdle();
  std::span<const uint8_t> bytes(read_buf_.data(), n);
  if (transport_.load(std::memory_order_acquire) == Transport::kUndecided && !DecideTransport(bytes)) return;
  if (transport_.load(std::memory_order_acquire) == Transport::kTls) {
    std::string plain;
    if (!Decrypt(bytes, &plain)) return;
    if (plain.empty()) {  // handshake bytes only
      ReadMore();
      return;
    }
    decoder_.Append({reinterpret_cast<const uint8_t*>(plain.data()), plain.size()});
  } else {
    decoder_.Append(bytes);
  }
  in_read_ = true;
  while (!closed_) {
    auto next = decoder_.Next();
    if (!next.ok()) {
      GetLogger("net")->warn("closing connection remote={} reason=\"{}\"", remote_, next.status().message());
      in_read_ = false;
      FlushReadAnswers();  // the answers to the frames before the bad one
      CloseOnStrand("");
      return;
    }
    if (!next->has_value()) break;
    RemotingCommand cmd = std::move(**next);
    if (cmd.IsResponse()) {
      ResponseCallback done;
      {
        MutexLock lock(&pending_mu_);
        auto it = pending_.find(cmd.opaque);
        if (it != pending_.end()) {
          done = std::move(it->second.done);
          deadlines_.erase({it->second.deadline, cmd.opaque});
          pending_.erase(it);
        }
      }
      if (done) {
        done(std::move(cmd));
      } else {
        GetLogger("net")->debug("response without request remote={} opaque={}", remote_, cmd.opaque);
      }
      continue;
    }
    on_request_(shared_from_this(), std::move(cmd));
    if (read_answer_bytes_ >= kMaxReadAnswerBytes) FlushReadAnswers();
  }
  in_read_ = false;
  FlushReadAnswers();
  TouchIdle();  // handling a read's frames can take a while (large frames): its end is activity too
  ReadMore();
}

void Connection::FlushReadAnswers() {
  if (read_answers_.empty()) return;
  std::vector<std::string> frames;
  frames.swap(read_answers_);
  read_answer_bytes_ = 0;
  WritePlain(std::move(frames));
}

bool Connection::DecideTransport(std::span<const uint8_t> first) {
  if (first[0] != 0x16 && options_.tls_mode == TlsMode::kEnforcing) {
    LogLimited("plaintext connection refused remote=" + remote_ +
               " reason=\"this port accepts TLS only (tls.server.mode=enforcing)\"");
    CloseOnStrand("");
    return false;
  }
  MutexLock lock(&tls_mu_);
  if (first[0] == 0x16) {  // a TLS record of type handshake: the ClientHello
    tls_ = std::make_unique<TlsSession>(options_.tls);
    transport_.store(Transport::kTls, std::memory_order_release);
    return true;
  }
  transport_.store(Transport::kPlain, std::memory_order_release);
  std::vector<std::string> held;
  held.swap(tls_held_);
  if (!held.empty()) Write(std::move(held));
  return true;
}

bool Connection::Decrypt(std::span<const uint8_t> in, std::string* plain) {
  Status s;
  {
    MutexLock lock(&tls_mu_);
    const bool was_done = tls_->handshake_done();
    std::string out;
    s = tls_->Feed(in, plain, &out);
    if (!out.empty()) Write({std::move(out)});
    if (s.ok() && !was_done && tls_->handshake_done() && !tls_held_.empty()) {
      std::vector<std::string> held;
      held.swap(tls_held_);
      EncryptAndWrite(std::move(held));
    }
  }
  if (s.ok()) return true;
  if (s.code() == StatusCode::kUnavailable) {  // close_notify: an orderly end
    CloseOnStrand("");
  } else {
    LogLimited("TLS connection closed remote=" + remote_ + " reason=\"" + std::string(s.message()) + "\"");
    CloseOnStrand("");
  }
  return false;
}

void Connection::WritePlain(std::vector<std::string> frames) {
  if (transport_.load(std::memory_order_acquire) == Transport::kPlain) {
    Write(std::move(frames));
    return;
  }
  MutexLock lock(&tls_mu_);
  const Transport t = transport_.load(std::memory_order_acquire);
  if (t == Transport::kPlain) {  // decided meanwhile; what was held went out first
    Write(std::move(frames));
  } else if (t == Transport::kUndecided || tls_ == nullptr || !tls_->handshake_done()) {
    for (auto& f : frames) tls_held_.push_back(std::move(f));
  } else {
    EncryptAndWrite(std::move(frames));
  }
}

void Connection::EncryptAndWrite(std::vector<std::string> frames) {
  std::string cipher;
  for (const std::string& f : frames) {
    if (Status s = tls_->Encrypt(f, &cipher); !s.ok()) {
      GetLogger("net")->warn("closing connection remote={} reason=\"{}\"", remote_, s.message());
      Close();
      return;
    }
  }
  Write({std::move(cipher)});
}

void Connection::Send(RemotingCommand cmd) {
  if (closed_) return;
  std::string frame = protocol::EncodeFrame(cmd);
  if (strand_.running_in_this_thread() && in_read_) {  // in_read_ belongs to the strand
    read_answer_bytes_ += frame.size();
    read_answers_.push_back(std::move(frame));
    return;
  }
  std::vector<std::string> frames;
  frames.push_back(std::move(frame));
  WritePlain(std::move(frames));
}

void Connection::Write(std::vector<std::string> frames) {
  {
    MutexLock lock(&write_mu_);
    if (write_closed_) return;
    if (writer_ != Writer::kNone) {  // the writer under way takes them with what it finds queued
      for (auto& f : frames) write_queue_.push_back(std::move(f));
      return;
    }
    writer_ = Writer::kDirect;
  }
  WriteDirect(std::move(frames));
}

void Connection::WriteDirect(std::vector<std::string> frames) {
  size_t first = 0;   // frames[first] is the first not completely written,
  size_t offset = 0;  // from this byte on
  std::string error;
  while (true) {
    while (first < frames.size()) {
      iovec iov[kMaxIov];
      int count = 0;
      for (size_t i = first; i < frames.size() && count < kMaxIov; ++i, ++count) {
        const size_t skip = i == first ? offset : 0;
        iov[count].iov_base = frames[i].data() + skip;
        iov[count].iov_len = frames[i].size() - skip;
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      const ssize_t sent = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          error = std::error_code(errno, std::generic_category()).message();
        break;  // full: the strand writes the rest when the socket drains
      }
      size_t left = static_cast<size_t>(sent);
      while (left > 0) {
        const size_t in_frame = frames[first].size() - offset;
        if (left < in_frame) {
          offset += left;
          break;
        }
        left -= in_frame;
        ++first;
        offset = 0;
      }
    }
    if (first == frames.size() || !error.empty()) TouchIdle();
    MutexLock lock(&write_mu_);
    if (write_closed_ || !error.empty()) {
      writer_ = Writer::kNone;
      const bool close_socket = close_after_direct_write_ || !error.empty();
      close_after_direct_write_ = false;
      if (close_socket) {
        asio::post(strand_, [self = shared_from_this(), error] {
          if (!self->closed_) {
            self->CloseOnStrand(error);
          } else {
            boost::system::error_code ignored;
            self->socket_.close(ignored);  // the close left it to this writer
          }
        });
      }
      return;
    }
    if (first < frames.size()) {  // the socket is full: the strand writes the rest, then the queue
      frames[first].erase(0, offset);
      std::vector<std::string> rest;
      rest.reserve(frames.size() - first + write_queue_.size());
      for (size_t i = first; i < frames.size(); ++i) rest.push_back(std::move(frames[i]));
      for (auto& f : write_queue_) rest.push_back(std::move(f));
      write_queue_ = std::move(rest);
      writer_ = Writer::kAsync;
      asio::post(strand_, [self = shared_from_this()] { self->StartAsyncWrite(); });
      return;
    }
    if (write_queue_.empty()) {
      writer_ = Writer::kNone;
      return;
    }
    frames.clear();
    frames.swap(write_queue_);  // what other threads queued meanwhile
    first = 0;
    offset = 0;
  }
}

void Connection::StartAsyncWrite() {
  {
    MutexLock lock(&write_mu_);
    if (write_closed_) return;
    if (write_queue_.empty()) {
      writer_ = Writer::kNone;
      return;
    }
    async_frames_.swap(write_queue_);  // async_frames_ was empty
  }
  async_buffers_.clear();
  for (const auto& f : async_frames_) async_buffers_.push_back(asio::buffer(f));
  // Every chunk the socket takes counts as activity: a long write to a slow reader is not idleness (the
  // completion condition runs after each write_some; it asks for up to 64 KiB more until all is written).
  asio::async_write(
      socket_, async_buffers_,
      [this](const boost::system::error_code& ec, size_t) -> size_t {
        TouchIdle();
        return ec ? 0 : 64 * 1024;
      },
      asio::bind_executor(strand_,
                          [self = shared_from_this()](auto ec, size_t) { self->OnAsyncWritten(ec); }));
}

void Connection::OnAsyncWritten(const boost::system::error_code& ec) {
  async_frames_.clear();
  if (ec) {
    CloseOnStrand(ec.message());
    return;
  }
  TouchIdle();
  StartAsyncWrite();  // what was queued meanwhile, or back to direct writes
}

void Connection::Invoke(RemotingCommand request, std::chrono::milliseconds timeout, ResponseCallback done) {
  request.opaque = next_opaque_.fetch_add(1) & 0x7FFFFFFF;  // C++ clients mask the sign bit; do likewise
  request.flag &= ~protocol::kFlagResponse;
  std::vector<std::string> frames;
  frames.push_back(protocol::EncodeFrame(request));
  const int32_t opaque = request.opaque;
  const auto deadline = Clock::now() + timeout;
  bool arm = false;
  ResponseCallback displaced;
  {
    MutexLock lock(&pending_mu_);
    if (pending_closed_) {
      // Answered on the strand, never inside the caller's call (it may hold a lock its callback takes).
      asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
        done(Status::Unavailable("connection to " + self->remote_ + " is closed"));
      });
      return;
    }
    if (auto it = pending_.find(opaque); it != pending_.end()) {
      // The opaque wrapped around onto an invoke still waiting (2^31 requests within one timeout): that one
      // has waited far longer than anything else, so it is failed in favour of the new one.
      displaced = std::move(it->second.done);
      deadlines_.erase({it->second.deadline, opaque});
      pending_.erase(it);
    }
    pending_.emplace(opaque, Pending{std::move(done), deadline});
    deadlines_.emplace(deadline, opaque);
    if (deadline < response_timer_at_) {
      response_timer_at_ = deadline;
      arm = true;
    }
  }
  if (displaced) {
    asio::post(strand_, [self = shared_from_this(), displaced = std::move(displaced)] {
      displaced(Status::DeadlineExceeded("no response from " + self->remote_ + " within the timeout"));
    });
  }
  if (arm) asio::post(strand_, [self = shared_from_this()] { self->ArmResponseTimer(); });
  WritePlain(std::move(frames));
}

void Connection::Close(std::function<void()> closed) {
  asio::post(strand_, [self = shared_from_this(), closed = std::move(closed)] {
    self->CloseOnStrand("");
    if (closed) closed();
  });
}

void Connection::CloseOnStrand(const std::string& why) {
  if (closed_.exchange(true)) return;
  if (!why.empty()) GetLogger("net")->info("connection closed remote={} reason=\"{}\"", remote_, why);
  bool direct_write_running;
  {
    MutexLock lock(&write_mu_);
    write_closed_ = true;
    write_queue_.clear();
    direct_write_running = writer_ == Writer::kDirect;
    close_after_direct_write_ = direct_write_running;
  }
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);  // ends a direct write under way, too
  // A thread may be inside sendmsg on the descriptor: it stays open until that write ends, so its number
  // cannot be reused by another socket meanwhile.
  if (!direct_write_running) socket_.close(ec);
  idle_timer_.cancel();
  response_timer_.cancel();
  std::unordered_map<int32_t, Pending> pending;
  {
    MutexLock lock(&pending_mu_);
    pending_closed_ = true;
    pending.swap(pending_);
    deadlines_.clear();
    response_timer_at_ = Clock::time_point::max();
  }
  for (auto& [opaque, p] : pending) {
    p.done(Status::Unavailable("connection to " + remote_ + " closed before the response arrived"));
  }
  if (on_close_) on_close_(this);
}

void Responder::Send(RemotingCommand response) const {
  if (oneway_) return;
  auto conn = conn_.lock();
  if (timing_) {
    timing_->observer->OnAnswered(timing_->request_code, response.code,
                                  timing_->long_polling.load(std::memory_order_relaxed), conn != nullptr,
                                  std::chrono::steady_clock::now() - timing_->received);
  }
  if (!conn) return;
  response.opaque = opaque_;
  response.flag |= protocol::kFlagResponse;
  response.serialize_type = serialize_type_;
  response.version = protocol::kCurrentVersion;
  conn->Send(std::move(response));
}

}  // namespace fmq::net
