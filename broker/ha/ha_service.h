#pragma once

// HaService: a broker's replication, whatever its role (docs/replication.md). It owns
//   * the role (SYNC_MASTER, ASYNC_MASTER, SLAVE), this broker's id in its group, the epoch it serves or
//     follows and the epoch it promised to follow nothing below, persisted in `<store root>/ha.json` (the
//     role in broker.conf is only the role of the very first start: promotions and demotions persist here);
//   * the replication port (HaServer): a master streams its commit log to every slave that connects;
//   * the copy from the master (HaClient) while a slave;
//   * the master's view of its slaves (ReplicaTracker): in-sync set, confirm offset, and the sends waiting
//     for their replicas (SYNC_MASTER).
//
// Admin operations (FERRYMQ_HA_* request codes, `ferryctl ha`):
//   Fence(E)        promise to follow nothing below epoch E (E above every promise so far): a slave stops
//                   copying, a master stops taking writes. Returns the state (the log end is then final).
//   Promote(E)      a slave (or a fenced master) becomes master of epoch E (E above every epoch it knows): it
//                   stops copying, cuts a partly copied record, continues every queue after the last record
//                   it holds, records (E, its log end) in its epoch history, and takes writes.
//   BecomeSlave(M)  a master (demotion) or slave (re-point) follows master M of epoch E: a master stops
//   taking
//                   writes at once; the copy cuts whatever this log holds beyond the consistent point.
// A master that learns of a higher epoch (a slave's hello, a name server refusing its registration) stops
// taking writes at once; told by a name server where the new master is, it demotes itself.
//
// Created by the broker's composition root after the store opened; Start() before the broker takes requests,
// Stop() after it stopped taking them. Thread-safety: every public method may be called from any thread.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/ha/ha_client.h"
#include "broker/ha/ha_server.h"
#include "broker/ha/replica_tracker.h"
#include "broker/ha/replication_config.h"
#include "broker/io/file_system.h"
#include "broker/model/ha_body.h"
#include "broker/net/io_thread_pool.h"
#include "broker/net/tls.h"
#include "broker/store/message_store.h"

namespace fmq::ha {

struct HaIdentity {
  std::string cluster;
  std::string broker_name;
  int64_t broker_id = 0;   // brokerId from broker.conf (the id of the first start)
  std::string address;     // this broker's remoting address as announced
  std::string ha_address;  // this broker's replication address as announced
  std::string ha_listen_host = "0.0.0.0";
  int ha_listen_port = 10912;  // 0: any free port (tests)
};

// Why a send may not be taken now.
enum class WriteGate {
  kOpen,
  kSlave,         // SERVICE_NOT_AVAILABLE: slaves take no writes
  kFenced,        // SERVICE_NOT_AVAILABLE: a newer epoch exists; this master is being replaced
  kTooFewInSync,  // SLAVE_NOT_AVAILABLE: SYNC_MASTER below minInSyncReplicas with the reject policy
};

// How a SYNC_MASTER send's wait for its replicas ended.
enum class ReplicaWait {
  kReplicated,         // every in-sync slave holds it (and at least minInSyncReplicas copies exist)
  kTimeout,            // FLUSH_SLAVE_TIMEOUT: stored here, not confirmed in time
  kSlaveNotAvailable,  // SLAVE_NOT_AVAILABLE: too few slaves in sync (reject policy)
  kNotMaster,          // the broker stopped being a writable master while the send waited
};

// The persisted part of the role (ha.json).
struct HaState {
  BrokerRole role = BrokerRole::kAsyncMaster;
  int64_t broker_id = 0;
  int32_t promised_epoch = 0;
  std::string master_address;     // slaves: the master's remoting address (empty: from the name servers)
  std::string master_ha_address;  // slaves: its replication address (empty: from the name servers)
};

// Reads ha.json when it exists, else the role of broker.conf. The composition root calls it before the store
// opens: slaves and SYNC_MASTERs open it bounded by the confirm offset.
Result<HaState> LoadHaState(io::FileSystem& fs, const std::string& path, const ReplicationConfig& config,
                            int64_t configured_broker_id);
// Whether consumers of a broker in `role` read only what replication confirmed.
inline bool ReadsBoundedByConfirm(BrokerRole role) { return role != BrokerRole::kAsyncMaster; }

class HaService : private HaServer::Delegate, private HaClient::Delegate {
 public:
  // Called (on the caller's thread of the operation, never under HaService's locks) after the role or broker
  // id changed, so the broker re-registers with its name servers at once.
  using RoleListener = std::function<void()>;

  HaService(ReplicationConfig config, HaIdentity identity, HaState state, store::MessageStore& store,
            io::FileSystem& fs, std::string state_path, const Clock& clock);
  ~HaService() override;
  HaService(const HaService&) = delete;
  HaService& operator=(const HaService&) = delete;

  // Binds the replication port (an error says which port and what to do), records epoch 1 for a master
  // whose log has no epoch yet, and starts serving slaves or copying from the master.
  // TLS of the replication port (as the remoting ports: tls.server.mode and its files) and of a slave's
  // connection to its master (tls.enable). REQUIRES: before Start(). Null sources: plaintext.
  void SetTls(net::TlsMode server_mode, std::shared_ptr<net::TlsContextSource> server,
              std::shared_ptr<net::TlsContextSource> client) {
    tls_mode_ = server_mode;
    tls_server_ = std::move(server);
    tls_client_ = std::move(client);
  }

  Status Start();
  void Stop();
  void SetRoleListener(RoleListener listener) { role_listener_ = std::move(listener); }

  BrokerRole role() const FMQ_EXCLUDES(mu_);
  int64_t broker_id() const FMQ_EXCLUDES(mu_);
  bool is_master() const { return role() != BrokerRole::kSlave; }
  // The epoch this broker is master of, or the epoch of the master it follows (0 when unknown).
  int32_t epoch() const FMQ_EXCLUDES(mu_);
  int ha_port() const { return server_ ? server_->port() : 0; }
  // A slave that copies from its master now (connected, past the handshake).
  bool copying() const FMQ_EXCLUDES(mu_);
  // A slave's master (remoting address), for metadata copies; empty when unknown or a master.
  std::string master_address() const FMQ_EXCLUDES(mu_);

  // ---- the send path
  WriteGate CheckWrite(std::string* why) const FMQ_EXCLUDES(mu_);
  bool WaitsForReplicas() const { return role() == BrokerRole::kSyncMaster; }
  // Calls `done` once the confirm offset passes `end_offset`, or with the reason it will not. `done` runs on
  // a replication or housekeeping thread, or on the caller's when the answer is immediate.
  void WaitReplicated(int64_t end_offset, std::function<void(ReplicaWait)> done) FMQ_EXCLUDES(waiters_mu_);
  // New commit-log bytes: wake the writers of idle slave connections.
  void NotifyAppended();

  // ---- name servers
  // A slave without haMasterAddress learns its master from the name servers' answer to its registration.
  void OnMasterLearned(const std::string& master_address, const std::string& master_ha_address)
      FMQ_EXCLUDES(mu_);
  // A name server refused this broker's master registration: epoch `ns_epoch` has another master. Stops
  // writes at once; when the new master is named, follows it as slave `free_broker_id`.
  void OnRegistrationRefused(int32_t ns_epoch, const std::string& master_address,
                             const std::string& master_ha_address, int64_t free_broker_id) FMQ_EXCLUDES(mu_);

  // ---- admin
  model::HaStatusBody StatusBody() const FMQ_EXCLUDES(mu_);
  Result<model::HaStatusBody> Fence(int32_t epoch) FMQ_EXCLUDES(mu_);
  Status Promote(int32_t epoch, std::optional<BrokerRole> role) FMQ_EXCLUDES(mu_);
  Status BecomeSlave(const std::string& master_address, const std::string& master_ha_address, int32_t epoch,
                     int64_t broker_id) FMQ_EXCLUDES(mu_);

 private:
  class Housekeeping;
  struct Waiter {
    int64_t deadline_ms;
    std::function<void(ReplicaWait)> done;
  };

  // HaServer::Delegate (HA I/O thread)
  MasterHello OnHello(const SlaveHello& hello, const std::string& peer) override;
  bool ServesSlaves() const override { return is_master(); }
  void OnSlaveConnected(uint64_t id, const std::string& address, int64_t broker_id, bool ferry) override;
  void OnSlaveReport(uint64_t id, int64_t ack) override;
  void OnSlaveClosed(uint64_t id) override;
  int64_t ConfirmOffset() const override;
  // HaClient::Delegate (HA I/O thread)
  int32_t KnownEpoch() const override;
  Status OnMasterAccepted(const MasterHello& hello) override;

  Status PersistLocked() FMQ_REQUIRES(mu_);
  // Stops the copy from the master, if any, and waits until it appended its last byte.
  void StopCopy() FMQ_REQUIRES(op_mu_) FMQ_EXCLUDES(mu_);
  // Makes this broker the master of its log's last epoch: tracker, confirm bound.
  void BecomeMasterLocked(BrokerRole role) FMQ_REQUIRES(mu_);
  void StartCopyLocked() FMQ_REQUIRES(mu_);
  // Why the role takes no writes (a slave, a fenced master); empty when it does.
  std::string RoleRefusesWritesLocked() const FMQ_REQUIRES(mu_);
  // Seals the store's appends while the role refuses writes, unseals them otherwise.
  void SealAppendsByRoleLocked() FMQ_REQUIRES(mu_);
  // Raises the promise to `epoch` (persisted); a master then refuses writes.
  void RaisePromiseLocked(int32_t epoch) FMQ_REQUIRES(mu_);
  // Re-evaluates the tracker, publishes the confirm offset and answers the waiters it decides.
  void Tick();
  void FailAllWaiters(ReplicaWait why) FMQ_EXCLUDES(waiters_mu_);
  int64_t DurableEnd() const;
  void NotifyRoleChanged();

  const ReplicationConfig config_;
  const HaIdentity identity_;
  net::TlsMode tls_mode_ = net::TlsMode::kDisabled;
  std::shared_ptr<net::TlsContextSource> tls_server_;
  std::shared_ptr<net::TlsContextSource> tls_client_;
  store::MessageStore& store_;
  io::FileSystem& fs_;
  const std::string state_path_;
  const Clock& clock_;
  RoleListener role_listener_;

  net::IoThreadPool io_{1, "fmq-ha"};
  std::unique_ptr<HaServer> server_;
  std::unique_ptr<Housekeeping> housekeeping_;

  // Serialises role changes (admin operations, name-server answers). Held while the copy from the master is
  // stopped, which waits for the HA I/O thread; that thread takes only mu_, never op_mu_.
  Mutex op_mu_;
  mutable Mutex mu_;  // taken after op_mu_ when both are held
  HaState state_ FMQ_GUARDED_BY(mu_);
  bool fenced_ FMQ_GUARDED_BY(mu_) = false;  // a master that knows of a newer epoch
  // The replication settings a promotion adopts (the master's, learned from its hello).
  std::optional<MasterHello> learned_ FMQ_GUARDED_BY(mu_);
  // Master only. Shared: the I/O thread reads it without taking mu_.
  std::shared_ptr<ReplicaTracker> tracker_ FMQ_GUARDED_BY(mu_);
  // Slave only.
  std::unique_ptr<HaClient> client_ FMQ_GUARDED_BY(mu_);
  std::atomic<int64_t> confirm_{INT64_MAX};
  bool started_ = false;

  mutable Mutex waiters_mu_;
  std::multimap<int64_t, Waiter> waiters_ FMQ_GUARDED_BY(waiters_mu_);
  int64_t last_expiry_scan_ms_ FMQ_GUARDED_BY(waiters_mu_) = 0;
};

}  // namespace fmq::ha
