#pragma once

// BrokerController: one broker, composed (RocketMQ's BrokerController). Owns the store, the topic, group and
// offset managers, the client registry, the request processors and their executors, the remoting server,
// long polling, registration with the name servers and the housekeeping loop (stats samples, offset flush,
// expired client channels).
//
// Created by `ferrymq broker` and `ferrymq standalone` (and tests). Start() opens everything in dependency
// order; Stop() is idempotent and stops in reverse order, persisting offsets and closing the store cleanly.
// Thread-safety: Start/Stop from the owner's thread.

#include <memory>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/server/broker_config.h"
#include "broker/store/store_config.h"

namespace fmq::server {

class BrokerController {
 public:
  BrokerController(BrokerConfig broker, store::MessageStoreConfig store, io::FileSystem& fs,
                   const Clock& clock);
  ~BrokerController();
  BrokerController(const BrokerController&) = delete;
  BrokerController& operator=(const BrokerController&) = delete;

  // Opens the store (recovering it when needed), loads topics, groups and offsets, listens, registers with
  // the name servers. A port in use or a store another process holds is an error saying what to do; a name
  // server that cannot be reached is only logged (registration retries every period).
  Status Start();
  void Stop();

  int port() const;
  // "ip:port" as clients are told to reach this broker.
  std::string address() const;
  // The replication port (haListenPort, or the port picked for it); 0 before Start().
  int ha_port() const;
  // The Prometheus /metrics port (metricsExporterType=PROM), 0 when off.
  int metrics_port() const;
  const BrokerConfig& config() const;

  struct Parts;  // defined in the .cc: everything the broker is made of

 private:
  std::unique_ptr<Parts> p_;
};

// The address to announce: `configured` (brokerIP1) if set, else the first non-loopback IPv4 address of this
// host, else 127.0.0.1.
std::string AnnouncedIp(const std::string& configured);

}  // namespace fmq::server
