#pragma once

// RouteInfoManager: the name server's tables (RocketMQ's RouteInfoManager; protocol reference 2.10):
//   topic -> broker name -> QueueData          (from master registrations)
//   broker name -> BrokerData (cluster, id -> address)
//   cluster -> broker names
//   broker address -> live info (last registration time, data version, HA address)
// Brokers register every 30 s; one silent for `broker_expiry` is removed with its queue data.
// FerryMQ masters register with their epoch: the highest epoch per broker name is kept and a master
// registration below it is refused, which is how a replaced master learns it was replaced.
//
// Created by NameServer. Thread-safety: every method is safe to call concurrently (one mutex; every operation
// is short and in memory).

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/model/route.h"

namespace fmq::namesrv {

struct RegisterBrokerRequest {
  std::string cluster_name;
  std::string broker_addr;
  std::string broker_name;
  int64_t broker_id = 0;
  std::string ha_server_addr;
  model::RegisterBrokerBody body;
  // FerryMQ brokers: the master epoch (masters) or the epoch they follow (slaves). RocketMQ brokers: none.
  std::optional<int32_t> epoch;
};

struct RegisterBrokerResult {
  std::string ha_server_addr;  // for a slave: its master's HA address; refused: the current master's
  std::string master_addr;     // for a slave: its master's broker address; refused: the current master
  // A master registration below the highest epoch known for its broker name (or a second master of the
  // same epoch while the first is alive): nothing was recorded. The broker stops taking writes and may
  // follow the current master under `free_broker_id`.
  bool refused = false;
  std::string refusal;
  int32_t master_epoch = 0;
  int64_t free_broker_id = 0;
};

class RouteInfoManager {
 public:
  explicit RouteInfoManager(const Clock& clock,
                            std::chrono::milliseconds broker_expiry = std::chrono::seconds(120));

  RegisterBrokerResult RegisterBroker(const RegisterBrokerRequest& req) FMQ_EXCLUDES(mu_);
  void UnregisterBroker(const std::string& cluster, const std::string& addr, const std::string& name,
                        int64_t id) FMQ_EXCLUDES(mu_);
  // Removes one broker (its registration connection closed).
  void RemoveBroker(const std::string& addr) FMQ_EXCLUDES(mu_);
  // Removes brokers silent for longer than the expiry; returns their addresses.
  std::vector<std::string> ScanNotActiveBrokers() FMQ_EXCLUDES(mu_);

  // The route of `topic`, or nullopt when no live broker serves it.
  std::optional<model::TopicRouteData> PickupTopicRouteData(const std::string& topic) const FMQ_EXCLUDES(mu_);
  model::ClusterInfo GetAllClusterInfo() const FMQ_EXCLUDES(mu_);
  std::set<std::string> GetAllTopicList() const FMQ_EXCLUDES(mu_);
  std::set<std::string> GetTopicsByCluster(const std::string& cluster) const FMQ_EXCLUDES(mu_);
  // Removes the topic's queue data (of brokers of `cluster` only, when given).
  void DeleteTopic(const std::string& topic, const std::string& cluster = "") FMQ_EXCLUDES(mu_);
  // WIPE_WRITE_PERM_OF_BROKER / ADD_WRITE_PERM_OF_BROKER: clears the write permission of a broker's queues
  // on every topic (clients stop routing sends to it; a re-registration with unchanged data keeps it
  // cleared, as in Apache's name server), or restores it; returns how many topics the broker serves. Adding
  // restores the permission the master last registered for the topic (Apache sets read+write on every
  // topic, which makes a read-only topic writable); read+write where none was registered.
  int WipeWritePerm(const std::string& broker_name) FMQ_EXCLUDES(mu_);
  int AddWritePerm(const std::string& broker_name) FMQ_EXCLUDES(mu_);
  // QUERY_DATA_VERSION: whether the broker's data version differs from the stored one (refreshes liveness).
  bool IsBrokerTopicConfigChanged(const std::string& addr, const model::DataVersion& version)
      FMQ_EXCLUDES(mu_);

 private:
  struct LiveInfo {
    int64_t last_update_ms = 0;
    model::DataVersion data_version;
    std::string ha_server_addr;
  };
  void RemoveBrokerAddr(const std::string& addr) FMQ_REQUIRES(mu_);
  // Decides a master registration that carries an epoch; fills `result` when it is refused.
  bool RefusedByEpoch(const RegisterBrokerRequest& req, RegisterBrokerResult* result) FMQ_REQUIRES(mu_);

  struct MasterEpoch {
    int32_t epoch = 0;
    std::string master_addr;
  };

  const Clock& clock_;
  const std::chrono::milliseconds expiry_;
  mutable Mutex mu_;
  std::map<std::string, std::map<std::string, model::QueueData>> topic_queue_table_ FMQ_GUARDED_BY(mu_);
  // Topic -> broker name -> the permission its master last registered (what AddWritePerm restores).
  std::map<std::string, std::map<std::string, int32_t>> registered_perm_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, model::BrokerData> broker_addr_table_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> cluster_addr_table_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, LiveInfo> broker_live_table_ FMQ_GUARDED_BY(mu_);
  // Broker name -> the highest master epoch registered (kept when the broker expires: a replaced master that
  // comes back later is still refused).
  std::map<std::string, MasterEpoch> master_epochs_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::namesrv
