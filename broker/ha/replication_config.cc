#include "broker/ha/replication_config.h"

#include <functional>
#include <map>

#include "broker/base/properties.h"

namespace fmq::ha {

std::string_view BrokerRoleName(BrokerRole role) {
  switch (role) {
    case BrokerRole::kAsyncMaster:
      return "ASYNC_MASTER";
    case BrokerRole::kSyncMaster:
      return "SYNC_MASTER";
    case BrokerRole::kSlave:
      return "SLAVE";
  }
  return "UNKNOWN";
}

Result<BrokerRole> ParseBrokerRole(std::string_view text) {
  if (text == "ASYNC_MASTER") return BrokerRole::kAsyncMaster;
  if (text == "SYNC_MASTER") return BrokerRole::kSyncMaster;
  if (text == "SLAVE") return BrokerRole::kSlave;
  return Status::InvalidArgument("brokerRole must be ASYNC_MASTER, SYNC_MASTER or SLAVE, not '" +
                                 std::string(text) + "'");
}

std::string_view PolicyName(BelowMinInSyncPolicy policy) {
  return policy == BelowMinInSyncPolicy::kReject ? "reject" : "degrade";
}

Status ReplicationConfig::Validate() const {
  if (min_in_sync_replicas < 1) return Status::InvalidArgument("minInSyncReplicas must be at least 1");
  if (ha_transfer_batch_size < 1024 || ha_ferry_transfer_batch_size < 1024) {
    return Status::InvalidArgument("haTransferBatchSize must be at least 1024 bytes");
  }
  if (ha_transfer_batch_size > 4 * 1024 * 1024 - 64) {
    // A RocketMQ slave reads frames into a 4 MiB buffer: a bigger frame would never fit.
    return Status::InvalidArgument(
        "haTransferBatchSize must stay below 4 MiB (RocketMQ slaves' read buffer)");
  }
  return Status::Ok();
}

Status ApplyReplicationProperty(const std::string& key, const std::string& value, ReplicationConfig* c) {
  using Setter = std::function<Status()>;
  auto num = [&](auto* f, int64_t lo, int64_t hi) -> Setter {
    return [f, lo, hi, &key, &value] { return ParsePropertyNumberInRange(key, value, lo, hi, f); };
  };
  const std::map<std::string, Setter> setters = {
      {"brokerRole",
       [&]() -> Status {
         FMQ_ASSIGN_OR_RETURN(c->role, ParseBrokerRole(value));
         return Status::Ok();
       }},
      {"haListenPort", num(&c->ha_listen_port, 0, 65535)},
      {"haMasterAddress",
       [&]() -> Status {
         c->ha_master_address = value;
         return Status::Ok();
       }},
      {"minInSyncReplicas", num(&c->min_in_sync_replicas, 1, 16)},
      {"whenBelowMinInSync",
       [&]() -> Status {
         if (value == "reject") {
           c->when_below_min_in_sync = BelowMinInSyncPolicy::kReject;
         } else if (value == "degrade") {
           c->when_below_min_in_sync = BelowMinInSyncPolicy::kDegrade;
         } else {
           return Status::InvalidArgument("whenBelowMinInSync must be reject or degrade, not '" + value +
                                          "'");
         }
         return Status::Ok();
       }},
      {"haMaxTimeSlaveNotCatchup", num(&c->ha_max_time_slave_not_catchup_ms, 100, 3'600'000)},
      {"haSlaveFallbehindMax", num(&c->ha_slave_fallbehind_max, 1024, INT64_MAX)},
      {"slaveTimeout", num(&c->sync_wait_timeout_ms, 10, 600'000)},
      {"haTransferBatchSize", num(&c->ha_transfer_batch_size, 1024, INT32_MAX)},
      {"haFerryTransferBatchSize", num(&c->ha_ferry_transfer_batch_size, 1024, 64 * 1024 * 1024)},
      {"haSendHeartbeatInterval", num(&c->ha_send_heartbeat_interval_ms, 100, 600'000)},
      {"haSlaveReportInterval", num(&c->ha_slave_report_interval_ms, 10, 600'000)},
      {"haHousekeepingInterval", num(&c->ha_housekeeping_interval_ms, 1000, 3'600'000)},
      {"slaveReadEnable", [&]() { return ParsePropertyBool(key, value, &c->slave_read_enable); }},
      {"whichBrokerWhenConsumeSlowly", num(&c->which_broker_when_consume_slowly, 1, 1024)},
      {"accessMessageInMemoryMaxRatio", num(&c->access_message_in_memory_max_ratio, 1, 100)},
      {"haSyncMetadataInterval", num(&c->slave_sync_metadata_interval_ms, 100, 600'000)},
  };
  auto it = setters.find(key);
  if (it == setters.end()) return Status::NotFound(key);
  return it->second();
}

}  // namespace fmq::ha
