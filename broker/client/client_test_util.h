#pragma once

// ScriptedServer: a real net::RemotingServer on 127.0.0.1 whose answers the test scripts per request code and
// which records every request it receives, so client tests can assert the exact headers and bodies sent.
// Test-only. Thread-safety: On/Requests/WaitFor from the test thread while handlers run on the executor.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/poll.h"
#include "broker/net/executor.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::client::testing {

using protocol::RemotingCommand;
using Script = std::function<RemotingCommand(const RemotingCommand&)>;

// A script returning this code leaves the request unanswered (a broker holding a long-polling pull).
inline constexpr int32_t kNoAnswer = -1;

inline RemotingCommand Reply(int32_t code, std::string body = "", std::map<std::string, std::string> ext = {},
                             std::string remark = "") {
  RemotingCommand r = RemotingCommand::Answer(code, std::move(remark));
  r.body = std::move(body);
  r.ext_fields = std::move(ext);
  return r;
}

class ScriptedServer {
 public:
  ScriptedServer() : server_(Config()) {
    server_.SetDefaultHandler(
        [this](RemotingCommand req, net::Responder responder) {
          Script script;
          {
            MutexLock lock(&mu_);
            requests_[req.code].push_back(req);
            last_responder_.emplace(responder);
            auto it = scripts_.find(req.code);
            if (it != scripts_.end()) script = it->second;
          }
          cv_.SignalAll();
          if (req.IsOneway()) {
            if (script) (void)script(req);
            return;
          }
          RemotingCommand resp =
              script ? script(req)
                     : Reply(protocol::response_code::kRequestCodeNotSupported, "", {}, "unscripted");
          if (resp.code != kNoAnswer) responder.Send(std::move(resp));
        },
        &executor_);
    (void)executor_.Start();
    (void)server_.Start();
  }
  ~ScriptedServer() {
    server_.Stop();
    executor_.Stop();
  }

  std::string addr() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  int port() const { return server_.port(); }

  void On(int32_t code, Script script) {
    MutexLock lock(&mu_);
    scripts_[code] = std::move(script);
  }
  std::vector<RemotingCommand> Requests(int32_t code) {
    MutexLock lock(&mu_);
    return requests_[code];
  }
  size_t Count(int32_t code) { return Requests(code).size(); }
  // Waits until `n` requests with `code` arrived; false after 10 s.
  bool WaitFor(int32_t code, size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    MutexLock lock(&mu_);
    while (requests_[code].size() < n) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv_.WaitFor(std::chrono::milliseconds(20));
    }
    return true;
  }
  // A request to the client over the connection of the latest request (e.g. NOTIFY_CONSUMER_IDS_CHANGED).
  bool SendToClient(RemotingCommand request) {
    std::optional<net::Responder> r;
    {
      MutexLock lock(&mu_);
      r = last_responder_;
    }
    if (!r) return false;
    auto conn = r->connection();
    if (!conn) return false;
    conn->Send(std::move(request));
    return true;
  }

 private:
  static net::ServerConfig Config() {
    net::ServerConfig c;
    c.host = "127.0.0.1";
    c.port = 0;
    return c;
  }

  net::BoundedExecutor executor_{"scripted", 2, 1000};
  net::RemotingServer server_;
  Mutex mu_;
  CondVar cv_{&mu_};
  std::map<int32_t, Script> scripts_ FMQ_GUARDED_BY(mu_);
  std::map<int32_t, std::vector<RemotingCommand>> requests_ FMQ_GUARDED_BY(mu_);
  std::optional<net::Responder> last_responder_ FMQ_GUARDED_BY(mu_);
};

// Waits until `pred` holds; false after 10 s (base/poll.h). For conditions the client reaches on its own
// threads.
inline bool Eventually(const std::function<bool()>& pred) {
  return PollUntil(pred, std::chrono::seconds(10));
}

}  // namespace fmq::client::testing
