#include "broker/ha/ha_service.h"

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"
#include "broker/model/internal/json_util.h"

namespace fmq::ha {

namespace {

constexpr int64_t kTickMs = 5;
constexpr int64_t kExpiryScanMs = 50;

bool IsMasterRole(BrokerRole r) { return r != BrokerRole::kSlave; }

Status ValidateRoleAndId(BrokerRole role, int64_t id) {
  if (role == BrokerRole::kSlave && id < 1) {
    return Status::InvalidArgument(
        "a SLAVE needs brokerId 1 or higher (0 is the master's id); set brokerId in "
        "broker.conf");
  }
  return Status::Ok();
}

}  // namespace

Result<HaState> LoadHaState(io::FileSystem& fs, const std::string& path, const ReplicationConfig& config,
                            int64_t configured_broker_id) {
  HaState st;
  st.role = config.role;
  // RocketMQ's BrokerStartup: a master's id is always 0.
  st.broker_id = IsMasterRole(config.role) ? 0 : configured_broker_id;
  st.master_ha_address = config.ha_master_address;
  if (!fs.Exists(path)) {
    FMQ_RETURN_IF_ERROR(ValidateRoleAndId(st.role, st.broker_id));
    return st;
  }
  FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs, path));
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("replication state " + path + " is unreadable (" + why +
                              "). It records this broker's role after promotions and demotions; delete it to "
                              "start with the role of broker.conf (brokerRole, brokerId)");
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt("not a JSON object");
  // Read without exceptions: a field of the wrong type is as unreadable as a missing one.
  const std::string role_text = model::internal::StrOf(j, "role");
  auto role = ParseBrokerRole(role_text);
  if (!role.ok()) return corrupt("role '" + role_text + "'");
  if (!j["brokerId"].is_number_integer() || !j["promisedEpoch"].is_number_integer())
    return corrupt("brokerId or promisedEpoch is not an integer");
  st.role = *role;
  st.broker_id = j["brokerId"].get<int64_t>();
  const int64_t promised = j["promisedEpoch"].get<int64_t>();
  if (promised < 0 || promised > INT32_MAX) return corrupt("promisedEpoch out of range");
  st.promised_epoch = static_cast<int32_t>(promised);
  st.master_address = model::internal::StrOf(j, "masterAddress");
  st.master_ha_address = model::internal::StrOf(j, "masterHaAddress");
  if (st.master_ha_address.empty()) st.master_ha_address = config.ha_master_address;
  if (Status s = ValidateRoleAndId(st.role, st.broker_id); !s.ok()) return corrupt(std::string(s.message()));
  if (st.role != config.role) {
    GetLogger("ha")->warn(
        "starting as {} (broker id {}) as {} records, not as {} from broker.conf: promotions and "
        "demotions persist there",
        BrokerRoleName(st.role), st.broker_id, path, BrokerRoleName(config.role));
  }
  return st;
}

class HaService::Housekeeping : public ServiceThread {
 public:
  explicit Housekeeping(HaService* ha) : ServiceThread("fmq-ha-tick"), ha_(ha) {}
  ~Housekeeping() override { Stop(); }

 protected:
  void Run() override {
    while (!IsStopped()) {
      WaitForRunning(std::chrono::milliseconds(kTickMs));
      if (!IsStopped()) ha_->Tick();
    }
  }

 private:
  HaService* ha_;  // owner
};

HaService::HaService(ReplicationConfig config, HaIdentity identity, HaState state, store::MessageStore& store,
                     io::FileSystem& fs, std::string state_path, const Clock& clock)
    : config_(std::move(config)),
      identity_(std::move(identity)),
      store_(store),
      fs_(fs),
      state_path_(std::move(state_path)),
      clock_(clock),
      state_(std::move(state)) {}

HaService::~HaService() { Stop(); }

Status HaService::Start() {
  FMQ_RETURN_IF_ERROR(config_.Validate());
  FMQ_RETURN_IF_ERROR(io_.Start());
  HaServerConfig sc;
  sc.host = identity_.ha_listen_host;
  sc.port = identity_.ha_listen_port;
  sc.classic_batch_bytes = config_.ha_transfer_batch_size;
  sc.ferry_batch_bytes = config_.ha_ferry_transfer_batch_size;
  sc.classic_heartbeat_ms = config_.ha_send_heartbeat_interval_ms;
  sc.ferry_heartbeat_ms = config_.ha_slave_report_interval_ms;
  sc.housekeeping_ms = config_.ha_housekeeping_interval_ms;
  sc.tls_mode = tls_mode_;
  sc.tls = tls_server_;
  server_ = std::make_unique<HaServer>(sc, io_, store_, static_cast<HaServer::Delegate&>(*this), clock_);
  FMQ_RETURN_IF_ERROR(server_->Bind());
  {
    MutexLock op(&op_mu_);
    MutexLock lock(&mu_);
    if (IsMasterRole(state_.role)) {
      if (store_.epochs().LastEpoch().value() == 0) {
        const int32_t first = std::max(1, state_.promised_epoch);
        FMQ_RETURN_IF_ERROR(store_.epochs().Append({Epoch(first), store_.CompleteEnd()}));
      }
      BecomeMasterLocked(state_.role);
      if (state_.promised_epoch > store_.epochs().LastEpoch().value()) {
        fenced_ = true;
        GetLogger("ha")->error(
            "starting fenced: this master promised to follow epoch {} above its own epoch {}; "
            "it takes no writes until it is promoted or made a slave",
            state_.promised_epoch, store_.epochs().LastEpoch().value());
      }
    } else {
      store_.SetConfirmOffset(std::min(store_.ConfirmOffset(), store_.CompleteEnd()));
      StartCopyLocked();
    }
    SealAppendsByRoleLocked();
    FMQ_RETURN_IF_ERROR(PersistLocked());
  }
  server_->Start();
  housekeeping_ = std::make_unique<Housekeeping>(this);
  FMQ_RETURN_IF_ERROR(housekeeping_->Start());
  started_ = true;
  GetLogger("ha")->info(
      "replication started role={} broker_id={} epoch={} ha_port={} min_in_sync={} policy={}",
      BrokerRoleName(role()), broker_id(), epoch(), server_->port(), config_.min_in_sync_replicas,
      PolicyName(config_.when_below_min_in_sync));
  return Status::Ok();
}

void HaService::Stop() {
  if (housekeeping_) housekeeping_->Stop();
  {
    MutexLock op(&op_mu_);
    StopCopy();
  }
  if (server_) server_->Stop();
  io_.Stop();
  FailAllWaiters(ReplicaWait::kNotMaster);
  started_ = false;
}

// ---------------------------------------------------------------------------------------------------------
// State

Status HaService::PersistLocked() {
  nlohmann::json j = {{"role", std::string(BrokerRoleName(state_.role))},
                      {"brokerId", state_.broker_id},
                      {"promisedEpoch", state_.promised_epoch},
                      {"masterAddress", state_.master_address},
                      {"masterHaAddress", state_.master_ha_address}};
  return io::WriteFileAtomically(fs_, state_path_, j.dump(2) + "\n");
}

BrokerRole HaService::role() const {
  MutexLock lock(&mu_);
  return state_.role;
}

int64_t HaService::broker_id() const {
  MutexLock lock(&mu_);
  return state_.broker_id;
}

int32_t HaService::epoch() const {
  MutexLock lock(&mu_);
  if (IsMasterRole(state_.role)) return store_.epochs().LastEpoch().value();
  return learned_ ? learned_->epoch : store_.epochs().LastEpoch().value();
}

std::string HaService::master_address() const {
  MutexLock lock(&mu_);
  if (IsMasterRole(state_.role)) return "";
  if (!state_.master_address.empty()) return state_.master_address;
  return learned_ ? learned_->master_address : "";
}

int64_t HaService::DurableEnd() const {
  return store_.config().flush_disk_type == store::FlushDiskType::kSync
             ? store_.TEST_commit_log().FlushedOffset().value()
             : store_.MaxPhyOffset().value();
}

void HaService::BecomeMasterLocked(BrokerRole role) {
  state_.role = role;
  state_.broker_id = 0;
  ReplicationConfig cfg = config_;
  cfg.role = role;
  if (learned_ && learned_->min_in_sync_replicas > 0) {
    // The group's settings, as the old master ran them.
    cfg.min_in_sync_replicas = learned_->min_in_sync_replicas;
    if (learned_->when_below_min_in_sync == "degrade")
      cfg.when_below_min_in_sync = BelowMinInSyncPolicy::kDegrade;
    if (learned_->when_below_min_in_sync == "reject")
      cfg.when_below_min_in_sync = BelowMinInSyncPolicy::kReject;
  }
  const bool sync = role == BrokerRole::kSyncMaster;
  const int64_t initial = std::min(store_.ConfirmOffset(), store_.CompleteEnd()).value();
  tracker_ = std::make_shared<ReplicaTracker>(cfg, sync, initial);
  confirm_ = sync ? initial : INT64_MAX;
  store_.SetConfirmOffset(PhysicalOffset(confirm_.load()));
  // Slaves connected under an earlier role reconnect and introduce themselves to the new tracker.
  if (server_) server_->CloseAll();
}

void HaService::StartCopyLocked() {
  if (state_.master_ha_address.empty()) {
    GetLogger("ha")->info(
        "slave waits for its master's replication address (haMasterAddress, or the name "
        "servers' answer to its registration)");
    return;
  }
  HaClientConfig cc;
  cc.cluster = identity_.cluster;
  cc.broker_name = identity_.broker_name;
  cc.broker_id = state_.broker_id;
  cc.self_address = identity_.address;
  cc.report_interval_ms = config_.ha_slave_report_interval_ms;
  cc.classic_report_interval_ms = config_.ha_send_heartbeat_interval_ms;
  cc.housekeeping_ms = config_.ha_housekeeping_interval_ms;
  cc.max_frame_bytes = std::max(config_.ha_ferry_transfer_batch_size, 4 * 1024 * 1024);
  cc.sync_flush = store_.config().flush_disk_type == store::FlushDiskType::kSync;
  cc.tls = tls_client_;
  client_ = std::make_unique<HaClient>(cc, io_, store_, static_cast<HaClient::Delegate&>(*this), clock_);
  client_->Start(state_.master_ha_address);
}

void HaService::StopCopy() {
  std::unique_ptr<HaClient> client;
  {
    MutexLock lock(&mu_);
    client = std::move(client_);
  }
  if (client) client->Stop();
}

void HaService::RaisePromiseLocked(int32_t epoch) {
  if (epoch <= state_.promised_epoch) return;
  state_.promised_epoch = epoch;
  if (IsMasterRole(state_.role) && epoch > store_.epochs().LastEpoch().value() && !fenced_) {
    fenced_ = true;
    SealAppendsByRoleLocked();
    GetLogger("ha")->error("fenced: epoch {} exists above this master's epoch {}; refusing writes", epoch,
                           store_.epochs().LastEpoch().value());
  }
  if (Status s = PersistLocked(); !s.ok())
    GetLogger("ha")->error("replication state not persisted: {}", s.ToString());
}

void HaService::NotifyRoleChanged() {
  if (role_listener_) role_listener_();
}

// ---------------------------------------------------------------------------------------------------------
// The send path

std::string HaService::RoleRefusesWritesLocked() const {
  if (!IsMasterRole(state_.role)) {
    return "the broker[" + identity_.broker_name + ", " + identity_.address +
           "] is a slave: it takes no writes (send to the master, brokerId 0)";
  }
  if (fenced_) {
    return "the broker[" + identity_.broker_name + ", " + identity_.address + "] was master of epoch " +
           std::to_string(store_.epochs().LastEpoch().value()) + " but epoch " +
           std::to_string(state_.promised_epoch) + " exists: it is being replaced and takes no writes";
  }
  return "";
}

void HaService::SealAppendsByRoleLocked() {
  // A send checks the gate above before it appends, without holding mu_: sealing the store makes the log end
  // a fence reports final, even for a send that passed the gate just before the fence.
  if (std::string why = RoleRefusesWritesLocked(); !why.empty()) {
    store_.SealAppends(std::move(why));
  } else {
    store_.UnsealAppends();
  }
}

bool HaService::copying() const {
  MutexLock lock(&mu_);
  return client_ != nullptr && client_->Snapshot().state == CopyState::kCopying;
}

WriteGate HaService::CheckWrite(std::string* why) const {
  MutexLock lock(&mu_);
  if (std::string refused = RoleRefusesWritesLocked(); !refused.empty()) {
    *why = std::move(refused);
    return IsMasterRole(state_.role) ? WriteGate::kFenced : WriteGate::kSlave;
  }
  if (tracker_ && !tracker_->AcceptsWrites()) {
    const auto snap = tracker_->Snapshot();
    *why = "only " + std::to_string(snap.in_sync_copies) +
           " of the required minInSyncReplicas=" + std::to_string(config_.min_in_sync_replicas) +
           " copies are in sync (whenBelowMinInSync=reject): the message was not stored";
    return WriteGate::kTooFewInSync;
  }
  return WriteGate::kOpen;
}

void HaService::WaitReplicated(int64_t end_offset, std::function<void(ReplicaWait)> done) {
  std::shared_ptr<ReplicaTracker> tracker;
  {
    MutexLock lock(&mu_);
    tracker = tracker_;
  }
  if (!tracker) return done(ReplicaWait::kNotMaster);
  const int64_t c = tracker->Update(store_.MaxPhyOffset().value(), DurableEnd(), clock_.NowMillis());
  if (c > confirm_.load()) Tick();
  if (c >= end_offset) return done(ReplicaWait::kReplicated);
  if (!tracker->AcceptsWrites()) return done(ReplicaWait::kSlaveNotAvailable);
  {
    MutexLock lock(&waiters_mu_);
    waiters_.emplace(end_offset, Waiter{clock_.NowMillis() + config_.sync_wait_timeout_ms, std::move(done)});
  }
  // The confirm offset may have passed it meanwhile.
  Tick();
  server_->Wake();
}

void HaService::NotifyAppended() {
  if (server_) server_->Wake();
}

void HaService::FailAllWaiters(ReplicaWait why) {
  std::multimap<int64_t, Waiter> all;
  {
    MutexLock lock(&waiters_mu_);
    all.swap(waiters_);
  }
  for (auto& [offset, w] : all) w.done(why);
}

void HaService::Tick() {
  std::shared_ptr<ReplicaTracker> tracker;
  {
    MutexLock lock(&mu_);
    tracker = tracker_;
  }
  if (!tracker) return;
  const int64_t now = clock_.NowMillis();
  const int64_t c = tracker->Update(store_.MaxPhyOffset().value(), DurableEnd(), now);
  // Several threads tick: the published offset only ever moves forward.
  int64_t prev = confirm_.load();
  while (c > prev && !confirm_.compare_exchange_weak(prev, c)) {
  }
  if (c > prev) {
    store_.AdvanceConfirmOffset(PhysicalOffset(c));
    if (server_) server_->Wake();  // FerryMQ slaves learn the new confirm offset
  }
  std::vector<std::pair<std::function<void(ReplicaWait)>, ReplicaWait>> answers;
  {
    MutexLock lock(&waiters_mu_);
    if (waiters_.empty()) return;
    auto end = waiters_.upper_bound(c);
    for (auto it = waiters_.begin(); it != end; ++it)
      answers.emplace_back(std::move(it->second.done), ReplicaWait::kReplicated);
    waiters_.erase(waiters_.begin(), end);
    const bool reject = !tracker->AcceptsWrites();
    if (reject || now - last_expiry_scan_ms_ >= kExpiryScanMs) {
      last_expiry_scan_ms_ = now;
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (reject || now >= it->second.deadline_ms) {
          answers.emplace_back(std::move(it->second.done),
                               reject ? ReplicaWait::kSlaveNotAvailable : ReplicaWait::kTimeout);
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  for (auto& [done, result] : answers) done(result);
}

// ---------------------------------------------------------------------------------------------------------
// HaServer::Delegate

MasterHello HaService::OnHello(const SlaveHello& hello, const std::string& peer) {
  MasterHello m;
  MutexLock lock(&mu_);
  m.master_address = identity_.address;
  const int32_t own_epoch = store_.epochs().LastEpoch().value();
  m.epoch = own_epoch;
  if (!IsMasterRole(state_.role)) {
    m.error_code = std::string(kRefusedNotMaster);
    m.error = "this broker (" + identity_.address + ") is a slave" +
              (state_.master_address.empty() ? std::string() : " of " + state_.master_address) +
              ": point the slave at its group's master";
    return m;
  }
  if (hello.cluster != identity_.cluster) {
    m.error_code = std::string(kRefusedWrongCluster);
    m.error = "this master belongs to cluster '" + identity_.cluster + "', the slave at " + peer +
              " to cluster '" + hello.cluster + "': point its haMasterAddress at a master of its own cluster";
    return m;
  }
  if (hello.broker_name != identity_.broker_name) {
    m.error_code = std::string(kRefusedWrongBroker);
    m.error = "this is the master of broker '" + identity_.broker_name + "', the slave at " + peer +
              " belongs to broker '" + hello.broker_name +
              "': slaves follow the master of their own brokerName";
    return m;
  }
  if (hello.known_epoch > own_epoch) {
    RaisePromiseLocked(hello.known_epoch);
    m.error_code = std::string(kRefusedStaleMaster);
    m.error = "this master is at epoch " + std::to_string(own_epoch) + " but the slave at " + peer +
              " follows epoch " + std::to_string(hello.known_epoch) +
              ": this master was replaced and stopped taking writes";
    return m;
  }
  m.ok = true;
  m.epochs = store_.epochs().entries();
  m.min_offset = store_.MinPhyOffset().value();
  m.max_offset = store_.MaxPhyOffset().value();
  m.confirm_offset = confirm_.load();
  m.role = std::string(BrokerRoleName(state_.role));
  m.min_in_sync_replicas = config_.min_in_sync_replicas;
  m.when_below_min_in_sync = std::string(PolicyName(config_.when_below_min_in_sync));
  return m;
}

void HaService::OnSlaveConnected(uint64_t id, const std::string& address, int64_t broker_id, bool ferry) {
  std::shared_ptr<ReplicaTracker> tracker;
  {
    MutexLock lock(&mu_);
    tracker = tracker_;
  }
  if (tracker) tracker->Connected(id, address, broker_id, ferry, clock_.NowMillis());
}

void HaService::OnSlaveReport(uint64_t id, int64_t ack) {
  std::shared_ptr<ReplicaTracker> tracker;
  {
    MutexLock lock(&mu_);
    tracker = tracker_;
  }
  if (!tracker) return;
  tracker->Reported(id, ack, store_.MaxPhyOffset().value(), clock_.NowMillis());
  Tick();
}

void HaService::OnSlaveClosed(uint64_t id) {
  std::shared_ptr<ReplicaTracker> tracker;
  {
    MutexLock lock(&mu_);
    tracker = tracker_;
  }
  if (tracker) tracker->Disconnected(id);
}

int64_t HaService::ConfirmOffset() const { return confirm_.load(); }

// ---------------------------------------------------------------------------------------------------------
// HaClient::Delegate

int32_t HaService::KnownEpoch() const {
  MutexLock lock(&mu_);
  return std::max(state_.promised_epoch, store_.epochs().LastEpoch().value());
}

Status HaService::OnMasterAccepted(const MasterHello& hello) {
  MutexLock lock(&mu_);
  if (!IsMasterRole(state_.role)) {
    learned_ = hello;
    if (state_.master_address.empty() && !hello.master_address.empty())
      state_.master_address = hello.master_address;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Name servers

void HaService::OnMasterLearned(const std::string& master_address, const std::string& master_ha_address) {
  if (master_ha_address.empty()) return;
  MutexLock op(&op_mu_);
  {
    MutexLock lock(&mu_);
    if (IsMasterRole(state_.role)) return;
    if (!config_.ha_master_address.empty()) {
      // The replication address is configured; the remoting address still comes from here (metadata copies
      // need it, and a RocketMQ master sends no hello that would name it), as RocketMQ slaves take it.
      if (state_.master_address != master_address) {
        state_.master_address = master_address;
        (void)PersistLocked();
      }
      return;
    }
    if (state_.master_ha_address == master_ha_address) return;
    if (!state_.master_ha_address.empty() && client_ && client_->Snapshot().state == CopyState::kCopying)
      return;
    GetLogger("ha")->info("following the master the name servers name: {} (replication {})", master_address,
                          master_ha_address);
    state_.master_address = master_address;
    state_.master_ha_address = master_ha_address;
    (void)PersistLocked();
  }
  StopCopy();
  MutexLock lock(&mu_);
  if (!IsMasterRole(state_.role)) StartCopyLocked();
}

void HaService::OnRegistrationRefused(int32_t ns_epoch, const std::string& master_address,
                                      const std::string& master_ha_address, int64_t free_broker_id) {
  bool demote = false;
  {
    MutexLock op(&op_mu_);
    MutexLock lock(&mu_);
    if (!IsMasterRole(state_.role)) return;
    RaisePromiseLocked(ns_epoch);
    if (!fenced_) {
      fenced_ = true;
      SealAppendsByRoleLocked();
      GetLogger("ha")->error("fenced: a name server refused this master's registration at epoch {}",
                             store_.epochs().LastEpoch().value());
    }
    demote = ns_epoch > store_.epochs().LastEpoch().value() && !master_ha_address.empty() &&
             !master_address.empty() && master_address != identity_.address && free_broker_id >= 1;
  }
  if (demote) {
    GetLogger("ha")->warn("epoch {} has master {}: becoming its slave (broker id {})", ns_epoch,
                          master_address, free_broker_id);
    if (Status s = BecomeSlave(master_address, master_ha_address, ns_epoch, free_broker_id); !s.ok())
      GetLogger("ha")->error("could not become a slave of {}: {}", master_address, s.ToString());
  }
}

// ---------------------------------------------------------------------------------------------------------
// Admin

model::HaStatusBody HaService::StatusBody() const {
  model::HaStatusBody b;
  std::shared_ptr<ReplicaTracker> tracker;
  CopySnapshot copy;
  {
    MutexLock lock(&mu_);
    b.role = std::string(BrokerRoleName(state_.role));
    b.broker_id = state_.broker_id;
    b.promised_epoch = state_.promised_epoch;
    b.fenced = fenced_;
    b.master_address = state_.master_address;
    b.master_ha_address = state_.master_ha_address;
    tracker = tracker_;
    if (client_) copy = client_->Snapshot();
  }
  b.cluster = identity_.cluster;
  b.broker_name = identity_.broker_name;
  b.address = identity_.address;
  b.ha_address = identity_.ha_address;
  if (b.ha_address.empty() && server_) {
    // The announced host of the remoting address with the replication port actually bound.
    b.ha_address =
        identity_.address.substr(0, identity_.address.rfind(':')) + ":" + std::to_string(server_->port());
  }
  b.epoch = epoch();
  for (const auto& e : store_.epochs().entries()) b.epochs.push_back({e.epoch.value(), e.start.value()});
  const auto stats = store_.Stats();
  b.min_offset = stats.commit_log_min.value();
  b.max_offset = stats.commit_log_max.value();
  b.complete_end = store_.CompleteEnd().value();
  b.confirm_offset = stats.confirm_offset.value();
  b.dispatched_offset = stats.dispatched.value();
  b.flushed_offset = stats.commit_log_flushed.value();
  if (tracker) {
    const auto snap = tracker->Snapshot();
    b.min_in_sync_replicas = config_.min_in_sync_replicas;
    b.when_below_min_in_sync = std::string(PolicyName(config_.when_below_min_in_sync));
    b.in_sync_copies = snap.in_sync_copies;
    b.below_min_in_sync = snap.below_min;
    b.degraded = snap.degraded;
    const int64_t now = clock_.NowMillis();
    for (const auto& r : snap.replicas) {
      b.slaves.push_back({r.address, r.broker_id, r.ferry, r.ack, r.lag_bytes,
                          r.caught_up_ms > 0 ? now - r.caught_up_ms : -1, r.in_sync});
    }
  }
  std::string why;
  b.writable = CheckWrite(&why) == WriteGate::kOpen;
  if (b.role == "SLAVE") {
    b.copy_state = std::string(CopyStateName(copy.state));
    b.copy_error = copy.last_error;
    b.copy_ferry = copy.ferry;
    b.master_epoch = copy.master_epoch;
    b.master_max_offset = copy.master_max;
    b.master_confirm_offset = copy.master_confirm;
    // The group's setting as the master announced it, else this broker's own (failover needs it while the
    // master is gone).
    b.min_in_sync_replicas =
        copy.hello.min_in_sync_replicas > 0 ? copy.hello.min_in_sync_replicas : config_.min_in_sync_replicas;
    b.when_below_min_in_sync = !copy.hello.when_below_min_in_sync.empty()
                                   ? copy.hello.when_below_min_in_sync
                                   : std::string(PolicyName(config_.when_below_min_in_sync));
    if (b.master_ha_address.empty()) b.master_ha_address = copy.master_ha_address;
  }
  return b;
}

Result<model::HaStatusBody> HaService::Fence(int32_t epoch) {
  {
    MutexLock op(&op_mu_);
    bool slave;
    {
      MutexLock lock(&mu_);
      const int32_t last = store_.epochs().LastEpoch().value();
      if (epoch <= state_.promised_epoch || epoch <= last) {
        return Status::FailedPrecondition("cannot fence at epoch " + std::to_string(epoch) +
                                          ": this broker already "
                                          "knows epoch " +
                                          std::to_string(std::max(state_.promised_epoch, last)) +
                                          "; use a higher epoch");
      }
      slave = !IsMasterRole(state_.role);
    }
    if (slave) StopCopy();
    MutexLock lock(&mu_);
    RaisePromiseLocked(epoch);
    GetLogger("ha")->warn("fenced at epoch {}: {}", epoch,
                          slave ? "stopped copying from the master" : "refusing writes");
  }
  return StatusBody();
}

Status HaService::Promote(int32_t epoch, std::optional<BrokerRole> role) {
  {
    MutexLock op(&op_mu_);
    {
      MutexLock lock(&mu_);
      const int32_t last = store_.epochs().LastEpoch().value();
      const int32_t master_epoch = learned_ ? learned_->epoch : 0;
      if (epoch < state_.promised_epoch || epoch <= last || epoch <= master_epoch) {
        return Status::FailedPrecondition(
            "cannot become master of epoch " + std::to_string(epoch) + ": this broker knows epoch " +
            std::to_string(std::max({state_.promised_epoch, last, master_epoch})) +
            "; promote with a higher epoch");
      }
      if (IsMasterRole(state_.role) && !fenced_) {
        return Status::FailedPrecondition("this broker is already the master of epoch " +
                                          std::to_string(last));
      }
      if (role && !IsMasterRole(*role))
        return Status::InvalidArgument("a promotion makes a master, not a SLAVE");
    }
    StopCopy();
    MutexLock lock(&mu_);
    // A record copied only in part is cut: the new term starts at a record boundary.
    if (store_.MaxPhyOffset() > store_.CompleteEnd())
      FMQ_RETURN_IF_ERROR(store_.TruncateTo(store_.CompleteEnd()));
    FMQ_RETURN_IF_ERROR(store_.RebuildQueueOffsets());
    const PhysicalOffset start = store_.CompleteEnd();
    FMQ_RETURN_IF_ERROR(store_.epochs().Append({Epoch(epoch), start}));
    state_.promised_epoch = epoch;
    BrokerRole target = BrokerRole::kSyncMaster;
    if (role) {
      target = *role;
    } else if (learned_ && (learned_->role == "SYNC_MASTER" || learned_->role == "ASYNC_MASTER")) {
      target = *ParseBrokerRole(learned_->role);
    } else if (IsMasterRole(config_.role)) {
      target = config_.role;
    }
    fenced_ = false;
    BecomeMasterLocked(target);
    SealAppendsByRoleLocked();
    state_.master_address.clear();
    state_.master_ha_address.clear();
    FMQ_RETURN_IF_ERROR(PersistLocked());
    GetLogger("ha")->warn("promoted: {} of epoch {} from commit-log offset {}", BrokerRoleName(target), epoch,
                          start.value());
  }
  NotifyRoleChanged();
  return Status::Ok();
}

Status HaService::BecomeSlave(const std::string& master_address, const std::string& master_ha_address,
                              int32_t epoch, int64_t broker_id) {
  if (broker_id < 1) return Status::InvalidArgument("a slave's brokerId must be 1 or higher");
  if (master_ha_address.empty())
    return Status::InvalidArgument("the master's replication address is missing");
  bool was_master;
  {
    MutexLock op(&op_mu_);
    {
      MutexLock lock(&mu_);
      if (epoch < state_.promised_epoch) {
        return Status::FailedPrecondition("cannot follow a master of epoch " + std::to_string(epoch) +
                                          ": this broker promised to follow nothing below epoch " +
                                          std::to_string(state_.promised_epoch));
      }
      was_master = IsMasterRole(state_.role);
      if (was_master && epoch <= store_.epochs().LastEpoch().value()) {
        return Status::FailedPrecondition("this broker is the master of epoch " +
                                          std::to_string(store_.epochs().LastEpoch().value()) +
                                          ": it follows only a master of a higher epoch");
      }
      RaisePromiseLocked(epoch);
    }
    if (was_master) {
      server_->CloseAll();
      FailAllWaiters(ReplicaWait::kNotMaster);
    }
    StopCopy();
    MutexLock lock(&mu_);
    state_.role = BrokerRole::kSlave;
    state_.broker_id = broker_id;
    SealAppendsByRoleLocked();
    state_.master_address = master_address;
    state_.master_ha_address = master_ha_address;
    fenced_ = false;
    tracker_.reset();
    confirm_ = INT64_MAX;
    // What consumers could read stays readable; nothing more until the new master confirms it.
    store_.SetConfirmOffset(std::min(store_.ConfirmOffset(), store_.DispatchedOffset()));
    learned_.reset();
    FMQ_RETURN_IF_ERROR(PersistLocked());
    StartCopyLocked();
    GetLogger("ha")->warn("{}: slave (broker id {}) of {} at epoch {}", was_master ? "demoted" : "re-pointed",
                          broker_id, master_address, epoch);
  }
  NotifyRoleChanged();
  return Status::Ok();
}

}  // namespace fmq::ha
