#pragma once

// FakeApiServer (tests only): a scriptable HTTP server on 127.0.0.1 that stands in for kube-apiserver in unit
// tests of the client, the informer and the leader elector. Tests register handlers per method and path and
// see every request; answers go through real sockets (net::HttpServer), including streamed chunked watch
// responses.
//
// Thread-safety: On/Requests/Clear from the test thread while the server runs; handlers run on its I/O
// thread.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/check.h"
#include "broker/base/mutex.h"
#include "broker/net/http_server.h"
#include "operator/kube/config.h"

namespace fmq::op::kube::testing {

class FakeApiServer {
 public:
  using Handler = std::function<void(const net::HttpRequest&, std::shared_ptr<net::HttpResponder>)>;

  FakeApiServer() : server_(net::HttpServerConfig{.host = "127.0.0.1", .port = 0, .io_threads = 2}) {
    server_.SetDefaultHandler([this](const net::HttpRequest& req, std::shared_ptr<net::HttpResponder> r) {
      Handler h;
      {
        MutexLock lock(&mu_);
        requests_.push_back(req);
        auto it = handlers_.find(req.method + " " + req.path);
        if (it != handlers_.end()) h = it->second;
      }
      if (h) {
        h(req, std::move(r));
      } else {
        r->Send(404, "application/json",
                StatusBody(404, "NotFound", "no fake handler for " + req.method + " " + req.path));
      }
    });
    FMQ_CHECK(server_.Start().ok());
  }
  ~FakeApiServer() { server_.Stop(); }

  // Routes `method path` (path without query) to `handler`, replacing an earlier one.
  void On(const std::string& method, const std::string& path, Handler handler) {
    MutexLock lock(&mu_);
    handlers_[method + " " + path] = std::move(handler);
  }
  // Answers `method path` with a fixed JSON reply.
  void Reply(const std::string& method, const std::string& path, int code, const nlohmann::json& body) {
    std::string text = body.dump();
    On(method, path, [code, text](const net::HttpRequest&, std::shared_ptr<net::HttpResponder> r) {
      r->Send(code, "application/json", text);
    });
  }

  std::vector<net::HttpRequest> Requests() const {
    MutexLock lock(&mu_);
    return requests_;
  }
  size_t RequestCount() const {
    MutexLock lock(&mu_);
    return requests_.size();
  }
  void ClearRequests() {
    MutexLock lock(&mu_);
    requests_.clear();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  Config config() const {
    Config c;
    c.server = url();
    c.token = "test-token";
    c.source = "fake apiserver";
    return c;
  }
  void Stop() { server_.Stop(); }

  // A metav1.Status error body as the apiserver writes it.
  static std::string StatusBody(int code, const std::string& reason, const std::string& message,
                                nlohmann::json details = nullptr) {
    nlohmann::json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                        {"status", "Failure"}, {"message", message}, {"reason", reason},
                        {"code", code}};
    if (!details.is_null()) s["details"] = std::move(details);
    return s.dump();
  }
  // One watch event line.
  static std::string EventLine(const std::string& type, const nlohmann::json& object) {
    return nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
  }

 private:
  mutable Mutex mu_;
  std::map<std::string, Handler> handlers_ FMQ_GUARDED_BY(mu_);
  std::vector<net::HttpRequest> requests_ FMQ_GUARDED_BY(mu_);
  net::HttpServer server_;
};

}  // namespace fmq::op::kube::testing
