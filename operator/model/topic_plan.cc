#include "operator/model/topic_plan.h"

#include <algorithm>
#include <cstdio>

namespace fmq::op::model {

TopicDecision DecideTopic(const api::Topic& topic, const std::string& group,
                          const std::optional<BrokerTopic>& current) {
  const api::TopicSpec& s = topic.spec;
  if (!current) return {TopicDecision::Kind::kApply, "creating topic " + s.topic_name + " on " + group};
  const int want_perm = api::PermissionBits(s.permission);
  const bool same = current->read_queues == s.read_queues && current->write_queues == s.write_queues &&
                    (current->perm & 6) == want_perm && current->order == s.order;
  if (same) return {TopicDecision::Kind::kInSync, ""};
  if ((s.read_queues < current->read_queues || s.write_queues < current->write_queues) &&
      !topic.metadata.AnnotationTrue(api::kAllowQueueShrinkAnnotation)) {
    return {TopicDecision::Kind::kRefuseShrink,
            "refusing to lower the queues of " + s.topic_name + " on " + group + " from read " +
                std::to_string(current->read_queues) + "/write " + std::to_string(current->write_queues) +
                " to read " + std::to_string(s.read_queues) + "/write " + std::to_string(s.write_queues) +
                ": messages left in the removed queues would no longer be consumed; lower write queues "
                "first, let "
                "consumers drain, then set the annotation " +
                std::string(api::kAllowQueueShrinkAnnotation) + "=\"true\""};
  }
  return {TopicDecision::Kind::kApply,
          "updating topic " + s.topic_name + " on " + group + " (broker had read " +
              std::to_string(current->read_queues) + "/write " + std::to_string(current->write_queues) +
              ", perm " + api::PermissionName(current->perm) + (current->order ? ", ordered" : "") + ")"};
}

Result<std::vector<std::string>> TargetGroups(const api::TopicSpec& spec,
                                              const std::vector<std::string>& cluster_groups) {
  return TargetGroups(spec.broker_groups, cluster_groups);
}

Result<std::vector<std::string>> TargetGroups(const std::vector<std::string>& wanted,
                                              const std::vector<std::string>& cluster_groups) {
  if (wanted.empty()) return cluster_groups;
  std::vector<std::string> out, unknown;
  for (const std::string& g : wanted) {
    if (std::find(cluster_groups.begin(), cluster_groups.end(), g) == cluster_groups.end()) {
      unknown.push_back(g);
    } else if (std::find(out.begin(), out.end(), g) == out.end()) {
      out.push_back(g);
    }
  }
  if (!unknown.empty()) {
    std::string list, have;
    for (const auto& g : unknown) list += (list.empty() ? "" : ", ") + g;
    for (const auto& g : cluster_groups) have += (have.empty() ? "" : ", ") + g;
    return Status::InvalidArgument("spec.brokerGroups names groups the cluster does not have: " + list +
                                   " (it has " + have + ")");
  }
  return out;
}

std::vector<api::TopicGroupStatus> DroppedGroups(const std::vector<api::TopicGroupStatus>& last_status,
                                                 const std::vector<std::string>& targets,
                                                 const std::vector<std::string>& cluster_groups) {
  std::vector<api::TopicGroupStatus> out;
  for (const auto& g : last_status) {
    if (std::find(targets.begin(), targets.end(), g.name) != targets.end()) continue;
    if (std::find(cluster_groups.begin(), cluster_groups.end(), g.name) == cluster_groups.end()) continue;
    if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.name == g.name; })) continue;
    out.push_back(g);
  }
  return out;
}

std::vector<std::string> ConsumerGroupsPendingOn(const std::string& broker_group,
                                                 const std::vector<ConsumerGroupPlacement>& groups) {
  std::vector<std::string> out;
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (const auto& g : groups) {
    if (has(g.targets, broker_group) && !g.applied.empty() && !has(g.applied, broker_group))
      out.push_back(g.name);
  }
  return out;
}

std::string FormatRate(double per_second) {
  if (!(per_second > 0)) return "0";
  char buf[32];
  const int decimals = per_second >= 100 ? 0 : per_second >= 10 ? 1 : per_second >= 1 ? 2 : 3;
  std::snprintf(buf, sizeof buf, "%.*f", decimals, per_second);
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

api::TopicTrafficStatus SummarizeTraffic(const TopicTrafficInput& in) {
  api::TopicTrafficStatus t;
  t.messages_in_per_second = FormatRate(static_cast<double>(in.puts_last_minute) / 60);
  t.messages_out_per_second = FormatRate(static_cast<double>(in.gets_last_minute) / 60);
  for (const auto& g : in.producer_groups) {
    if (t.producer_groups.size() < api::kMaxListedGroups) t.producer_groups.push_back(g);
  }
  for (const auto& g : in.consumer_groups) {
    if (t.consumer_groups.size() < api::kMaxListedGroups) t.consumer_groups.push_back(g);
  }
  return t;
}

}  // namespace fmq::op::model
