#pragma once

// Pure health decisions of the ConsumerGroup controller: MQCloud's six consumer alerts as status conditions,
// with the thresholds of spec.alerting (MQCloud's defaults). Each condition is True while the problem lasts
// (like a Node's MemoryPressure), so `kubectl wait --for=condition=Lagging=false` and kube-state-metrics
// read them the same way:
//
//   Lagging                   more than lagMessages unconsumed AND, on a lagging queue, the last consumed
//                             message was stored more than lagSeconds ago (MQCloud's count-and-time rule; a
//                             queue the group never consumed from counts as old); never for a broadcasting
//                             group, whose offsets only its clients know;
//   ConsumeFailing            more than consumeFailuresPerHour failed consumptions in the last hour: messages
//                             handed back for a retry (SNDBCK_PUT_NUMS) or, when more, the failures the
//                             clients report (orderly consumers retry in place and hand nothing back);
//   DeadLetters               more than deadLettersPerHour messages moved to %DLQ%<group> in the last hour;
//   OffsetMoved               a pull of the group was answered PULL_OFFSET_MOVED in the last hour (its offset
//                             was outside the queue: messages skipped or read again);
//   ClientsBlocked            a push consumer (not orderly, as MQCloud) holds at least blockedMessages of a
//                             queue and consumed nothing from it for blockedSeconds;
//   SubscriptionInconsistent  online clients of the group subscribe different topics or expressions.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "operator/api/conditions.h"
#include "operator/api/types.h"
#include "operator/model/group_plan.h"

namespace fmq::op::model {

inline constexpr const char* kGroupHealthConditions[] = {
    "Lagging", "ConsumeFailing", "DeadLetters", "OffsetMoved", "ClientsBlocked", "SubscriptionInconsistent"};

// What the brokers counted for one topic of the group in the last hour, summed over the target masters.
struct GroupHourCounts {
  std::string topic;
  int64_t send_backs = 0;    // SNDBCK_PUT_NUMS
  int64_t dead_letters = 0;  // DEAD_PUT_NUMS
  int64_t offset_moves = 0;  // OFFSET_MOVED_NUMS
};

// What one online client said about itself (GET_CONSUMER_RUNNING_INFO).
struct ClientReport {
  std::string client_id;
  std::string error;  // non-empty: it did not answer (then nothing below is known)
  bool push = true;
  bool orderly = false;
  std::vector<std::string> subscriptions;  // "topic=expression", sorted
  struct Queue {
    std::string name;  // topic@broker#queue
    int32_t cached_messages = 0;
    int64_t last_consume_ms = 0;
    bool dropped = false;
  };
  std::vector<Queue> queues;
  int64_t consume_failed_last_hour = 0;  // summed over its topics
  double consume_ok_tps = 0;             // summed over its topics
  double consume_failed_tps = 0;
  double consume_rt_ms = 0;  // the slowest of its topics
};

struct GroupHealthInput {
  // A broadcasting group's clients keep their own offsets: the brokers' consume stats say nothing about its
  // lag.
  bool broadcast = false;
  std::vector<QueueLag> queues;  // consume stats of every target master
  std::vector<GroupHourCounts> counts;
  int64_t online_clients = 0;
  std::vector<ClientReport> clients;  // those asked (at most api::kMaxListedClients)
  int64_t now_ms = 0;
};

// MQCloud's client statistics of the group, over the clients that answered: how many, their consume rates
// summed, the slowest client's consume time, the messages they hold. (One series per group, never per
// client.)
struct ClientTotals {
  int64_t reporting = 0;
  double ok_tps = 0;
  double failed_tps = 0;
  double max_rt_ms = 0;
  int64_t cached_messages = 0;
  bool operator==(const ClientTotals&) const = default;
};
ClientTotals SumClients(const std::vector<ClientReport>& clients);

// The six conditions, in kGroupHealthConditions order (type, status, reason, message; the caller sets the
// generation and transition time).
std::vector<api::Condition> GroupHealth(const api::GroupAlertingSpec& thresholds, const GroupHealthInput& in);

}  // namespace fmq::op::model
