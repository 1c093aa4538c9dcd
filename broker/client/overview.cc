#include "broker/client/overview.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "broker/model/names.h"
#include "broker/model/stats_items.h"

namespace fmq::client {
namespace {

// Users' topics: not a group's retry or dead-letter topic, nor a system topic of any cluster or broker (a
// cluster's and a broker's own topics carry their names).
bool ListedTopic(const std::string& topic, const model::ClusterInfo& info) {
  if (model::IsRetryTopic(topic) || model::IsDlqTopic(topic)) return false;
  if (info.cluster_addr_table.empty()) return !model::IsSystemTopic(topic, "", "");
  for (const auto& [cluster, brokers] : info.cluster_addr_table) {
    if (brokers.empty() && model::IsSystemTopic(topic, cluster, "")) return false;
    for (const auto& broker : brokers) {
      if (model::IsSystemTopic(topic, cluster, broker)) return false;
    }
  }
  return true;
}

}  // namespace

Result<Overview> ReadOverview(Admin& admin, const std::string& cluster, size_t limit) {
  FMQ_ASSIGN_OR_RETURN(model::ClusterInfo info, admin.GetClusterInfo());
  FMQ_ASSIGN_OR_RETURN(std::vector<std::string> masters, admin.MasterAddrs(cluster));
  std::map<std::string, TopicTraffic> topics;
  std::map<std::pair<std::string, std::string>, GroupLag> lags;  // (group, topic)
  for (const auto& addr : masters) {
    FMQ_ASSIGN_OR_RETURN(auto table, admin.GetAllTopicConfig(addr));
    for (const auto& [name, config] : table) {
      if (!ListedTopic(name, info)) continue;
      FMQ_ASSIGN_OR_RETURN(StatsSums puts, admin.BrokerStatsAt(addr, model::stats_item::kTopicPutNums, name));
      TopicTraffic& t = topics[name];
      t.topic = name;
      t.in_tps += static_cast<double>(puts.minute) / 60;
    }
    FMQ_ASSIGN_OR_RETURN(auto groups, admin.GetAllSubscriptionGroupConfig(addr));
    for (const auto& [group, config] : groups) {
      if (model::IsSystemGroup(group)) continue;
      FMQ_ASSIGN_OR_RETURN(model::ConsumeStats stats, admin.GetConsumeStatsAt(addr, group));
      if (stats.offset_table.empty()) continue;
      FMQ_ASSIGN_OR_RETURN(model::ConsumerConnection conns, admin.GetConsumerConnectionsAt(addr, group));
      std::set<std::string> seen;
      for (const auto& [mq, o] : stats.offset_table) {
        if (model::IsDlqTopic(mq.topic)) continue;
        GroupLag& g = lags[{group, mq.topic}];
        g.group = group;
        g.topic = mq.topic;
        g.lag += std::max<int64_t>(0, o.broker_offset - o.consumer_offset);
        g.clients = std::max<int64_t>(g.clients, static_cast<int64_t>(conns.connection_set.size()));
        if (!seen.insert(mq.topic).second) continue;
        FMQ_ASSIGN_OR_RETURN(StatsSums gets,
                             admin.BrokerStatsAt(addr, model::stats_item::kGroupGetNums,
                                                 model::stats_item::GroupKey(mq.topic, group)));
        const double tps = static_cast<double>(gets.minute) / 60;
        g.out_tps += tps;
        if (auto t = topics.find(mq.topic); t != topics.end()) t->second.out_tps += tps;
      }
    }
  }
  Overview out;
  for (auto& [name, t] : topics) {
    out.in_tps += t.in_tps;
    out.out_tps += t.out_tps;
    out.topics.push_back(std::move(t));
  }
  for (auto& [key, g] : lags) out.lags.push_back(std::move(g));
  out.topic_count = out.topics.size();
  out.lag_rows = out.lags.size();
  std::stable_sort(out.topics.begin(), out.topics.end(), [](const TopicTraffic& a, const TopicTraffic& b) {
    return a.in_tps + a.out_tps > b.in_tps + b.out_tps;
  });
  std::stable_sort(out.lags.begin(), out.lags.end(),
                   [](const GroupLag& a, const GroupLag& b) { return a.lag > b.lag; });
  if (out.topics.size() > limit) out.topics.resize(limit);
  if (out.lags.size() > limit) out.lags.resize(limit);
  return out;
}

}  // namespace fmq::client
