#pragma once

// AclGuard: ACL on a remoting port. Owns the PlainAclStore of one plain_acl.yml, reloads it every second when
// its text changes (a bad edit is logged once and the old rules stay), and checks each request before its
// handler: Filter() has the shape of net::RemotingServer::RequestFilter and answers a refused request
// NO_PERMISSION with Apache's message. Refusals are counted and logged at most once per second with the peer,
// code and access key (never a secret), so a misconfigured client cannot flood the log.
//
// Created by the composition root of a broker or name server when aclEnable is on; Start() before the server
// accepts requests, Stop() after it stopped. Thread-safety: Filter from any thread.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "broker/acl/access_validator.h"
#include "broker/acl/plain_acl_store.h"
#include "broker/base/service_thread.h"
#include "broker/protocol/remoting_command.h"

namespace fmq::acl {

class AclGuard {
 public:
  struct Options {
    Endpoint endpoint = Endpoint::kBroker;
    std::string path;  // plain_acl.yml
    std::chrono::milliseconds reload_interval{1000};
  };
  // `fs` and `clock` must outlive the guard.
  AclGuard(io::FileSystem& fs, const Clock& clock, Options options);
  ~AclGuard();
  AclGuard(const AclGuard&) = delete;
  AclGuard& operator=(const AclGuard&) = delete;

  // Loads the file (an invalid one fails with its path and reason) and starts the reload thread.
  Status Start();
  void Stop();

  std::optional<protocol::RemotingCommand> Filter(const std::string& remote_address,
                                                  const protocol::RemotingCommand& request);
  PlainAclStore& store() { return store_; }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  class Reloader;
  void Reload();

  const Options options_;
  const Clock& clock_;
  PlainAclStore store_;
  std::unique_ptr<Reloader> reloader_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<int64_t> last_refusal_log_ms_{0};
  std::atomic<uint64_t> unlogged_refusals_{0};
};

}  // namespace fmq::acl
