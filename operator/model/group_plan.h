#pragma once

// Pure decisions of the ConsumerGroup controller: the subscription-group config a ConsumerGroup asks of each
// broker group's master (create, adopt, revert drift), which groups it no longer targets, the lag it reports,
// and whether a declarative offset reset (spec.resetOffset) is applied now, refused, or already done.

#include <optional>
#include <string>
#include <vector>

#include "operator/api/types.h"

namespace fmq::op::model {

// The fields of a broker's subscription-group config (subscriptionGroup.json) a ConsumerGroup manages. The
// broker's other fields (brokerId, notifyConsumerIdsChangedEnable) are kept as the broker has them.
struct BrokerGroupConfig {
  bool consume_enable = true;
  bool consume_broadcast_enable = true;
  bool consume_from_min_enable = true;
  bool consume_message_orderly = false;
  int retry_max_times = 16;
  int retry_queue_nums = 1;
  int64_t which_broker_when_consume_slowly = 1;
  bool operator==(const BrokerGroupConfig&) const = default;
};

// What the spec asks for: consumeMode Broadcast allows broadcast consumers (consumeBroadcastEnable),
// Clustering refuses them, as a RocketMQ broker does for a group whose consumeBroadcastEnable is false.
BrokerGroupConfig DesiredGroupConfig(const api::ConsumerGroupSpec& spec);

struct GroupDecision {
  enum class Kind {
    kInSync,  // nothing to write
    kApply,   // UPDATE_AND_CREATE_SUBSCRIPTIONGROUP with the desired config (create, revert drift)
  };
  Kind kind = Kind::kInSync;
  std::string message;  // what changes, field by field, for the log and the Event
};

// `current` is empty when the broker does not have the group.
GroupDecision DecideGroup(const api::ConsumerGroupSpec& spec, const std::string& broker_group,
                          const std::optional<BrokerGroupConfig>& current);

// Names in `last` (the groups a previous pass recorded) that `targets` no longer has: the group is removed
// there (level-based: a removal that failed stays recorded and is tried again).
// Groups beyond spec.brokers.groups (not in `cluster_groups`) are leaving the cluster or gone: only
// forgotten, like DroppedGroups (topic_plan.h).
std::vector<std::string> DroppedNames(const std::vector<std::string>& last,
                                      const std::vector<std::string>& targets,
                                      const std::vector<std::string>& cluster_groups);

// One queue of the group's consume stats.
struct QueueLag {
  std::string topic;
  int64_t broker_offset = 0;
  int64_t consumer_offset = 0;
  int64_t last_timestamp = 0;  // store time of the last consumed message (consumer offset - 1); 0: none
};

// Lag per topic (broker offset - consumer offset, never negative per queue), sorted by topic; `total` gets
// the sum.
std::vector<api::GroupLagStatus> LagByTopic(const std::vector<QueueLag>& queues, int64_t* total);

// The topics a reset without spec.resetOffset.topics moves: those the group has offsets for, without its
// retry and dead-letter topics (%RETRY%, %DLQ%), which hold redeliveries rather than the stream it consumes.
std::vector<std::string> DefaultResetTopics(const std::vector<QueueLag>& queues);

struct ResetDecision {
  enum class Kind {
    kNone,    // no spec.resetOffset, or this id was applied (or was invalid) already
    kApply,   // reset now
    kRefuse,  // consumers are online and force is false: recorded as Refused, tried again every pass
  };
  Kind kind = Kind::kNone;
  std::string message;
};

// `online_clients`: consumers of the group connected to any target broker. A reset is applied once per id:
// a last reset with the same id and result Applied or Invalid ends it; Refused and Failed are tried again.
ResetDecision DecideReset(const std::optional<api::ResetOffsetSpec>& spec,
                          const std::optional<api::LastResetStatus>& last, int64_t online_clients);

}  // namespace fmq::op::model
