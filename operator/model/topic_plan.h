#pragma once

// Pure decisions of the Topic controller: which broker groups a Topic targets and what to do on each group's
// master given the topic config the broker has (create, adopt and revert drift, or refuse a silent shrink).

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "operator/api/types.h"

namespace fmq::op::model {

// A topic's config as one broker reports it (GET_ALL_TOPIC_CONFIG).
struct BrokerTopic {
  int read_queues = 0;
  int write_queues = 0;
  int perm = 6;
  bool order = false;
};

struct TopicDecision {
  enum class Kind {
    kInSync,        // nothing to write
    kApply,         // UPDATE_AND_CREATE_TOPIC with the spec (create, adopt, revert drift, grow)
    kRefuseShrink,  // the spec has fewer queues than the broker: refused unless allowed by annotation
  };
  Kind kind = Kind::kInSync;
  std::string message;  // why, for the condition and the Event
};

// `current` is empty when the broker does not have the topic. Queue counts that go down drop the messages
// left in the removed queues for their consumers, so that needs the ferrymq.io/allow-queue-shrink annotation.
TopicDecision DecideTopic(const api::Topic& topic, const std::string& group,
                          const std::optional<BrokerTopic>& current);

// The groups a Topic lives on: spec.brokerGroups, or every group of the cluster when empty. InvalidArgument
// naming the unknown groups when the spec lists groups the cluster does not have.
Result<std::vector<std::string>> TargetGroups(const api::TopicSpec& spec,
                                              const std::vector<std::string>& cluster_groups);
// The same for any resource's spec.brokerGroups (`wanted`; empty: every group of the cluster).
Result<std::vector<std::string>> TargetGroups(const std::vector<std::string>& wanted,
                                              const std::vector<std::string>& cluster_groups);

// The groups a Topic's last status lists that it no longer targets: its topic is removed from them. A group
// whose removal did not happen (no master registered, or the delete failed) stays in the status the pass
// writes, so the next pass tries again: cleanup follows the recorded state, not one event.
// Only groups the cluster still has (`cluster_groups`, by spec) count: a group beyond spec.brokers.groups
// is leaving the cluster (its consumers drain it; the scale-in removes it with its topics, model/scale_in.h)
// or gone, and is only forgotten.
std::vector<api::TopicGroupStatus> DroppedGroups(const std::vector<api::TopicGroupStatus>& last_status,
                                                 const std::vector<std::string>& targets,
                                                 const std::vector<std::string>& cluster_groups);

// Scaling out: a topic created on a broker group is what routes producers there, so it is created only once
// the consumer groups that will consume it there have their config on that group (retry times, orderly,
// broadcast...; a broker would otherwise auto-create them with defaults). Pending: the consumer groups that
// target `broker_group` and are applied on another group of the cluster, but not on this one yet. A consumer
// group applied nowhere (not reconciled yet, or invalid) holds nothing back.
struct ConsumerGroupPlacement {
  std::string name;
  std::vector<std::string> targets;  // the broker groups its spec targets
  std::vector<std::string> applied;  // where its status says it is
};
// A rate for status (messages per second): at most three significant digits, no exponent, trailing zeros
// dropped ("0", "0.25", "12.5", "1234").
std::string FormatRate(double per_second);

// What the Topic's masters counted, for status.traffic and status.brokerGroups[].messages/lastWrite.
struct TopicTrafficInput {
  int64_t puts_last_minute = 0;  // TOPIC_PUT_NUMS, every target master
  int64_t gets_last_minute = 0;  // GROUP_GET_NUMS of every consumer group, every target master
  std::set<std::string> producer_groups;
  std::set<std::string> consumer_groups;
};
api::TopicTrafficStatus SummarizeTraffic(const TopicTrafficInput& in);

std::vector<std::string> ConsumerGroupsPendingOn(const std::string& broker_group,
                                                 const std::vector<ConsumerGroupPlacement>& groups);

}  // namespace fmq::op::model
