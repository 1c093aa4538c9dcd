#pragma once

// ReplicationConfig: the broker's master/slave settings, loaded from broker.conf with RocketMQ's keys where
// RocketMQ has one (brokerRole, haListenPort, haMasterAddress, haTransferBatchSize, haSendHeartbeatInterval,
// haHousekeepingInterval, haSlaveFallbehindMax, slaveReadEnable, ...) and FerryMQ's own for what classic
// RocketMQ lacks (minInSyncReplicas, whenBelowMinInSync, haMaxTimeSlaveNotCatchup from RocketMQ 5). Each
// field says what it trades off; docs/replication.md has the whole picture.

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/base/status.h"

namespace fmq::ha {

enum class BrokerRole {
  kAsyncMaster,  // ASYNC_MASTER: a send is acknowledged once stored here; slaves copy in the background
  kSyncMaster,   // SYNC_MASTER: acknowledged once the in-sync slaves hold it too
  kSlave,        // SLAVE: copies a master, serves reads, refuses writes
};
std::string_view BrokerRoleName(BrokerRole role);
Result<BrokerRole> ParseBrokerRole(std::string_view text);

enum class BelowMinInSyncPolicy {
  kReject,   // sends are refused (SLAVE_NOT_AVAILABLE) until enough slaves are back in sync: no loss
  kDegrade,  // sends are acknowledged by whoever is in sync (asynchronously if nobody): available, and a
             // failure of this master may then lose what only it held
};
std::string_view PolicyName(BelowMinInSyncPolicy policy);

struct ReplicationConfig {
  BrokerRole role = BrokerRole::kAsyncMaster;  // brokerRole
  // haListenPort: the replication port. 0: listenPort + 1 (RocketMQ's default).
  int ha_listen_port = 0;
  // haMasterAddress: "host:port" of the master's replication port, for a slave. Empty: learned from the name
  // servers' answer to this broker's registration (the master's haServerAddr).
  std::string ha_master_address;
  // minInSyncReplicas (SYNC_MASTER): copies, the master's included, that must hold a message before it is
  // acknowledged. 2 means "on at least one slave too": any single broker can then be lost without losing an
  // acknowledged message. Higher survives more failures and stalls sooner when slaves are down.
  int min_in_sync_replicas = 2;
  // whenBelowMinInSync: what a SYNC_MASTER does with fewer in-sync copies than minInSyncReplicas.
  BelowMinInSyncPolicy when_below_min_in_sync = BelowMinInSyncPolicy::kReject;
  // haMaxTimeSlaveNotCatchup (ms): a slave that has not reached the master's log end of this long ago leaves
  // the in-sync set, so one slow or frozen slave stalls acknowledgements for at most this long.
  int64_t ha_max_time_slave_not_catchup_ms = 15'000;
  // haSlaveFallbehindMax (bytes): a slave further behind than this is not in sync (RocketMQ 4's bound).
  int64_t ha_slave_fallbehind_max = 256LL * 1024 * 1024;
  // slaveTimeout (ms): how long a SYNC_MASTER send waits for its in-sync slaves before FLUSH_SLAVE_TIMEOUT.
  int64_t sync_wait_timeout_ms = 3'000;
  // haTransferBatchSize: largest frame sent to a RocketMQ (classic) slave; FerryMQ slaves take frames of up
  // to haFerryTransferBatchSize (bigger frames: fewer syscalls per replicated byte).
  int ha_transfer_batch_size = 32 * 1024;
  int ha_ferry_transfer_batch_size = 1024 * 1024;
  // haSendHeartbeatInterval (ms): an idle master sends an empty frame this often; a slave reports this often
  // to a RocketMQ master (to a FerryMQ master every haSlaveReportInterval, default 1 s, so in-sync tracking
  // and the confirm offset stay fresh).
  int64_t ha_send_heartbeat_interval_ms = 5'000;
  int64_t ha_slave_report_interval_ms = 1'000;
  // haHousekeepingInterval (ms): a replication connection silent this long is closed.
  int64_t ha_housekeeping_interval_ms = 20'000;
  // slaveReadEnable: a master suggests that a consumer read from a slave when the data it pulls is older than
  // accessMessageInMemoryMaxRatio % of the memory (whichBrokerWhenConsumeSlowly names the slave), as
  // RocketMQ.
  bool slave_read_enable = false;
  int64_t which_broker_when_consume_slowly = 1;
  int access_message_in_memory_max_ratio = 40;
  // haSyncMetadataInterval (ms): how often a slave copies topics, subscription groups and consumer offsets
  // from its master (RocketMQ: every 10 s). Shorter loses fewer offset commits at a failover.
  int64_t slave_sync_metadata_interval_ms = 3'000;

  bool is_slave() const { return role == BrokerRole::kSlave; }
  Status Validate() const;
};

// Applies one broker.conf key. NotFound when the key is not a replication key.
Status ApplyReplicationProperty(const std::string& key, const std::string& value, ReplicationConfig* config);

}  // namespace fmq::ha
