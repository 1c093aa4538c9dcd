#pragma once

// HttpServer: a small HTTP/1.1 server for operational endpoints (Prometheus /metrics, /healthz, /readyz) and
// for in-process fake servers in tests (the operator's Kubernetes client is tested against one, with streamed
// chunked watch responses).
//
// Scope, on purpose: requests with a Content-Length body (no chunked request bodies), keep-alive, one request
// at a time per connection (no pipelining: the next request is read after the response ends), responses
// either whole (Content-Length) or streamed with Transfer-Encoding: chunked. No TLS.
//
// Handlers run on an I/O thread and must not block; they answer through the HttpResponder they are given, at
// once or later from any thread (a streaming response keeps its responder and writes chunks as events
// happen).
//
// Created by the composition root (or a test); routes are registered before Start(); Stop() closes the
// listener and every connection and joins the I/O threads (idempotent; the destructor calls it).
// Thread-safety: Handle and Start/Stop from the owner's thread; responders from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/base/status.h"

namespace fmq::net {

namespace internal {
class HttpServerState;
}  // namespace internal

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/path?query"
  std::string path;     // target before '?', still percent-encoded
  std::string query;    // target after '?', still percent-encoded ("" if none)
  std::string version;  // "HTTP/1.1"
  HttpHeaders headers;  // names lower-cased, in arrival order
  std::string body;

  // The first header with this (case-insensitive) name, or "" if absent.
  std::string Header(std::string_view name) const;
  // Query parameters, percent-decoded ('+' is a space); a repeated name keeps its last value.
  std::map<std::string, std::string> QueryParams() const;
};

// A request head (request line and header fields, up to and including the empty line that ends them), parsed
// by Boost.Beast's HTTP/1.1 parser: the request's fields but its body, whether the connection stays open
// after the answer (HTTP/1.1 keep-alive rules and Connection), and the body's length. Anything Beast refuses
// (a malformed request line or field, conflicting Content-Length) and a version other than HTTP/1.0 or 1.1 is
// InvalidArgument saying what was wrong; obsolete line folding is unfolded. Pure.
struct HttpHead {
  HttpRequest request;  // body empty
  bool keep_alive = true;
  bool chunked = false;  // Transfer-Encoding: chunked (the server answers 501)
  uint64_t content_length = 0;
};
Result<HttpHead> ParseHttpRequestHead(std::string_view head);

// Percent-decodes `s` ('+' becomes a space when `plus_is_space`). Malformed escapes are kept as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space = true);

// Writes one response. Exactly one of Send or StartChunked..EndChunked per request; later calls are ignored.
// Safe from any thread; calls after the peer went away are ignored.
class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  // A whole response with Content-Length.
  virtual void Send(int status, std::string content_type, std::string body, HttpHeaders headers = {}) = 0;
  // A streamed response: the head (Transfer-Encoding: chunked) now, chunks later, then the terminating chunk.
  virtual void StartChunked(int status, std::string content_type, HttpHeaders headers = {}) = 0;
  virtual void WriteChunk(std::string data) = 0;  // an empty chunk is skipped (it would end the body)
  virtual void EndChunked() = 0;
  // Closes the connection without finishing the response, after the bytes already written (tests of broken
  // streams).
  virtual void Abort() = 0;
  // False once the connection closed (peer gone, Abort, Stop).
  virtual bool IsOpen() const = 0;
};

using HttpHandler = std::function<void(const HttpRequest&, std::shared_ptr<HttpResponder>)>;

struct HttpServerConfig {
  std::string host = "0.0.0.0";
  int port = 0;  // 0: pick a free port (tests)
  int io_threads = 1;
  // Larger bodies are answered 413 and the connection is closed.
  size_t max_body_bytes = 8 << 20;
  // A connection idle between requests this long is closed; a streaming response is never cut by it.
  std::chrono::milliseconds idle_timeout{60'000};
};

// Parses a bind address: "host:port", ":port" (all interfaces) or "[v6]:port". Port 0 picks a free port.
Result<std::pair<std::string, int>> ParseBindAddress(std::string_view address);

class HttpServer {
 public:
  explicit HttpServer(HttpServerConfig config);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes an exact path (no query) to `handler`. REQUIRES: before Start().
  void Handle(std::string path, HttpHandler handler);
  // Handles every path without a route (otherwise 404). REQUIRES: before Start().
  void SetDefaultHandler(HttpHandler handler);

  Status Start();
  void Stop();

  // The bound port (after Start()).
  int port() const;
  // Requests received so far (tests).
  uint64_t request_count() const;

 private:
  std::unique_ptr<internal::HttpServerState> impl_;
};

// The standard reason phrase of an HTTP status code ("OK", "Not Found", ...).
std::string_view HttpReasonPhrase(int status);

}  // namespace fmq::net
