#pragma once

// The body of FERRYMQ_HA_STATUS (9100) and of FERRYMQ_HA_FENCE's answer: a broker's replication state as
// `ferryctl ha status` and the operator read it (docs/replication.md). JSON, written by the broker's ha
// module, read by the client library.
//
// Thread-safety: values and pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/status.h"

namespace fmq::model {

struct HaEpochBody {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  friend bool operator==(const HaEpochBody&, const HaEpochBody&) = default;
};

struct HaSlaveBody {
  std::string address;
  int64_t broker_id = -1;  // -1: a RocketMQ slave (it does not say)
  bool ferry = false;
  int64_t ack_offset = 0;
  int64_t lag_bytes = 0;
  int64_t caught_up_ms_ago = -1;  // -1: never
  bool in_sync = false;
};

struct HaStatusBody {
  std::string cluster;
  std::string broker_name;
  std::string address;     // remoting address
  std::string ha_address;  // replication address
  std::string role;        // SYNC_MASTER | ASYNC_MASTER | SLAVE
  int64_t broker_id = 0;
  int32_t epoch = 0;           // the epoch it is master of, or the epoch of the master it follows
  int32_t promised_epoch = 0;  // it follows no master below this
  bool fenced = false;         // a master that learned of a newer epoch: refuses writes
  bool writable = false;       // takes sends now
  std::vector<HaEpochBody> epochs;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int64_t complete_end = 0;    // end of the last whole record
  int64_t confirm_offset = 0;  // INT64_MAX: unbounded
  int64_t dispatched_offset = 0;
  int64_t flushed_offset = 0;
  // Master.
  int32_t min_in_sync_replicas = 0;
  std::string when_below_min_in_sync;
  int32_t in_sync_copies = 0;
  bool below_min_in_sync = false;
  bool degraded = false;
  std::vector<HaSlaveBody> slaves;
  // Slave.
  std::string master_address;
  std::string master_ha_address;
  std::string copy_state;  // connecting | handshake | copying | refused | diverged | stopped
  std::string copy_error;
  bool copy_ferry = false;
  int32_t master_epoch = 0;
  int64_t master_max_offset = 0;
  int64_t master_confirm_offset = -1;
};

std::string EncodeHaStatus(const HaStatusBody& body);
Result<HaStatusBody> DecodeHaStatus(std::string_view json);

}  // namespace fmq::model
