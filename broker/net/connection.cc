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
    self->ReadMore();
  });
}

void Connection::TouchIdle() {
  idle_timer_.expires_after(options_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or cancelled
    if (auto self = weak.lock()) self->CloseOnStrand("idle for longer than the idle timeout");
  });
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
      it->second.timer->cancel();
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
    if (!self->writing_) self->WriteMore();
  });
}

void Connection::WriteMore() {
  if (write_queue_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    asio::bind_executor(strand_, [self = shared_from_this()](auto ec, size_t) {
                      self->write_queue_.pop_front();
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
    auto timer = std::make_unique<asio::steady_timer>(self->strand_, timeout);
    timer->async_wait([weak = self->weak_from_this(), opaque](const boost::system::error_code& ec) {
      if (ec) return;
      auto s = weak.lock();
      if (!s) return;
      auto it = s->pending_.find(opaque);
      if (it == s->pending_.end()) return;
      auto cb = std::move(it->second.done);
      s->pending_.erase(it);
      cb(Status::DeadlineExceeded("no response from " + s->remote_ + " within the timeout"));
    });
    self->pending_[opaque] = Pending{std::move(done), std::move(timer)};
    self->write_queue_.push_back(std::move(frame));
    if (!self->writing_) self->WriteMore();
  });
}

void Connection::Close() {
  asio::post(strand_, [self = shared_from_this()] { self->CloseOnStrand(""); });
}

void Connection::CloseOnStrand(const std::string& why) {
  if (closed_.exchange(true)) return;
  if (!why.empty()) GetLogger("net")->info("connection closed remote={} reason=\"{}\"", remote_, why);
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  idle_timer_.cancel();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [opaque, p] : pending) {
    p.timer->cancel();
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
