#pragma once

// ReadOverview: what the RocketMQ console's overview page shows, from the admin protocol (ferryctl top):
// messages in and out per second over the last minute per topic (VIEW_BROKER_STATS_DATA TOPIC_PUT_NUMS,
// GROUP_GET_NUMS), and the consumer groups furthest behind (GET_CONSUME_STATS) with their online clients.
// Retry, dead-letter and system topics and system groups are left out (a group's retries count in its lag).
//
// Thread-safety: a free function; `admin` must be started.

#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/client/admin.h"

namespace fmq::client {

struct TopicTraffic {
  std::string topic;
  double in_tps = 0;   // last minute, every master
  double out_tps = 0;  // last minute, every group
};

struct GroupLag {
  std::string group;
  std::string topic;
  int64_t lag = 0;      // over every master's queues (the group's retry topic counts on its own row)
  double out_tps = 0;   // the group's reads of the topic, last minute
  int64_t clients = 0;  // online consumers of the group (the most any master sees)
};

struct Overview {
  double in_tps = 0;
  double out_tps = 0;
  std::vector<TopicTraffic> topics;  // busiest first, at most `limit`
  std::vector<GroupLag> lags;        // furthest behind first, at most `limit`
  size_t topic_count = 0;            // before the limit
  size_t lag_rows = 0;               // (group, topic) rows before the limit
};

// `cluster` empty: every cluster the name servers know.
Result<Overview> ReadOverview(Admin& admin, const std::string& cluster, size_t limit);

}  // namespace fmq::client
