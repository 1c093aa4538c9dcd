#include "broker/net/http_server.h"

#include <utility>  // Boost 1.74's Asio misses this include

#include <boost/asio.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <deque>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "broker/base/logging.h"
#include "broker/base/mutex.h"

namespace fmq::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

Result<HttpHead> ParseHttpRequestHead(std::string_view head) {
  namespace http = boost::beast::http;
  // buffer_body: the parser reserves nothing for a body whatever Content-Length says; the server reads it.
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(head.size(), kMaxHeadBytes + 4)));
  parser.body_limit((std::numeric_limits<std::uint64_t>::max)());
  parser.eager(false);  // stop after the head
  boost::beast::error_code ec;
  parser.put(asio::buffer(head.data(), head.size()), ec);
  if (ec == http::error::need_more) return Status::InvalidArgument("incomplete request head");
  if (ec) return Status::InvalidArgument("malformed request head: " + ec.message());
  if (!parser.is_header_done()) return Status::InvalidArgument("incomplete request head");
  const auto& req = parser.get();
  if (req.version() != 10 && req.version() != 11) {
    return Status::InvalidArgument("malformed request head: HTTP version " +
                                   std::to_string(req.version() / 10) + "." +
                                   std::to_string(req.version() % 10) + " (1.0 or 1.1 expected)");
  }
  HttpHead out;
  HttpRequest& r = out.request;
  auto text = [](boost::beast::string_view v) { return std::string(v.data(), v.size()); };
  r.method = text(req.method_string());
  r.target = text(req.target());
  r.version = req.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  const size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& field : req) r.headers.emplace_back(Lower(text(field.name_string())), text(field.value()));
  out.keep_alive = parser.keep_alive();
  out.chunked = parser.chunked();
  out.content_length = parser.content_length().value_or(0);
  return out;
}

std::string HttpRequest::Header(std::string_view name) const {
  std::string lname = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == lname) return v;
  }
  return "";
}

std::map<std::string, std::string> HttpRequest::QueryParams() const {
  std::map<std::string, std::string> out;
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out[PercentDecode(pair)] = "";
    } else {
      out[PercentDecode(pair.substr(0, eq))] = PercentDecode(pair.substr(eq + 1));
    }
  }
  return out;
}

std::string_view HttpReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

Result<std::pair<std::string, int>> ParseBindAddress(std::string_view address) {
  std::string_view host;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Status::InvalidArgument("bind address '" + std::string(address) + "' is not [v6]:port");
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("bind address '" + std::string(address) + "' is not host:port or :port");
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) {
    return Status::InvalidArgument("bind address '" + std::string(address) + "' has no valid port");
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : std::string(host), p);
}

class Session;

namespace internal {

class HttpServerState {
 public:
  explicit HttpServerState(HttpServerConfig config)
      : config_(std::move(config)), accept_strand_(asio::make_strand(io_)), acceptor_(io_) {}

  void Accept();
  void Forget(Session* s) FMQ_EXCLUDES(mu_);
  const HttpHandler* Route(const std::string& path) const {
    auto it = routes_.find(path);
    if (it != routes_.end()) return &it->second;
    return default_handler_ ? &default_handler_ : nullptr;
  }

  const HttpServerConfig config_;
  asio::io_context io_;
  // The acceptor is not thread-safe: its accept completions and Stop's close run on this one strand.
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::map<std::string, HttpHandler> routes_;  // written before Start() only
  HttpHandler default_handler_;
  std::atomic<int> port_{0};
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> requests_{0};
  Mutex mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_ FMQ_GUARDED_BY(mu_);
};

}  // namespace internal

using internal::HttpServerState;

// One connection. All its state is touched only on its strand (the socket's executor); responders reach it
// through Post* from any thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServerState* server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), idle_timer_(socket_.get_executor()) {}

  void Start() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->ArmIdle();
      self->ReadMore();
    });
  }
  void PostClose() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->DoClose(); });
  }
  // Queues bytes of the response numbered `seq`; `last` ends that response.
  void PostWrite(uint64_t seq, std::string data, bool last) {
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), seq, data = std::move(data), last]() mutable {
                 if (!self->open_ || seq != self->seq_) return;
                 self->out_.push_back(std::move(data));
                 if (last) self->response_complete_ = true;
                 if (!self->writing_) self->WriteNext();
               });
  }
  // Closes the connection once the bytes already queued are written.
  void PostAbort(uint64_t seq) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), seq] {
      if (seq != self->seq_) return;
      if (self->writing_) {
        self->abort_after_flush_ = true;
      } else {
        self->DoClose();
      }
    });
  }
  bool open() const { return open_.load(); }

 private:
  enum class State { kHead, kBody, kResponding };

  void ReadMore() {
    if (!open_) return;
    socket_.async_read_some(
        asio::buffer(read_buf_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (ec || !open_) {
      DoClose();
      return;
    }
    buffer_.append(read_buf_.data(), n);
    if (state_ == State::kHead) ArmIdle();
    if (state_ == State::kResponding && buffer_.size() > kMaxHeadBytes + server_->config_.max_body_bytes) {
      DoClose();  // a client that floods while its response streams
      return;
    }
    Process();
    ReadMore();
  }

  void Process() {
    while (open_) {
      if (state_ == State::kHead) {
        size_t end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (buffer_.size() > kMaxHeadBytes) Reject(431, "request head too large");
          return;
        }
        std::string head = buffer_.substr(0, end + 4);
        buffer_.erase(0, end + 4);
        if (!ParseHead(head)) return;
        if (content_length_ > server_->config_.max_body_bytes) {
          Reject(413, "request body too large");
          return;
        }
        if (Lower(request_.Header("expect")) == "100-continue") {
          out_.push_back("HTTP/1.1 100 Continue\r\n\r\n");
          if (!writing_) WriteNext();
        }
        state_ = State::kBody;
        idle_timer_.cancel();
      }
      if (state_ == State::kBody) {
        if (buffer_.size() < content_length_) return;
        request_.body = buffer_.substr(0, content_length_);
        buffer_.erase(0, content_length_);
        state_ = State::kResponding;
        Dispatch();
        return;
      }
      return;  // kResponding: the next request waits until this response ends
    }
  }

  // `head`: up to and including the empty line.
  bool ParseHead(std::string_view head) {
    auto parsed = ParseHttpRequestHead(head);
    if (!parsed.ok()) {
      Reject(400, parsed.status().message());
      return false;
    }
    if (parsed->chunked) {
      Reject(501, "chunked request bodies are not supported; send Content-Length");
      return false;
    }
    request_ = std::move(parsed->request);
    close_after_ = !parsed->keep_alive;
    content_length_ = parsed->content_length;
    return true;
  }

  // Answers an unreadable request and closes the connection after the answer.
  void Reject(int status, std::string_view why) {
    close_after_ = true;
    state_ = State::kResponding;
    std::string body = std::string(why) + "\n";
    out_.push_back(
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n"
                    "Connection: close\r\n\r\n{}",
                    status, HttpReasonPhrase(status), body.size(), body));
    response_complete_ = true;
    if (!writing_) WriteNext();
  }

  void Dispatch();

  void WriteNext() {
    if (!open_) return;
    if (out_.empty()) {
      writing_ = false;
      if (abort_after_flush_) {
        DoClose();
      } else if (response_complete_) {
        ResponseDone();
      }
      return;
    }
    writing_ = true;
    auto data = std::make_shared<std::string>(std::move(out_.front()));
    out_.pop_front();
    asio::async_write(socket_, asio::buffer(*data),
                      [self = shared_from_this(), data](const boost::system::error_code& ec, size_t) {
                        if (ec) {
                          self->DoClose();
                          return;
                        }
                        self->WriteNext();
                      });
  }

  void ResponseDone() {
    response_complete_ = false;
    ++seq_;  // a late call on the old responder is ignored
    if (close_after_) {
      DoClose();
      return;
    }
    state_ = State::kHead;
    ArmIdle();
    Process();
  }

  void ArmIdle() {
    if (!open_) return;
    idle_timer_.expires_after(server_->config_.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && self->state_ == State::kHead) self->DoClose();
    });
  }

  void DoClose() {
    if (!open_.exchange(false)) return;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    idle_timer_.cancel();
    out_.clear();
    server_->Forget(this);
  }

  HttpServerState*
      server_;  // not owned; outlives every session (Stop() closes them and joins the I/O threads)
  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  std::array<char, 8192> read_buf_{};
  std::string buffer_;  // received, not yet consumed
  State state_ = State::kHead;
  HttpRequest request_;
  uint64_t content_length_ = 0;
  bool close_after_ = false;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool response_complete_ = false;  // the last bytes of the current response are queued
  bool abort_after_flush_ = false;  // Abort(): close once the queue is written
  uint64_t seq_ = 0;                // number of the current response
  std::atomic<bool> open_{true};
};

class ResponderImpl final : public HttpResponder {
 public:
  ResponderImpl(std::shared_ptr<Session> session, uint64_t seq, bool head_only, bool close)
      : session_(std::move(session)), seq_(seq), head_only_(head_only), close_(close) {}

  void Send(int status, std::string content_type, std::string body, HttpHeaders headers) override {
    {
      MutexLock lock(&mu_);
      if (state_ != State::kNone) return;
      state_ = State::kDone;
    }
    std::string out = Head(status, content_type, headers);
    out += fmt::format("Content-Length: {}\r\n\r\n", body.size());
    if (!head_only_) out += body;
    session_->PostWrite(seq_, std::move(out), true);
  }

  void StartChunked(int status, std::string content_type, HttpHeaders headers) override {
    {
      MutexLock lock(&mu_);
      if (state_ != State::kNone) return;
      state_ = State::kStreaming;
    }
    std::string out = Head(status, content_type, headers);
    out += "Transfer-Encoding: chunked\r\n\r\n";
    session_->PostWrite(seq_, std::move(out), false);
  }

  void WriteChunk(std::string data) override {
    if (data.empty()) return;
    MutexLock lock(&mu_);  // keeps chunks in call order across threads
    if (state_ != State::kStreaming) return;
    session_->PostWrite(seq_, fmt::format("{:x}\r\n", data.size()) + data + "\r\n", false);
  }

  void EndChunked() override {
    MutexLock lock(&mu_);
    if (state_ != State::kStreaming) return;
    state_ = State::kDone;
    session_->PostWrite(seq_, "0\r\n\r\n", true);
  }

  void Abort() override {
    {
      MutexLock lock(&mu_);
      state_ = State::kDone;
    }
    session_->PostAbort(seq_);
  }

  bool IsOpen() const override { return session_->open(); }

 private:
  enum class State { kNone, kStreaming, kDone };

  std::string Head(int status, const std::string& content_type, const HttpHeaders& headers) const {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, HttpReasonPhrase(status));
    if (!content_type.empty()) out += "Content-Type: " + content_type + "\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    if (close_) out += "Connection: close\r\n";
    return out;
  }

  const std::shared_ptr<Session> session_;
  const uint64_t seq_;
  const bool head_only_;
  const bool close_;
  Mutex mu_;
  State state_ FMQ_GUARDED_BY(mu_) = State::kNone;
};

void Session::Dispatch() {
  server_->requests_.fetch_add(1);
  auto responder =
      std::make_shared<ResponderImpl>(shared_from_this(), seq_, request_.method == "HEAD", close_after_);
  const HttpHandler* handler = server_->Route(request_.path);
  if (handler == nullptr) {
    responder->Send(404, "text/plain", "not found: " + request_.path + "\n", {});
    return;
  }
  (*handler)(request_, responder);
}

void HttpServerState::Accept() {
  acceptor_.async_accept(
      asio::make_strand(io_),
      asio::bind_executor(accept_strand_, [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec) {
          if (ec == asio::error::operation_aborted || !running_) return;
          Accept();
          return;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<Session>(this, std::move(socket));
        {
          MutexLock lock(&mu_);
          sessions_[session.get()] = session;
        }
        session->Start();
        Accept();
      }));
}

void HttpServerState::Forget(Session* s) {
  MutexLock lock(&mu_);
  sessions_.erase(s);
}

HttpServer::HttpServer(HttpServerConfig config)
    : impl_(std::make_unique<HttpServerState>(std::move(config))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string path, HttpHandler handler) {
  impl_->routes_[std::move(path)] = std::move(handler);
}

void HttpServer::SetDefaultHandler(HttpHandler handler) { impl_->default_handler_ = std::move(handler); }

Status HttpServer::Start() {
  HttpServerState& s = *impl_;
  if (s.running_) return Status::FailedPrecondition("HTTP server already started");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(s.config_.host, ec);
  if (ec) return Status::InvalidArgument("listen address '" + s.config_.host + "' is not an IP address");
  tcp::endpoint ep(addr, static_cast<uint16_t>(s.config_.port));
  s.acceptor_.open(ep.protocol(), ec);
  if (!ec) s.acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor_.bind(ep, ec);
  if (ec == asio::error::address_in_use) {
    return Status::FailedPrecondition(
        fmt::format("port {} on {} is already in use by another process: stop it or choose another port",
                    s.config_.port, s.config_.host));
  }
  if (!ec) s.acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor_.close(ignored);
    return Status::IOError(
        fmt::format("cannot listen on {}:{}: {}", s.config_.host, s.config_.port, ec.message()));
  }
  s.port_ = s.acceptor_.local_endpoint().port();
  s.work_ =
      std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(s.io_.get_executor());
  s.running_ = true;
  s.Accept();
  for (int i = 0; i < std::max(1, s.config_.io_threads); ++i) {
    s.threads_.emplace_back([&s] { s.io_.run(); });
  }
  GetLogger("net")->debug("HTTP server listening address={}:{}", s.config_.host, s.port_.load());
  return Status::Ok();
}

void HttpServer::Stop() {
  HttpServerState& s = *impl_;
  if (!s.running_.exchange(false)) return;
  asio::post(s.accept_strand_, [&s] {
    boost::system::error_code ignored;
    s.acceptor_.close(ignored);
    std::vector<std::shared_ptr<Session>> live;
    {
      MutexLock lock(&s.mu_);
      for (auto& [ptr, weak] : s.sessions_) {
        if (auto sp = weak.lock()) live.push_back(std::move(sp));
      }
    }
    for (auto& session : live) session->PostClose();
  });
  s.work_.reset();
  for (auto& t : s.threads_) t.join();
  s.threads_.clear();
}

int HttpServer::port() const { return impl_->port_.load(); }

uint64_t HttpServer::request_count() const { return impl_->requests_.load(); }

}  // namespace fmq::net
