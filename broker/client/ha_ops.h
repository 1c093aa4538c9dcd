#pragma once

// Failover and switchover of one broker group (docs/replication.md), composed from the FERRYMQ_HA_* admin
// calls. Used by `ferryctl ha promote|switchover` and, later, the operator.
//
// Failover (the master is gone): every reachable member is fenced at a new epoch E (one above every epoch any
// of them knows); at least N - W + 1 of the N members must be fenced, W being minInSyncReplicas. Every
// acknowledged message is held by at least W copies, so at least one fenced member holds it, and the old
// master can no longer gather W acknowledgements from the unfenced rest. The fenced member with the longest
// log becomes master of E (a named target is refused if another fenced member holds more, unless unclean);
// the other fenced members follow it. Fewer reachable members than that: refused before anything changes.
//
// Switchover (the master is alive: planned, loses nothing): the master is fenced at E (it stops taking
// writes; its log end is final), the target slave catches up to that end, the target becomes master of E, the
// old master and the other slaves follow it. A target that does not catch up in time: the old master is made
// master of E again and the switchover reports the timeout.
//
// Thread-safety: functions; the Admin must be started.

#include <chrono>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/client/admin.h"
#include "broker/model/ha_body.h"

namespace fmq::client {

struct HaMember {
  std::string address;
  Status reachable;  // OK, or why the status call failed
  model::HaStatusBody status;
};

// The members of broker group `broker_name` the name servers know, plus `extra` addresses (members that
// expired from the name servers), each with its HA status.
// `known_unreachable`: members the caller just failed to reach; they are reported unreachable without
// being asked again (an operator that saw a member's RPCs time out saves one more timeout).
Result<std::vector<HaMember>> HaGroup(Admin& admin, const std::string& broker_name,
                                      const std::vector<std::string>& extra = {},
                                      const std::vector<std::string>& known_unreachable = {});

struct FailoverOptions {
  std::string target;                // address of the member to promote; empty: the longest log
  int group_size = 0;                // N; 0: the number of members found
  bool unclean = false;              // promote without the quorum / a shorter log (may lose messages)
  std::string role;                  // SYNC_MASTER | ASYNC_MASTER; empty: the old master's
  std::vector<std::string> members;  // extra member addresses
  std::vector<std::string> known_unreachable;  // members the caller could not reach just now (see HaGroup)
};

struct HaOperationReport {
  int32_t epoch = 0;
  std::string promoted;      // the new master's address
  int64_t promoted_end = 0;  // its log end when promoted
  std::vector<std::string> fenced;
  std::vector<std::string> followers;    // members now following the new master
  std::vector<std::string> unreachable;  // with the reason
  int group_size = 0;
  int min_in_sync_replicas = 0;
  int quorum = 0;  // members that had to be fenced
  int64_t millis = 0;
  std::vector<std::string> notes;
  bool complete = true;  // false when a reachable member did not follow the new master (see notes)
};

Result<HaOperationReport> Failover(Admin& admin, const std::string& broker_name,
                                   const FailoverOptions& options);

Result<HaOperationReport> Switchover(Admin& admin, const std::string& broker_name, const std::string& target,
                                     std::chrono::milliseconds catch_up_timeout);

}  // namespace fmq::client
