#pragma once

// ReplicaTracker: the master's view of its slaves: what each acknowledged, which are in sync, and the confirm
// offset, the point below which every acknowledged message is held by enough copies (docs/replication.md).
//
//   in sync:  connected, within haSlaveFallbehindMax bytes of the log end, and holding everything the master
//             had haMaxTimeSlaveNotCatchup ago (joining takes the tighter of that and 1 s). A slow or frozen
//             slave therefore stalls acknowledgements for a bounded time, then is dropped.
//   confirm:  SYNC_MASTER with at least minInSyncReplicas copies in sync (the master counts): the lowest
//             offset every in-sync slave acknowledged (and the master holds durably). Fewer copies: frozen
//             (reject) or the same rule over whoever is in sync (degrade; the master alone when nobody is).
//             ASYNC_MASTER: unbounded. The confirm offset never moves backwards.
//
// A send with WAIT=true on a SYNC_MASTER is acknowledged once the confirm offset passes its end, so an
// acknowledged message is held by the master and every slave that was in sync, at least minInSyncReplicas
// copies. Consumers read only below the confirm offset (the store bounds dispatch by it).
//
// Pure (time comes in as arguments) and thread-safe (one mutex); owned by HaService.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/ha/replication_config.h"

namespace fmq::ha {

struct ReplicaInfo {
  uint64_t id = 0;           // connection id
  std::string address;       // "ip:port" of the slave (its remoting address when it said, else the peer)
  int64_t broker_id = -1;    // -1: a RocketMQ slave, which does not say
  bool ferry = false;        // speaks the FerryMQ extension
  int64_t ack = 0;           // highest offset it reported holding
  int64_t lag_bytes = 0;     // master's log end - ack
  int64_t caught_up_ms = 0;  // when it last held everything the master had (0: never)
  int64_t last_report_ms = 0;
  bool in_sync = false;
};

struct TrackerSnapshot {
  int64_t confirm_offset = 0;  // INT64_MAX when unbounded (ASYNC_MASTER)
  int in_sync_copies = 1;      // the master plus its in-sync slaves
  bool below_min = false;      // SYNC_MASTER with fewer in-sync copies than minInSyncReplicas
  bool degraded = false;       // below_min under the degrade policy
  std::vector<ReplicaInfo> replicas;
};

class ReplicaTracker {
 public:
  // `sync`: SYNC_MASTER. `initial_confirm`: what consumers could already read.
  ReplicaTracker(const ReplicationConfig& config, bool sync, int64_t initial_confirm);

  void Connected(uint64_t id, std::string address, int64_t broker_id, bool ferry, int64_t now_ms)
      FMQ_EXCLUDES(mu_);
  void Disconnected(uint64_t id) FMQ_EXCLUDES(mu_);
  // A report from slave `id`. `master_end` is the master's log end now.
  void Reported(uint64_t id, int64_t ack, int64_t master_end, int64_t now_ms) FMQ_EXCLUDES(mu_);
  // Samples the master's log end (call every few tens of ms) and re-evaluates the in-sync set and the
  // confirm offset. `durable_end`: what the master itself holds durably (its flushed offset for
  // SYNC_FLUSH, else its log end). Returns the confirm offset.
  int64_t Update(int64_t master_end, int64_t durable_end, int64_t now_ms) FMQ_EXCLUDES(mu_);

  int64_t confirm_offset() const FMQ_EXCLUDES(mu_);
  // Whether a SYNC_MASTER may take a new write: enough copies in sync, or the degrade policy.
  bool AcceptsWrites() const FMQ_EXCLUDES(mu_);
  TrackerSnapshot Snapshot() const FMQ_EXCLUDES(mu_);

 private:
  struct Sample {
    int64_t ms;
    int64_t end;
  };
  void Evaluate(int64_t master_end, int64_t durable_end, int64_t now_ms) FMQ_REQUIRES(mu_);
  int64_t CaughtUpTime(int64_t ack, int64_t master_end, int64_t now_ms) const FMQ_REQUIRES(mu_);

  const ReplicationConfig config_;
  const bool sync_;
  mutable Mutex mu_;
  std::map<uint64_t, ReplicaInfo> replicas_ FMQ_GUARDED_BY(mu_);
  std::deque<Sample> samples_ FMQ_GUARDED_BY(mu_);  // the master's log end over the last window
  int64_t confirm_ FMQ_GUARDED_BY(mu_);
  int64_t last_end_ FMQ_GUARDED_BY(mu_) = 0;
  int64_t last_durable_ FMQ_GUARDED_BY(mu_) = 0;
  int in_sync_copies_ FMQ_GUARDED_BY(mu_) = 1;
};

}  // namespace fmq::ha
