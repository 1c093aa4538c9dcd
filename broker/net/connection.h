#pragma once

// Connection: one TCP connection speaking the remoting protocol, in both directions (RocketMQ connections are
// bidirectional: the broker also sends requests such as NOTIFY_CONSUMER_IDS_CHANGED over a client's socket).
//
//  * reads frames with protocol::FrameDecoder; a request goes to the owner's request callback, a response to
//    the Invoke() waiting for its opaque;
//  * a stream that is not RocketMQ remoting (HTTP, random bytes, a length prefix outside the frame limit, an
//    unparsable header) is logged once and the connection is closed; nothing else is affected;
//  * idle for `idle_timeout` without a read or a write: closed (Java's 120 s all-idle rule).
//
// All socket work runs on the connection's strand. Owned by shared_ptr: the server or client keeps one
// reference, pending operations keep others. Thread-safety: Send, Invoke and Close from any thread.

#include <utility>  // Boost 1.74's Asio misses this include (ARCHITECTURE.md, section 7)

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/base/status.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::net {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using RequestCallback = std::function<void(std::shared_ptr<Connection>, protocol::RemotingCommand)>;
  using CloseCallback = std::function<void(Connection*)>;
  using ResponseCallback = std::function<void(Result<protocol::RemotingCommand>)>;

  struct Options {
    std::chrono::milliseconds idle_timeout{120'000};
    size_t max_frame_length = protocol::kMaxFrameLength;
  };

  Connection(boost::asio::ip::tcp::socket socket, Options options, RequestCallback on_request,
             CloseCallback on_close);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts reading. Call once, after the owner holds its shared_ptr.
  void Start();
  // Queues a command for writing (a response, or a oneway request).
  void Send(protocol::RemotingCommand cmd);
  // Sends a request and calls `done` once with its response, or with DeadlineExceeded / Unavailable.
  void Invoke(protocol::RemotingCommand request, std::chrono::milliseconds timeout, ResponseCallback done);
  // Closes the socket; pending invokes fail with Unavailable. Idempotent. `closed` (optional) runs on the
  // connection's strand after the close and the callbacks it caused.
  void Close(std::function<void()> closed = nullptr);

  bool closed() const { return closed_.load(); }
  const std::string& remote_address() const { return remote_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    ResponseCallback done;
    Clock::time_point deadline;
  };

  void ReadMore();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void WriteMore();
  void TouchIdle() { last_activity_ = Clock::now(); }
  void ArmIdleTimer(Clock::duration after);
  void OnIdleTimer();
  void ArmResponseTimer(Clock::time_point at);
  void OnResponseTimer();
  void CloseOnStrand(const std::string& why);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  // One idle timer, armed once per idle period: a read or write only notes the time (re-arming a timer per
  // frame costs a cancelled handler and often a timerfd update).
  boost::asio::steady_timer idle_timer_;
  Clock::time_point last_activity_;  // strand only
  // One timer for the response deadlines of all invokes, armed at the earliest deadline; a response does
  // not touch it (a wake-up that finds nothing expired re-arms for the next deadline).
  boost::asio::steady_timer response_timer_;
  Clock::time_point response_timer_at_ = Clock::time_point::max();  // strand only; max: not armed
  const Options options_;
  const RequestCallback on_request_;
  const CloseCallback on_close_;
  std::string remote_;
  protocol::FrameDecoder decoder_;
  std::array<uint8_t, 64 * 1024> read_buf_{};
  // Frames waiting to be written, and the frames of the write under way: everything queued while a write is
  // under way goes out in the next one, as one gather write (strand only).
  std::vector<std::string> write_queue_;
  std::vector<std::string> writing_frames_;
  std::vector<boost::asio::const_buffer> write_buffers_;
  bool writing_ = false;                                       // strand only
  std::unordered_map<int32_t, Pending> pending_;               // strand only
  std::set<std::pair<Clock::time_point, int32_t>> deadlines_;  // strand only; the keys of pending_
  std::atomic<bool> closed_{false};
  std::atomic<int32_t> next_opaque_{1};
};

// Where a request handler sends its answer: the response gets the request's opaque and serialize type, the
// response flag and FerryMQ's version. Nothing is sent for a oneway request or once the connection closed.
// Copyable and thread-safe; holds the connection weakly.
class Responder {
 public:
  Responder() = default;  // sends nothing
  Responder(std::weak_ptr<Connection> conn, const protocol::RemotingCommand& request)
      : conn_(std::move(conn)),
        opaque_(request.opaque),
        oneway_(request.IsOneway()),
        serialize_type_(request.serialize_type) {}
  void Send(protocol::RemotingCommand response) const;
  bool oneway() const { return oneway_; }
  std::shared_ptr<Connection> connection() const { return conn_.lock(); }
  // The peer's "ip:port", or empty once the connection is gone.
  std::string remote_address() const {
    auto c = conn_.lock();
    return c ? c->remote_address() : std::string();
  }

 private:
  std::weak_ptr<Connection> conn_;
  int32_t opaque_ = 0;
  bool oneway_ = true;
  protocol::SerializeType serialize_type_ = protocol::SerializeType::kJson;
};

using Handler = std::function<void(protocol::RemotingCommand request, Responder responder)>;

}  // namespace fmq::net
