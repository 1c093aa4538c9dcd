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
// Writes: a thread that sends while no write is under way writes the frame itself, with a non-blocking
// sendmsg, instead of handing it to the I/O thread (a hand-off costs a wake-up and two context switches per
// request). Frames sent while a write is under way are queued and leave together, in one gather write, when
// it ends; what the socket does not take at once is written asynchronously on the strand. Frames sent from
// the strand while it handles the frames of one read (answers of handlers that run inline) leave together
// when that read is handled: a client that pipelines gets one write (and one wake-up) per read.
//
// Reads, timers and the close run on the connection's strand. Owned by shared_ptr: the server or client keeps
// one reference, pending operations keep others. Thread-safety: Send, Invoke and Close from any thread.

#include <utility>  // Boost 1.74's Asio misses this include (ARCHITECTURE.md, section 7)

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/net/rpc_observer.h"
#include "broker/net/tls.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::net {

// Lets at most one log line a second through and counts the others; a server shares one among its connections
// so a flood of bad peers cannot flood the log. Thread-safe.
class LogLimiter {
 public:
  // True when a line may be logged now; `suppressed` is then how many were held back since the last one.
  bool Allow(uint64_t* suppressed);

 private:
  std::atomic<int64_t> last_ns_{-1'000'000'000'000};
  std::atomic<uint64_t> held_{0};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using RequestCallback = std::function<void(std::shared_ptr<Connection>, protocol::RemotingCommand)>;
  using CloseCallback = std::function<void(Connection*)>;
  using ResponseCallback = std::function<void(Result<protocol::RemotingCommand>)>;

  struct Options {
    std::chrono::milliseconds idle_timeout{120'000};
    size_t max_frame_length = protocol::kMaxFrameLength;
    // TLS. A client connection with `tls` starts a handshake at once. A server connection follows `tls_mode`:
    // kPermissive takes TLS when the peer's first byte is 0x16 (a handshake) and plaintext otherwise,
    // kEnforcing closes a plaintext peer, kDisabled never looks.
    std::shared_ptr<const TlsContext> tls{};
    TlsMode tls_mode = TlsMode::kDisabled;
    bool tls_client = false;
    LogLimiter* log_limiter = nullptr;  // for refusals and failed handshakes; null logs each one
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
  // Who writes to the socket: nobody, a sending thread (directly), or the strand (async_write).
  enum class Writer : uint8_t { kNone, kDirect, kAsync };

  enum class Transport : uint8_t { kUndecided, kPlain, kTls };
  void ReadMore();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Decides plaintext or TLS from the first bytes of a server connection; false when the connection closes.
  bool DecideTransport(std::span<const uint8_t> first) FMQ_EXCLUDES(tls_mu_);
  // Decrypts what was read into `plain`; false when the connection closes (a failed handshake, a corrupt
  // stream).
  bool Decrypt(std::span<const uint8_t> in, std::string* plain) FMQ_EXCLUDES(tls_mu_);
  // Frames of plaintext to send: written as they are, or encrypted, or held until the handshake ends.
  void WritePlain(std::vector<std::string> frames) FMQ_EXCLUDES(tls_mu_);
  void EncryptAndWrite(std::vector<std::string> frames) FMQ_REQUIRES(tls_mu_);
  void LogLimited(const std::string& line);
  void FlushReadAnswers();  // strand
  // Queues `frames` for writing; when no write is under way the calling thread writes them at once.
  void Write(std::vector<std::string> frames) FMQ_EXCLUDES(write_mu_);
  // The calling thread owns the writer role (kDirect) and writes `frames`, then whatever was queued
  // meanwhile, until all is written or the socket is full (then the strand takes over).
  void WriteDirect(std::vector<std::string> frames) FMQ_EXCLUDES(write_mu_);
  void StartAsyncWrite() FMQ_EXCLUDES(write_mu_);  // strand
  void OnAsyncWritten(const boost::system::error_code& ec) FMQ_EXCLUDES(write_mu_);
  void TouchIdle() {
    last_activity_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  void ArmIdleTimer(Clock::duration after);
  void OnIdleTimer();
  void ArmResponseTimer() FMQ_EXCLUDES(pending_mu_);  // strand: at response_timer_at_
  void OnResponseTimer() FMQ_EXCLUDES(pending_mu_);
  void CloseOnStrand(const std::string& why) FMQ_EXCLUDES(write_mu_, pending_mu_);

  boost::asio::ip::tcp::socket socket_;  // strand only
  const int fd_;  // socket_'s descriptor for direct writes; closed only when no direct write runs
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  // One idle timer, armed once per idle period: a read or write only notes the time (re-arming a timer per
  // frame costs a cancelled handler and often a timerfd update).
  boost::asio::steady_timer idle_timer_;
  std::atomic<Clock::rep> last_activity_{0};
  // One timer for the response deadlines of all invokes, armed at the earliest deadline; a response does
  // not touch it (a wake-up that finds nothing expired re-arms for the next deadline).
  boost::asio::steady_timer response_timer_;
  const Options options_;
  const RequestCallback on_request_;
  const CloseCallback on_close_;
  std::string remote_;
  protocol::FrameDecoder decoder_;             // strand only
  std::array<uint8_t, 64 * 1024> read_buf_{};  // strand only
  bool in_read_ = false;                       // strand only: handling the frames of one read
  std::vector<std::string> read_answers_;      // strand only: frames sent meanwhile from the strand
  size_t read_answer_bytes_ = 0;               // strand only
  std::vector<std::string> async_frames_;      // strand only: the async write under way
  std::vector<boost::asio::const_buffer> async_buffers_;  // strand only

  Mutex write_mu_;
  std::vector<std::string> write_queue_ FMQ_GUARDED_BY(write_mu_);
  Writer writer_ FMQ_GUARDED_BY(write_mu_) = Writer::kNone;
  bool write_closed_ FMQ_GUARDED_BY(write_mu_) = false;
  // The close found a direct write under way: the writer closes the socket (on the strand) when it ends.
  bool close_after_direct_write_ FMQ_GUARDED_BY(write_mu_) = false;

  Mutex pending_mu_;
  std::unordered_map<int32_t, Pending> pending_ FMQ_GUARDED_BY(pending_mu_);
  std::set<std::pair<Clock::time_point, int32_t>> deadlines_ FMQ_GUARDED_BY(pending_mu_);  // keys of pending_
  Clock::time_point response_timer_at_ FMQ_GUARDED_BY(pending_mu_) = Clock::time_point::max();
  bool pending_closed_ FMQ_GUARDED_BY(pending_mu_) = false;  // invokes fail at once

  std::atomic<bool> closed_{false};
  std::atomic<int32_t> next_opaque_{1};

  // TLS (lock order: tls_mu_, then write_mu_: ciphertext must reach the socket in the order it was made).
  std::atomic<Transport> transport_{Transport::kPlain};
  Mutex tls_mu_;
  std::unique_ptr<TlsSession> tls_ FMQ_GUARDED_BY(tls_mu_);
  std::vector<std::string> tls_held_ FMQ_GUARDED_BY(tls_mu_);  // sent before the transport was decided or the
                                                               // handshake ended
};

// Where a request handler sends its answer: the response gets the request's opaque and serialize type, the
// response flag and FerryMQ's version. Nothing is sent for a oneway request or once the connection closed.
// Copyable and thread-safe; holds the connection weakly. With `timing`, the answer is reported to its
// observer.
class Responder {
 public:
  Responder() = default;  // sends nothing
  Responder(std::weak_ptr<Connection> conn, const protocol::RemotingCommand& request,
            std::shared_ptr<RpcTiming> timing = nullptr)
      : conn_(std::move(conn)),
        opaque_(request.opaque),
        oneway_(request.IsOneway()),
        serialize_type_(request.serialize_type),
        timing_(std::move(timing)) {}
  void Send(protocol::RemotingCommand response) const;
  // The request waits for data (a parked pull): its latency is reported as long polling.
  void MarkLongPolling() const {
    if (timing_) timing_->long_polling.store(true, std::memory_order_relaxed);
  }
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
  std::shared_ptr<RpcTiming> timing_;
};

using Handler = std::function<void(protocol::RemotingCommand request, Responder responder)>;

}  // namespace fmq::net
