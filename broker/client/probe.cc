#include "broker/client/probe.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "broker/base/mutex.h"
#include "broker/client/producer.h"
#include "broker/client/pull_consumer.h"
#include "broker/client/unique_id.h"

namespace fmq::client {

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// What the readers saw of one group's messages.
struct Seen {
  std::vector<int> order;  // indexes in arrival order (orderly: one queue)
  std::map<int, Clock::time_point> first;
  int duplicated = 0;
};

}  // namespace

bool GroupProbe::ok() const { return Problem().empty(); }

std::string GroupProbe::Problem() const {
  if (!error.empty()) return error;
  if (send_failed > 0) return std::to_string(send_failed) + " send(s) failed";
  if (sent == 0) return "nothing sent";
  if (received < sent) return "lost " + std::to_string(sent - received) + " of " + std::to_string(sent);
  if (!in_order) return "read back out of order";
  return "";
}

bool ProbeResult::ok() const {
  return !groups.empty() &&
         std::all_of(groups.begin(), groups.end(), [](const GroupProbe& g) { return g.ok(); });
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

Result<ProbeResult> RunProbe(const ClientOptions& client, const ProbeOptions& o) {
  const auto deadline = Clock::now() + o.timeout;
  const std::string run = "ferrymq-probe-" + UniqueIdGenerator().Next() + "-";

  PullConsumerConfig pc;
  pc.group = "ferrymq_probe";
  pc.client = client;
  pc.client.instance_name = "probe-reader";
  pc.pull_timeout = client.rpc_timeout + std::chrono::milliseconds(200);  // a 200 ms hold plus the network
  PullConsumer reader(pc);
  if (Status s = reader.Start(); !s.ok()) return s;
  auto queues = reader.FetchSubscribeQueues(o.topic);
  if (!queues.ok()) {
    reader.Stop();
    return queues.status();
  }

  // Every group of the route, plus the expected ones it lacks.
  std::map<std::string, std::vector<MessageQueue>> by_group;
  for (const auto& q : *queues) by_group[q.broker_name].push_back(q);
  std::map<std::string, GroupProbe> rows;
  for (const auto& [g, qs] : by_group) rows[g].group = g;
  for (const auto& g : o.expect_groups) {
    if (!by_group.count(g)) {
      rows[g].group = g;
      rows[g].error = "not in the route of topic " + o.topic;
    }
  }

  // The queues' ends before sending: reading starts there. A group that does not answer fails here.
  std::vector<std::pair<MessageQueue, int64_t>> starts;
  for (auto& [g, qs] : by_group) {
    if (o.orderly) qs.resize(1);
    for (const auto& q : qs) {
      auto end = reader.MaxOffset(q);
      if (!end.ok()) {
        rows[g].error =
            "reading queue " + std::to_string(q.queue_id) + ": " + std::string(end.status().message());
        break;
      }
      starts.emplace_back(q, *end);
    }
  }

  Mutex mu;
  std::map<std::string, Seen> seen;  // guarded by mu
  std::map<std::string, std::map<int, Clock::time_point>> sent_at;
  std::atomic<int> expected{-1};  // acknowledged sends, once all sends are done
  std::atomic<int> arrived{0};
  std::atomic<bool> stop{false};
  const Subscription sub = Subscription::Parse(o.topic, "*");
  std::vector<std::thread> readers;
  for (const auto& [queue, start] : starts) {
    if (!rows[queue.broker_name].error.empty()) continue;
    readers.emplace_back([&, queue = queue, offset = start]() mutable {
      while (!stop && Clock::now() < deadline) {
        auto r = reader.Pull(queue, sub, offset, 32, std::chrono::milliseconds(200));
        if (!r.ok()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        const auto now = Clock::now();
        for (const auto& m : r->messages) {
          if (!m.keys.starts_with(run)) continue;
          const size_t dash = m.keys.rfind('-');
          const std::string group = m.keys.substr(run.size(), dash - run.size());
          const int i = std::atoi(m.keys.c_str() + dash + 1);
          MutexLock lock(&mu);
          Seen& s = seen[group];
          if (!s.first.emplace(i, now).second) {
            ++s.duplicated;
            continue;
          }
          s.order.push_back(i);
          ++arrived;
        }
        offset = r->next_begin_offset;
        if (expected >= 0 && arrived >= expected) return;
      }
    });
  }

  ProducerConfig prc;
  prc.group = "ferrymq_probe";
  prc.client = client;
  prc.client.instance_name = "probe-writer";
  prc.send_timeout = o.send_timeout;
  prc.retry_times_when_send_failed = 0;
  prc.heartbeat = false;
  Producer producer(prc);
  Status started = producer.Start();
  int acknowledged = 0;
  const std::string body(static_cast<size_t>(std::max(o.size, 0)), 'p');
  for (auto& [g, qs] : by_group) {
    GroupProbe& row = rows[g];
    if (!started.ok() && row.error.empty()) row.error = std::string(started.message());
    if (!row.error.empty()) continue;
    for (int i = 0; i < o.count && Clock::now() < deadline; ++i) {
      Message m;
      m.topic = o.topic;
      m.keys = run + g + "-" + std::to_string(i);
      m.body = body;
      const auto t0 = Clock::now();
      {
        MutexLock lock(&mu);
        sent_at[g][i] = t0;
      }
      auto r = producer.Send(m, qs[static_cast<size_t>(i) % qs.size()]);
      if (!r.ok() || r->status != SendStatus::kSendOk) {
        ++row.send_failed;
        row.error =
            "send: " + (r.ok() ? std::string(SendStatusName(r->status)) : std::string(r.status().message()));
        break;  // one failure tells; the next sends would only wait out the same timeout
      }
      row.send_ms.push_back(Ms(Clock::now() - t0));
      ++row.sent;
      ++acknowledged;
    }
  }
  producer.Stop();
  expected = acknowledged;
  while (arrived < acknowledged && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& t : readers) t.join();
  reader.Stop();

  ProbeResult out;
  MutexLock lock(&mu);
  for (auto& [g, row] : rows) {
    const Seen& s = seen[g];
    row.duplicated = s.duplicated;
    for (const auto& [i, at] : s.first) {
      auto t = sent_at[g].find(i);
      if (t == sent_at[g].end() || i >= row.sent) continue;  // not acknowledged: not counted either way
      ++row.received;
      row.e2e_ms.push_back(Ms(at - t->second));
    }
    if (o.orderly) row.in_order = std::is_sorted(s.order.begin(), s.order.end());
    out.groups.push_back(std::move(row));
  }
  return out;
}

}  // namespace fmq::client
