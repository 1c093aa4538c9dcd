#pragma once

// BrokerRegistrar: keeps this broker registered with every name server (RocketMQ's BrokerOuterAPI
// registration). REGISTER_BROKER carries the topic configs and their data version; it is sent at Start(),
// every `period` (registerNameServerPeriod, 30 s, clamped to 10..60 s) and on RegisterNow() after a topic
// changes (and on RegisterSoon(), after the replication role changed). UNREGISTER_BROKER is sent at Stop().
//
// Name servers come and go without a broker restart: every namesrvAddr entry is a host name or an IP, and a
// host name counts for every address it resolves to (a Kubernetes headless Service lists each ready name
// server pod). Every `check_period` (3 s) the entries are resolved again; an address not registered with yet
// gets a registration at once, and each known one is asked QUERY_DATA_VERSION, whose "changed" answer (a
// name server that restarted and lost its tables) also brings an immediate registration. A name server
// therefore routes to this broker within seconds of starting, not at the next 30 s round. A slave that is not
// copying from its master registers at every check: the answer names the master, which may have restarted on
// a new address (a recreated pod). A slave
// learns its master's address and HA address from the answers. The broker id, the epoch (ferrymqEpoch) and
// the HA address come from the replication service at each registration; a name server that refuses a
// master registration for a stale epoch is reported to it (it stops taking writes and follows the new
// master the answer names).
//
// Created by the broker's composition root; the client, topics and config outlive it.
// Thread-safety: RegisterNow() and master_addr() from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/ha/ha_service.h"
#include "broker/net/remoting_client.h"
#include "broker/server/broker_config.h"
#include "broker/server/topic_config_manager.h"

namespace fmq::server {

struct RegistrarConfig {
  std::vector<std::string> name_servers;  // namesrvAddr, "host:port" each
  std::string broker_addr;                // this broker's "ip:listenPort" as clients reach it
  std::string ha_server_addr;             // "ip:haPort"
  std::chrono::milliseconds period{30'000};
  std::chrono::milliseconds timeout{6'000};       // registerBrokerTimeoutMills
  std::chrono::milliseconds check_period{3'000};  // re-resolve and ask each name server (see above)
  // "host:port" -> every "ip:port" it names; empty: net::ResolveAddresses (DNS). A seam for tests.
  std::function<Result<std::vector<std::string>>(const std::string&)> resolve = nullptr;
};

class BrokerRegistrar : public ServiceThread {
 public:
  // `ha` (optional: tests register without replication) outlives the registrar.
  BrokerRegistrar(RegistrarConfig config, const BrokerConfig& broker, TopicConfigManager& topics,
                  net::RemotingClient& client, ha::HaService* ha = nullptr);
  ~BrokerRegistrar() override;

  // Registers with every name server now (the entries resolved again). OK if at least one accepted; else
  // the last error.
  Status RegisterNow() FMQ_EXCLUDES(mu_);
  // Makes the background thread register with every name server soon (after a change of role).
  void RegisterSoon();
  // One check round (what the background thread does every check_period): registers with the name servers
  // that do not hold this broker's current registration; returns how many it registered with.
  int CheckNow() FMQ_EXCLUDES(mu_);
  // The name-server addresses of the last resolution.
  std::vector<std::string> name_server_addresses() const FMQ_EXCLUDES(mu_);
  // Each of them, true if it holds this broker's registration (it answered the last registration; an
  // unreachable one is found out at the next full round at the latest).
  std::map<std::string, bool> name_server_states() const FMQ_EXCLUDES(mu_);
  // Sends UNREGISTER_BROKER to every name server (best effort).
  void UnregisterAll();
  // The master's address as the name servers last reported it (slaves only; empty otherwise).
  std::string master_addr() const FMQ_EXCLUDES(mu_);
  bool config_name_servers_empty() const { return config_.name_servers.empty(); }

 protected:
  void Run() override;

 private:
  // Every configured entry resolved; an entry that does not resolve keeps its last addresses (or itself, so
  // the registration reports why).
  std::vector<std::string> Resolve() FMQ_EXCLUDES(mu_);
  Status RegisterWith(const std::vector<std::string>& targets) FMQ_EXCLUDES(mu_);

  const RegistrarConfig config_;
  const BrokerConfig& broker_;
  TopicConfigManager& topics_;
  net::RemotingClient& client_;
  ha::HaService* const ha_;
  std::atomic<bool> register_soon_{false};
  mutable Mutex mu_;
  std::string master_addr_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> resolved_ FMQ_GUARDED_BY(mu_);  // entry -> addresses
  std::vector<std::string> addresses_ FMQ_GUARDED_BY(mu_);                        // of the last Resolve()
  // Name servers holding this broker's registration, with the data version it carried.
  std::map<std::string, model::DataVersion> registered_ FMQ_GUARDED_BY(mu_);
  std::set<std::string> refused_ FMQ_GUARDED_BY(mu_);  // refused at the last try (a stale epoch)
  std::set<std::string> failing_ FMQ_GUARDED_BY(mu_);  // unreachable at the last try (warned once)
};

}  // namespace fmq::server
