#pragma once

// NameServer: `ferrymq namesrv` (and the name-server half of `ferrymq standalone`). Answers brokers'
// registrations and clients' route lookups over the remoting protocol (protocol reference 2.10), expires
// silent brokers, and keeps the KV config (persisted to kvConfig.json). A broker whose registration
// connection closes (it stopped or crashed; the kernel closed its socket) is removed at once, as RocketMQ's
// onChannelDestroy does: its routes go away without waiting for the expiry, and a master restarted at the
// same epoch on a new address is not mistaken for a second master.
//
// Created by the composition root with a FileSystem and Clock that outlive it; Start() then Stop().
// Thread-safety: request handlers run on the name server's executor; the tables are internally locked.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "broker/acl/acl_guard.h"
#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/io/file_system.h"
#include "broker/namesrv/route_info_manager.h"
#include "broker/net/remoting_server.h"
#include "broker/net/tls.h"

namespace fmq::namesrv {

struct NameServerConfig {
  std::string listen_host = "0.0.0.0";
  int listen_port = 9876;  // 0: any free port (tests)
  // kvConfigPath: where PUT_KV_CONFIG values survive restarts; empty = not persisted.
  std::string kv_config_path;
  // How often silent brokers are looked for, and how long a broker may stay silent (RocketMQ: 10 s, 120 s).
  std::chrono::milliseconds scan_not_active_broker_interval{10'000};
  std::chrono::milliseconds broker_expiry{120'000};
  int worker_threads = 4;
  size_t worker_queue_capacity = 10'000;
  // aclEnable: writes (register/unregister broker, delete topic, KV config, write permission) need a request
  // signed by an admin account of aclConfigFile; reads stay open (RocketMQ 4.x name servers check nothing).
  bool acl_enable = false;
  std::string acl_config_file{};  // aclConfigFile; required with aclEnable
  // TLS (tls.server.mode and friends, net/tls.h); the tls.client keys are unused (a name server connects to
  // nothing).
  net::TlsSettings tls{};
};

class NameServer {
 public:
  NameServer(NameServerConfig config, io::FileSystem& fs, const Clock& clock);
  ~NameServer();
  NameServer(const NameServer&) = delete;
  NameServer& operator=(const NameServer&) = delete;

  Status Start();
  void Stop();
  int port() const { return server_.port(); }
  RouteInfoManager& routes() { return routes_; }

 private:
  class Housekeeping;
  using Cmd = protocol::RemotingCommand;

  void Route(int32_t code, void (NameServer::*handler)(const Cmd&, Cmd*));
  // `registered_addr`: the broker address recorded, when the registration succeeded.
  void RegisterBroker(const Cmd& req, Cmd* resp, std::string* registered_addr);
  void OnConnectionClosed(net::Connection* connection) FMQ_EXCLUDES(conn_mu_);
  void UnregisterBroker(const Cmd& req, Cmd* resp);
  void QueryDataVersion(const Cmd& req, Cmd* resp);
  void GetRouteInfo(const Cmd& req, Cmd* resp);
  void GetClusterInfo(const Cmd& req, Cmd* resp);
  void GetAllTopicList(const Cmd& req, Cmd* resp);
  void GetTopicsByCluster(const Cmd& req, Cmd* resp);
  void DeleteTopic(const Cmd& req, Cmd* resp);
  void WipeWritePerm(const Cmd& req, Cmd* resp);
  void AddWritePerm(const Cmd& req, Cmd* resp);
  void PutKv(const Cmd& req, Cmd* resp);
  void GetKv(const Cmd& req, Cmd* resp);
  void DeleteKv(const Cmd& req, Cmd* resp);
  void GetKvList(const Cmd& req, Cmd* resp);
  Status LoadKv() FMQ_EXCLUDES(kv_mu_);
  Status PersistKv() FMQ_REQUIRES(kv_mu_);

  const NameServerConfig config_;
  std::unique_ptr<acl::AclGuard> acl_;  // aclEnable only
  io::FileSystem& fs_;
  const Clock& clock_;
  RouteInfoManager routes_;
  net::BoundedExecutor executor_;
  net::RemotingServer server_;
  std::unique_ptr<Housekeeping> housekeeping_;
  Mutex conn_mu_;
  // Broker address -> the connection its last successful registration came over (compared, never used).
  std::map<std::string, const net::Connection*> broker_connections_ FMQ_GUARDED_BY(conn_mu_);
  Mutex kv_mu_;
  std::map<std::string, std::map<std::string, std::string>> kv_ FMQ_GUARDED_BY(kv_mu_);
};

}  // namespace fmq::namesrv
