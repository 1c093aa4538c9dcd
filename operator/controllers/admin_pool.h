#pragma once

// AdminPool: one started RocketMQ admin client (broker/client Admin) per name-server address list, shared by
// the reconcilers of every Cluster and Topic that use those name servers, so a reconcile pass reuses
// connections instead of dialling the brokers again. Admin calls time out after `rpc_timeout`, which bounds
// how long a worker waits for an unreachable broker.
//
// Owned by the composition root; stops every client on destruction. Thread-safety: all methods are
// thread-safe; the Admin clients themselves may be used from any thread.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/client/admin.h"

namespace fmq::op::controllers {

class AdminPool {
 public:
  explicit AdminPool(std::chrono::milliseconds rpc_timeout = std::chrono::milliseconds(3000));
  ~AdminPool();
  AdminPool(const AdminPool&) = delete;
  AdminPool& operator=(const AdminPool&) = delete;

  // The admin client for `namesrv_addrs` ("a:9876;b:9876"), started on first use.
  Result<std::shared_ptr<client::Admin>> For(const std::string& namesrv_addrs) FMQ_EXCLUDES(mu_);
  // Stops and drops the client of a name-server list nobody uses any more (a deleted Cluster).
  void Forget(const std::string& namesrv_addrs) FMQ_EXCLUDES(mu_);

 private:
  const std::chrono::milliseconds rpc_timeout_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<client::Admin>> admins_ FMQ_GUARDED_BY(mu_);
};

// brokerName -> master address of every broker group of `cluster` registered with the name servers.
Result<std::map<std::string, std::string>> RegisteredMasters(client::Admin& admin,
                                                             const std::string& cluster);

}  // namespace fmq::op::controllers
