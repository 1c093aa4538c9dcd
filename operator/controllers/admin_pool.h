#pragma once

// AdminPool: one started RocketMQ admin client (broker/client Admin) per name-server address list, shared by
// the reconcilers of every Cluster and Topic that use those name servers, so a reconcile pass reuses
// connections instead of dialling the brokers again. Admin calls time out after `rpc_timeout`, which bounds
// how long a worker waits for an unreachable broker.
//
// A client lives as long as some Cluster uses its name servers: the Cluster reconciler names itself the owner
// (For with `owner`), so a Cluster whose name-server list changes, or that is deleted (Release), lets its old
// client go; it stops when the last caller holding it is done.
//
// Owned by the composition root; stops every client on destruction. Thread-safety: all methods are
// thread-safe; the Admin clients themselves may be used from any thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/client/admin.h"

namespace fmq::op::controllers {

// How a client signs and connects (a Cluster's spec.security; controllers/cluster_security.h). A client
// built with another `fingerprint` for the same name servers is replaced.
struct AdminSecurity {
  std::string access_key{};
  std::string secret_key{};
  // TLS: the files the client's context loads (and reloads when they change); built only with a new client.
  std::optional<net::TlsFiles> tls_files{};
  std::string fingerprint{};  // empty: no security
};

class AdminPool {
 public:
  // `dial` (tests only) maps a Cluster's name-server list, stable DNS names in the cluster, to the addresses
  // a client dials; by default they are dialled as they are.
  using Dial = std::function<std::string(const std::string& namesrv_addrs)>;
  explicit AdminPool(std::chrono::milliseconds rpc_timeout = std::chrono::milliseconds(3000), Dial dial = {});
  ~AdminPool();
  AdminPool(const AdminPool&) = delete;
  AdminPool& operator=(const AdminPool&) = delete;

  using Security = AdminSecurity;

  // The admin client for `namesrv_addrs` ("a:9876;b:9876"), started on first use. `owner` (a Cluster's key)
  // records that it uses these name servers; the client it used before, if different and nobody else's, goes.
  Result<std::shared_ptr<client::Admin>> For(const std::string& namesrv_addrs, const std::string& owner = "",
                                             const Security& security = {}) FMQ_EXCLUDES(mu_);
  // `owner` is gone (a deleted Cluster): its client goes unless another owner uses the same name servers.
  void Release(const std::string& owner) FMQ_EXCLUDES(mu_);
  // Clients held (for tests and the operator's metrics).
  size_t size() const FMQ_EXCLUDES(mu_);

 private:
  // Takes the client of `namesrv_addrs` out of the pool unless an owner still uses it, and hands it to the
  // caller to let go of outside the lock (the last holder's reference stops it).
  std::shared_ptr<client::Admin> ForgetUnownedLocked(const std::string& namesrv_addrs) FMQ_REQUIRES(mu_);

  const std::chrono::milliseconds rpc_timeout_;
  const Dial dial_;
  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<client::Admin>> admins_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::string> fingerprints_ FMQ_GUARDED_BY(mu_);  // name-server list -> its security
  std::map<std::string, std::string> owners_ FMQ_GUARDED_BY(mu_);        // owner -> name-server list
};

// brokerName -> master address of every broker group of `cluster` registered with the name servers.
Result<std::map<std::string, std::string>> RegisteredMasters(client::Admin& admin,
                                                             const std::string& cluster);

// Every broker of `cluster` registered with the name servers, slaves too: "brokerName/brokerId" -> address.
Result<std::map<std::string, std::string>> RegisteredBrokers(client::Admin& admin,
                                                             const std::string& cluster);

}  // namespace fmq::op::controllers
