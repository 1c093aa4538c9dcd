#include "operator/model/group_plan.h"

#include <algorithm>
#include <map>

namespace fmq::op::model {
namespace {

std::string Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

BrokerGroupConfig DesiredGroupConfig(const api::ConsumerGroupSpec& spec) {
  BrokerGroupConfig c;
  c.consume_enable = spec.enabled;
  c.consume_broadcast_enable = spec.consume_mode == "Broadcast";
  c.consume_from_min_enable = spec.consume_from_min;
  c.consume_message_orderly = spec.orderly;
  c.retry_max_times = spec.retry_max_times;
  c.retry_queue_nums = spec.retry_queues;
  c.which_broker_when_consume_slowly = spec.read_from_broker_id_when_slow;
  return c;
}

GroupDecision DecideGroup(const api::ConsumerGroupSpec& spec, const std::string& broker_group,
                          const std::optional<BrokerGroupConfig>& current) {
  const BrokerGroupConfig want = DesiredGroupConfig(spec);
  if (!current) {
    return {GroupDecision::Kind::kApply,
            "creating consumer group " + spec.group_name + " on " + broker_group};
  }
  if (*current == want) return {GroupDecision::Kind::kInSync, ""};
  std::string changes;
  auto diff = [&](const char* field, const std::string& have, const std::string& wanted) {
    if (have != wanted)
      changes += (changes.empty() ? "" : ", ") + std::string(field) + " " + have + " -> " + wanted;
  };
  diff("consumeEnable", Bool(current->consume_enable), Bool(want.consume_enable));
  diff("consumeBroadcastEnable", Bool(current->consume_broadcast_enable),
       Bool(want.consume_broadcast_enable));
  diff("consumeFromMinEnable", Bool(current->consume_from_min_enable), Bool(want.consume_from_min_enable));
  diff("consumeMessageOrderly", Bool(current->consume_message_orderly), Bool(want.consume_message_orderly));
  diff("retryMaxTimes", std::to_string(current->retry_max_times), std::to_string(want.retry_max_times));
  diff("retryQueueNums", std::to_string(current->retry_queue_nums), std::to_string(want.retry_queue_nums));
  diff("whichBrokerWhenConsumeSlowly", std::to_string(current->which_broker_when_consume_slowly),
       std::to_string(want.which_broker_when_consume_slowly));
  return {GroupDecision::Kind::kApply,
          "updating consumer group " + spec.group_name + " on " + broker_group + ": " + changes};
}

std::vector<std::string> DroppedNames(const std::vector<std::string>& last,
                                      const std::vector<std::string>& targets,
                                      const std::vector<std::string>& cluster_groups) {
  std::vector<std::string> out;
  for (const auto& g : last) {
    if (std::find(targets.begin(), targets.end(), g) != targets.end()) continue;
    if (std::find(cluster_groups.begin(), cluster_groups.end(), g) == cluster_groups.end()) continue;
    if (std::find(out.begin(), out.end(), g) != out.end()) continue;
    out.push_back(g);
  }
  return out;
}

std::vector<api::GroupLagStatus> LagByTopic(const std::vector<QueueLag>& queues, int64_t* total) {
  std::map<std::string, int64_t> by_topic;
  int64_t sum = 0;
  for (const auto& q : queues) {
    const int64_t lag = std::max<int64_t>(0, q.broker_offset - q.consumer_offset);
    by_topic[q.topic] += lag;
    sum += lag;
  }
  if (total != nullptr) *total = sum;
  std::vector<api::GroupLagStatus> out;
  for (const auto& [topic, lag] : by_topic) out.push_back({topic, lag});
  return out;
}

std::vector<std::string> DefaultResetTopics(const std::vector<QueueLag>& queues) {
  std::vector<std::string> out;
  for (const auto& q : queues) {
    if (q.topic.starts_with("%RETRY%") || q.topic.starts_with("%DLQ%")) continue;
    if (std::find(out.begin(), out.end(), q.topic) == out.end()) out.push_back(q.topic);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ResetDecision DecideReset(const std::optional<api::ResetOffsetSpec>& spec,
                          const std::optional<api::LastResetStatus>& last, int64_t online_clients) {
  if (!spec) return {};
  if (last && last->id == spec->id && (last->result == "Applied" || last->result == "Invalid")) return {};
  if (online_clients > 0 && !spec->force) {
    return {ResetDecision::Kind::kRefuse,
            "reset " + spec->id + " refused: " + std::to_string(online_clients) +
                " consumer(s) of the group are online; stop them (the reset is applied once they are gone) "
                "or set spec.resetOffset.force: true"};
  }
  return {ResetDecision::Kind::kApply, ""};
}

}  // namespace fmq::op::model
