#include "broker/server/backlog.h"

#include <algorithm>
#include <limits>

#include "broker/model/timer.h"

namespace fmq::server {

Backlog ComputeBacklog(const BacklogInput& in) {
  Backlog b;
  std::map<std::string, int64_t> per_topic;
  for (const auto& [topic, queues] : in.queues) {
    if (in.ignored.count(topic) || topic == model::kTimerTopic) continue;
    auto groups = in.consumed.find(topic);
    for (size_t q = 0; q < queues.size(); ++q) {
      const QueueRange& r = queues[q];
      int64_t from = r.min;
      if (groups != in.consumed.end() && !groups->second.empty()) {
        int64_t lowest = std::numeric_limits<int64_t>::max();
        for (const auto& [group, offsets] : groups->second) {
          auto o = offsets.find(static_cast<int32_t>(q));
          lowest = std::min(lowest, o == offsets.end() ? r.min : o->second);
        }
        from = std::max(from, lowest);
      }
      if (r.max > from) per_topic[topic] += r.max - from;
    }
  }
  if (in.timer_pending > 0) per_topic[model::kTimerTopic] += in.timer_pending;
  for (const auto& [topic, n] : per_topic) {
    b.total += n;
    b.by_topic.emplace_back(topic, n);
  }
  std::stable_sort(b.by_topic.begin(), b.by_topic.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  return b;
}

std::string DescribeBacklog(const Backlog& b, size_t limit) {
  std::string out;
  for (size_t i = 0; i < b.by_topic.size() && i < limit; ++i) {
    if (!out.empty()) out += ",";
    out += b.by_topic[i].first + ":" + std::to_string(b.by_topic[i].second);
  }
  return out;
}

}  // namespace fmq::server
