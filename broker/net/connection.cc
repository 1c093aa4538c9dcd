#include "broker/net/connection.h"

#include "broker/base/logging.h"

namespace fmq::net {

namespace asio = boost::asio;
using protocol::RemotingCommand;

Connection::Connection(asio::ip::tcp::socket socket, Options options, RequestCallback on_request,
                       CloseCallback on_close)
    : socket_(std::move(socket)),
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
}

Connection::~Connection() = default;

void Connection::Start() {
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
  const auto idle = Clock::now() - last_activity_;
  if (idle >= options_.idle_timeout) {
    CloseOnStrand("idle for longer than the idle timeout");
    return;
  }
  ArmIdleTimer(options_.idle_timeout - idle);
}

void Connection::ArmResponseTimer(Clock::time_point at) {
  response_timer_at_ = at;
  response_timer_.expires_at(at);  // cancels a later wait (its handler sees operation_aborted)
  response_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed earlier, or cancelled by the close
    if (auto self = weak.lock()) self->OnResponseTimer();
  });
}

void Connection::OnResponseTimer() {
  response_timer_at_ = Clock::time_point::max();
  const auto now = Clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const int32_t opaque = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = pending_.find(opaque);
    if (it == pending_.end()) continue;
    auto done = std::move(it->second.done);
    pending_.erase(it);
    done(Status::DeadlineExceeded("no response from " + remote_ + " within the timeout"));
  }
  if (!deadlines_.empty() && !closed_) ArmResponseTimer(deadlines_.begin()->first);
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
  decoder_.Append({read_buf_.data(), n});
  while (!closed_) {
    auto next = decoder_.Next();
    if (!next.ok()) {
      GetLogger("net")->warn("closing connection remote={} reason=\"{}\"", remote_, next.status().message());
      CloseOnStrand("");
      return;
    }
    if (!next->has_value()) break;
    RemotingCommand cmd = std::move(**next);
    if (cmd.IsResponse()) {
      auto it = pending_.find(cmd.opaque);
      if (it == pending_.end()) {
        GetLogger("net")->debug("response without request remote={} opaque={}", remote_, cmd.opaque);
        continue;
      }
      auto done = std::move(it->second.done);
      deadlines_.erase({it->second.deadline, cmd.opaque});
      pending_.erase(it);
      done(std::move(cmd));
      continue;
    }
    on_request_(shared_from_this(), std::move(cmd));
  }
  ReadMore();
}

void Connection::Send(RemotingCommand cmd) {
  std::string frame = protocol::EncodeFrame(cmd);
  // On the connection's own strand (a handler running inline on the I/O thread) this writes at once; from
  // other threads it is queued to the strand.
  asio::dispatch(strand_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
    if (self->closed_) return;
    self->write_queue_.push_back(std::move(frame));
    self->WriteMore();
  });
}

void Connection::WriteMore() {
  if (writing_ || write_queue_.empty() || closed_) return;
  writing_ = true;
  writing_frames_.swap(write_queue_);  // write_queue_ is now empty, ready for what comes during the write
  write_buffers_.clear();
  for (const auto& f : writing_frames_) write_buffers_.push_back(asio::buffer(f));
  asio::async_write(socket_, write_buffers_,
                    asio::bind_executor(strand_, [self = shared_from_this()](auto ec, size_t) {
                      self->writing_ = false;
                      self->writing_frames_.clear();
                      if (ec) {
                        self->CloseOnStrand(ec.message());
                        return;
                      }
                      self->TouchIdle();
                      self->WriteMore();
                    }));
}

void Connection::Invoke(RemotingCommand request, std::chrono::milliseconds timeout, ResponseCallback done) {
  request.opaque = next_opaque_.fetch_add(1) & 0x7FFFFFFF;  // C++ clients mask the sign bit; do likewise
  request.flag &= ~protocol::kFlagResponse;
  std::string frame = protocol::EncodeFrame(request);
  asio::post(strand_, [self = shared_from_this(), opaque = request.opaque, frame = std::move(frame), timeout,
                       done = std::move(done)]() mutable {
    if (self->closed_) {
      done(Status::Unavailable("connection to " + self->remote_ + " is closed"));
      return;
    }
    const auto deadline = Clock::now() + timeout;
    if (auto [it, inserted] = self->pending_.try_emplace(opaque, Pending{std::move(done), deadline});
        !inserted) {
      // The opaque wrapped around onto an invoke still waiting (2^31 requests within one timeout): that
      // one has waited far longer than anything else, so it is failed in favour of the new one.
      auto old = std::move(it->second);
      self->deadlines_.erase({old.deadline, opaque});
      it->second = Pending{std::move(done), deadline};
      old.done(Status::DeadlineExceeded("no response from " + self->remote_ + " within the timeout"));
    }
    self->deadlines_.emplace(deadline, opaque);
    if (deadline < self->response_timer_at_) self->ArmResponseTimer(deadline);
    self->write_queue_.push_back(std::move(frame));
    self->WriteMore();
  });
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
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  idle_timer_.cancel();
  response_timer_.cancel();
  auto pending = std::move(pending_);
  pending_.clear();
  deadlines_.clear();
  for (auto& [opaque, p] : pending) {
    p.done(Status::Unavailable("connection to " + remote_ + " closed before the response arrived"));
  }
  if (on_close_) on_close_(this);
}

void Responder::Send(RemotingCommand response) const {
  if (oneway_) return;
  auto conn = conn_.lock();
  if (!conn) return;
  response.opaque = opaque_;
  response.flag |= protocol::kFlagResponse;
  response.serialize_type = serialize_type_;
  response.version = protocol::kCurrentVersion;
  conn->Send(std::move(response));
}

}  // namespace fmq::net
