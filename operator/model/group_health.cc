#include "operator/model/group_health.h"

#include <algorithm>
#include <map>
#include <set>

#include "broker/base/strings.h"

namespace fmq::op::model {
namespace {

bool IsDlq(const std::string& topic) { return topic.starts_with("%DLQ%"); }

api::Condition Make(const char* type, bool problem, std::string reason, std::string message) {
  return {type, std::string(problem ? api::kTrue : api::kFalse), std::move(reason), std::move(message), "",
          0};
}

std::string Plural(int64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "a 3, b 2" for the largest entries first, at most `limit`.
std::string Largest(std::map<std::string, int64_t> by, size_t limit = 5) {
  std::vector<std::pair<std::string, int64_t>> v(by.begin(), by.end());
  std::erase_if(v, [](const auto& e) { return e.second <= 0; });
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size() && i < limit; ++i)
    parts.push_back(v[i].first + " " + std::to_string(v[i].second));
  if (v.size() > limit) parts.push_back("...");
  return JoinStrings(parts, ", ");
}

api::Condition Lagging(const api::GroupAlertingSpec& t, const GroupHealthInput& in) {
  if (in.broadcast) {
    return Make("Lagging", false, "Broadcast",
                "a broadcasting group's offsets are kept by its clients, not by the brokers");
  }
  int64_t total = 0;
  int64_t oldest_ms = -1;  // age of the last consumed message on the stalest lagging queue; -1: none
  int never = 0;           // lagging queues the group never consumed from
  std::map<std::string, int64_t> by_topic;
  for (const QueueLag& q : in.queues) {
    if (IsDlq(q.topic)) continue;  // dead letters are their own condition
    const int64_t lag = std::max<int64_t>(0, q.broker_offset - q.consumer_offset);
    if (lag == 0) continue;
    total += lag;
    by_topic[q.topic] += lag;
    if (q.last_timestamp <= 0) {
      ++never;
    } else {
      oldest_ms = std::max(oldest_ms, in.now_ms - q.last_timestamp);
    }
  }
  const int64_t limit_ms = int64_t{t.lag_seconds} * 1000;
  const bool old = never > 0 || oldest_ms > limit_ms;
  const std::string age =
      never > 0        ? Plural(never, "lagging queue was", "lagging queues were") + " never consumed from"
      : oldest_ms >= 0 ? "the last consumed message on a lagging queue was stored " +
                             std::to_string(oldest_ms / 1000) + " s ago"
                       : "";
  if (total > t.lag_messages && old) {
    return Make("Lagging", true, "BacklogTooLarge",
                Plural(total, "message", "messages") + " not consumed (more than " +
                    std::to_string(t.lag_messages) + ": " + Largest(by_topic) + ") and " + age +
                    " (more than " + std::to_string(t.lag_seconds) + " s)");
  }
  if (total == 0) return Make("Lagging", false, "CaughtUp", "every message is consumed");
  return Make("Lagging", false, "WithinThreshold",
              Plural(total, "message", "messages") + " not consumed" + (age.empty() ? "" : "; " + age) +
                  " (thresholds: more than " + std::to_string(t.lag_messages) + " messages and " +
                  std::to_string(t.lag_seconds) + " s)");
}

api::Condition ConsumeFailing(const api::GroupAlertingSpec& t, const GroupHealthInput& in) {
  std::map<std::string, int64_t> backs;
  int64_t sent_back = 0;
  for (const auto& c : in.counts) {
    backs[c.topic] += c.send_backs;
    sent_back += c.send_backs;
  }
  std::map<std::string, int64_t> by_client;
  int64_t reported = 0;
  for (const auto& c : in.clients) {
    if (!c.error.empty()) continue;
    by_client[c.client_id] += c.consume_failed_last_hour;
    reported += c.consume_failed_last_hour;
  }
  const int64_t failures = std::max(sent_back, reported);
  const std::string where = sent_back >= reported ? "handed back for a retry: " + Largest(backs)
                                                  : "reported by the clients: " + Largest(by_client);
  if (failures > t.consume_failures_per_hour) {
    return Make("ConsumeFailing", true, "ConsumeFailures",
                Plural(failures, "failed consumption", "failed consumptions") +
                    " in the last hour (more than " + std::to_string(t.consume_failures_per_hour) + "), " +
                    where);
  }
  return Make("ConsumeFailing", false, failures == 0 ? "NoFailures" : "WithinThreshold",
              Plural(failures, "failed consumption", "failed consumptions") +
                  " in the last hour (threshold: more than " + std::to_string(t.consume_failures_per_hour) +
                  ")");
}

api::Condition DeadLetters(const api::GroupAlertingSpec& t, const GroupHealthInput& in) {
  std::map<std::string, int64_t> by_topic;
  int64_t total = 0;
  for (const auto& c : in.counts) {
    by_topic[c.topic] += c.dead_letters;
    total += c.dead_letters;
  }
  if (total > t.dead_letters_per_hour) {
    return Make("DeadLetters", true, "DeadLetters",
                Plural(total, "message", "messages") +
                    " moved to the dead-letter queue in the last hour (more than " +
                    std::to_string(t.dead_letters_per_hour) + "): " + Largest(by_topic));
  }
  return Make("DeadLetters", false, total == 0 ? "NoDeadLetters" : "WithinThreshold",
              Plural(total, "message", "messages") +
                  " moved to the dead-letter queue in the last hour (threshold: more than " +
                  std::to_string(t.dead_letters_per_hour) + ")");
}

api::Condition OffsetMoved(const GroupHealthInput& in) {
  std::map<std::string, int64_t> by_topic;
  int64_t total = 0;
  for (const auto& c : in.counts) {
    by_topic[c.topic] += c.offset_moves;
    total += c.offset_moves;
  }
  if (total > 0) {
    return Make("OffsetMoved", true, "OffsetOutOfRange",
                Plural(total, "pull", "pulls") +
                    " in the last hour asked for an offset outside the queue and " +
                    "were moved (messages skipped or read again): " + Largest(by_topic));
  }
  return Make("OffsetMoved", false, "NoOffsetMoved", "no offset of the group was moved in the last hour");
}

api::Condition ClientsBlocked(const api::GroupAlertingSpec& t, const GroupHealthInput& in) {
  if (in.online_clients == 0)
    return Make("ClientsBlocked", false, "NoClients", "no consumer of the group is online");
  std::vector<std::string> blocked;
  int answered = 0;
  std::vector<std::string> silent;
  for (const auto& c : in.clients) {
    if (!c.error.empty()) {
      silent.push_back(c.client_id);
      continue;
    }
    ++answered;
    if (!c.push || c.orderly) continue;
    for (const auto& q : c.queues) {
      if (q.dropped || q.cached_messages < t.blocked_messages || q.last_consume_ms <= 0) continue;
      const int64_t idle_ms = in.now_ms - q.last_consume_ms;
      if (idle_ms < int64_t{t.blocked_seconds} * 1000) continue;
      blocked.push_back(c.client_id + " on " + q.name + " (" + std::to_string(q.cached_messages) +
                        " messages held, nothing consumed for " + std::to_string(idle_ms / 1000) + " s)");
    }
  }
  if (!blocked.empty()) {
    const size_t n = blocked.size();
    if (n > 5) blocked.resize(5), blocked.push_back("...");
    return Make("ClientsBlocked", true, "ClientsBlocked",
                Plural(static_cast<int64_t>(n), "queue is", "queues are") +
                    " blocked: " + JoinStrings(blocked, "; "));
  }
  if (answered == 0) {
    return {"ClientsBlocked",
            std::string(api::kUnknown),
            "NoRunningInfo",
            "no online consumer answered GET_CONSUMER_RUNNING_INFO (" + JoinStrings(silent, ", ") + ")",
            "",
            0};
  }
  return Make("ClientsBlocked", false, "NotBlocked",
              Plural(answered, "client", "clients") +
                  " consuming (threshold: " + std::to_string(t.blocked_messages) + " messages held for " +
                  std::to_string(t.blocked_seconds) + " s)");
}

api::Condition SubscriptionInconsistent(const GroupHealthInput& in) {
  std::map<std::vector<std::string>, std::vector<std::string>> by_set;  // subscriptions -> clients
  for (const auto& c : in.clients) {
    if (c.error.empty()) by_set[c.subscriptions].push_back(c.client_id);
  }
  if (by_set.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [subs, clients] : by_set) {
      parts.push_back(JoinStrings(clients, ", ") + ": " +
                      (subs.empty() ? "nothing" : JoinStrings(subs, "; ")));
      if (parts.size() == 4) break;
    }
    return Make(
        "SubscriptionInconsistent", true, "SubscriptionsDiffer",
        "the group's clients subscribe differently (each client receives only part of the messages of a "
        "topic the others subscribe): " +
            JoinStrings(parts, " | "));
  }
  if (by_set.empty()) {
    return Make("SubscriptionInconsistent", false, "NoClients",
                "no online consumer reported its subscriptions");
  }
  return Make("SubscriptionInconsistent", false, "Consistent",
              "every client subscribes " + (by_set.begin()->first.empty()
                                                ? std::string("nothing")
                                                : JoinStrings(by_set.begin()->first, "; ")));
}

}  // namespace

ClientTotals SumClients(const std::vector<ClientReport>& clients) {
  ClientTotals t;
  for (const auto& c : clients) {
    if (!c.error.empty()) continue;
    ++t.reporting;
    t.ok_tps += c.consume_ok_tps;
    t.failed_tps += c.consume_failed_tps;
    t.max_rt_ms = std::max(t.max_rt_ms, c.consume_rt_ms);
    for (const auto& q : c.queues) {
      if (!q.dropped) t.cached_messages += q.cached_messages;
    }
  }
  return t;
}

std::vector<api::Condition> GroupHealth(const api::GroupAlertingSpec& thresholds,
                                        const GroupHealthInput& in) {
  return {Lagging(thresholds, in), ConsumeFailing(thresholds, in), DeadLetters(thresholds, in),
          OffsetMoved(in),         ClientsBlocked(thresholds, in), SubscriptionInconsistent(in)};
}

}  // namespace fmq::op::model
