#pragma once

// BrokerRegistrar: keeps this broker registered with every name server (RocketMQ's BrokerOuterAPI
// registration). REGISTER_BROKER carries the topic configs and their data version; it is sent at Start(),
// every `period` (registerNameServerPeriod, 30 s, clamped to 10..60 s) and on RegisterNow() after a topic
// changes (and on Wakeup(), after the replication role changed). UNREGISTER_BROKER is sent at Stop(). A slave
// learns its master's address and HA address from the answers. The broker id, the epoch (ferrymqEpoch) and
// the HA address come from the replication service at each registration; a name server that refuses a
// master registration for a stale epoch is reported to it (it stops taking writes and follows the new
// master the answer names).
//
// Created by the broker's composition root; the client, topics and config outlive it.
// Thread-safety: RegisterNow() and master_addr() from any thread.

#include <chrono>
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
  std::chrono::milliseconds timeout{6'000};  // registerBrokerTimeoutMills
};

class BrokerRegistrar : public ServiceThread {
 public:
  // `ha` (optional: tests register without replication) outlives the registrar.
  BrokerRegistrar(RegistrarConfig config, const BrokerConfig& broker, TopicConfigManager& topics,
                  net::RemotingClient& client, ha::HaService* ha = nullptr);
  ~BrokerRegistrar() override;

  // Registers with every name server now. OK if at least one accepted; else the last error.
  Status RegisterNow() FMQ_EXCLUDES(mu_);
  // Sends UNREGISTER_BROKER to every name server (best effort).
  void UnregisterAll();
  // The master's address as the name servers last reported it (slaves only; empty otherwise).
  std::string master_addr() const FMQ_EXCLUDES(mu_);
  bool config_name_servers_empty() const { return config_.name_servers.empty(); }

 protected:
  void Run() override;

 private:
  const RegistrarConfig config_;
  const BrokerConfig& broker_;
  TopicConfigManager& topics_;
  net::RemotingClient& client_;
  ha::HaService* const ha_;
  mutable Mutex mu_;
  std::string master_addr_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::server
