#pragma once

// Pure decisions of broker-group failover (docs/architecture.md, "Failover"): the HA record the operator
// keeps per broker group, when a master counts as failed, and what to do about a group's members.
//
// The record lives in ConfigMap "<cluster>-broker-<g>-ha" (data key "record.json") and is written only by
// compare-and-swap on the ConfigMap's resourceVersion: a failover is *claimed* in the record (pending_epoch,
// pending_master) before any broker is touched, so two operator replicas, or a stale leader, can never
// promote twice; whoever finds a claim without a master of that epoch finishes it (client::Failover fences at
// least N - W + 1 members, so finishing twice promotes one broker), unless the recorded master serves again
// and no member was fenced above it (the claim is then dropped, and the write permission the claim wiped on
// the name servers restored). The record changes only when the group
// does (a new master or epoch, the in-sync set, a claim), never with message traffic: a converged operator
// writes nothing.
//
// Detection has hysteresis: a master is failed only after `failed_probes` consecutive failed probes spanning
// at least `window`, *and* its pod is not Ready. One slow probe, or an operator that cannot reach a broker
// whose pod is Ready, never fails a group over. The probe state lives in the controller's memory: a new
// leader starts observing from scratch, which only delays a failover.
//
// Only a slave the master last reported in sync is promoted (the longest log among them); with none
// reachable the group stays unwritable and says so, unless unclean failover is allowed.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/base/status.h"

namespace fmq::op::model {

struct HaRecord {
  int32_t epoch = 0;                        // the epoch `master` serves; 0: no master recorded yet
  std::string master;                       // pod name of the master
  std::vector<std::string> in_sync;         // pods the master last reported in sync, itself included; sorted
  std::map<std::string, int64_t> log_ends;  // pod -> log end when the master or epoch last changed
  std::string last_failover;                // RFC 3339, empty before the first
  std::string master_since;    // RFC 3339: when this record first saw `master` serve `epoch`; empty: unknown
  int64_t failovers = 0;       // promotions claimed here (a switchover is not one)
  int32_t pending_epoch = 0;   // a claimed failover not yet seen finished: at least this epoch ...
  std::string pending_master;  // ... with this pod as master
  bool operator==(const HaRecord&) const = default;
};

// record.json. Decoding refuses what the operator did not write (wrong types, negative epochs) with a message
// naming the field, so a hand-edited record stops the group's failover instead of acting on nonsense.
std::string EncodeHaRecord(const HaRecord& record);
Result<HaRecord> DecodeHaRecord(const std::string& json);

struct Detection {
  int failed_probes = 3;                     // consecutive failures needed
  std::chrono::milliseconds window{10'000};  // and the time they must span
};

struct ProbeState {
  int consecutive_failures = 0;
  int64_t first_failure_ms = 0;  // when the current run of failures began
  std::string last_error;
};

// The state after one probe of the master at `now_ms`: a success clears it.
ProbeState AfterProbe(ProbeState state, bool ok, int64_t now_ms, const std::string& error = "");

// Enough consecutive failures, spanning the window, and the master's pod not Ready.
bool MasterFailed(const ProbeState& probes, bool master_pod_ready, const Detection& detection,
                  int64_t now_ms);

// One member of the group as observed in this pass (its pod and, when it answered, its HA status).
struct MemberView {
  std::string pod;
  bool pod_ready = false;
  bool reachable = false;                   // its HA status answered
  std::string role;                         // SYNC_MASTER | ASYNC_MASTER | SLAVE
  int32_t epoch = 0;                        // the epoch it is master of, or its master's
  bool writable = false;                    // a master taking sends
  int64_t log_end = 0;                      // end of its last whole record
  std::vector<std::string> in_sync_slaves;  // a master: the pods of the slaves it counts in sync
};

struct FailoverDecision {
  enum class Kind {
    kWaiting,      // no master has served yet (a new group starting): nothing to do
    kHealthy,      // the recorded master serves its epoch
    kSuspect,      // the master does not answer, or answers not writable; not (yet) failed
    kPromote,      // claim `epoch` for `target` in the record (CAS), wipe the group's write permission on
                   // the name servers, then fail over to it
    kNoCandidate,  // the master failed and no slave may be promoted: the group stays unwritable
    kDemote,       // `target` is a writable master of an epoch below the group's: make it follow `master`
  };
  Kind kind = Kind::kWaiting;
  std::string target;
  std::string master;  // kDemote: the pod to follow
  int32_t epoch = 0;
  bool write_record = false;  // `record` differs from the one read: write it (CAS) before acting
  // kHealthy: a claim was dropped (its failover never touched a broker, the recorded master serves again);
  // the claim may have wiped the group's write permission on the name servers: restore it.
  bool restore_write_perm = false;
  HaRecord record;
  std::string reason;   // one CamelCase word for Events and conditions
  std::string message;  // what was seen and why this, for people
};

struct FailoverPolicy {
  Detection detection;
  bool unclean = false;  // spec.brokers.replication.uncleanFailover: promote the longest log of any member
};

// `members` in pod order; `master_probe` is the controller's probe state for record.master; `now` is RFC 3339
// for last_failover.
FailoverDecision DecideFailover(const HaRecord& record, const std::vector<MemberView>& members,
                                const ProbeState& master_probe, const FailoverPolicy& policy, int64_t now_ms,
                                const std::string& now);

}  // namespace fmq::op::model
