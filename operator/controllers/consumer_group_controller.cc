#include "operator/controllers/consumer_group_controller.h"

#include <algorithm>
#include <map>
#include <set>

#include "broker/base/logging.h"
#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "broker/model/names.h"
#include "broker/model/stats_items.h"
#include "operator/controllers/resource_steps.h"
#include "operator/model/group_health.h"
#include "operator/model/group_plan.h"
#include "operator/model/topic_plan.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// The broker's subscription-group config (broker/model), not to be confused with operator/model.
using SubscriptionGroupConfig = ::fmq::model::SubscriptionGroupConfig;
namespace bm = ::fmq::model;

constexpr milliseconds kRecheckNotReady{10'000};

constexpr StatusTarget kStatus{&kube::kinds::kFerryConsumerGroup, "ConsumerGroup", "GroupSynced"};

model::BrokerGroupConfig Managed(const SubscriptionGroupConfig& c) {
  return {c.consume_enable,
          c.consume_broadcast_enable,
          c.consume_from_min_enable,
          c.consume_message_orderly,
          c.retry_max_times,
          c.retry_queue_nums,
          c.which_broker_when_consume_slowly};
}

// The broker's config with the managed fields as the spec wants them; brokerId and
// notifyConsumerIdsChangedEnable stay as the broker has them.
SubscriptionGroupConfig Merge(const std::string& group, const model::BrokerGroupConfig& want,
                              const std::optional<SubscriptionGroupConfig>& current) {
  SubscriptionGroupConfig c = current.value_or(SubscriptionGroupConfig{});
  c.group_name = group;
  c.consume_enable = want.consume_enable;
  c.consume_broadcast_enable = want.consume_broadcast_enable;
  c.consume_from_min_enable = want.consume_from_min_enable;
  c.consume_message_orderly = want.consume_message_orderly;
  c.retry_max_times = want.retry_max_times;
  c.retry_queue_nums = want.retry_queue_nums;
  c.which_broker_when_consume_slowly = want.which_broker_when_consume_slowly;
  return c;
}

// What the target masters say about the group's consumers and progress.
struct Consumption {
  std::set<std::string> clients;
  std::map<std::string, std::string> client_broker;  // client id -> a master it is connected to
  std::map<std::string, std::string> subscriptions;  // topic -> expression
  std::vector<model::QueueLag> queues;
  std::vector<std::string> errors;
};

Consumption ObserveConsumption(client::Admin& admin, const std::string& group,
                               const std::vector<std::pair<std::string, std::string>>& masters) {
  Consumption c;
  for (const auto& [name, addr] : masters) {
    auto conns = admin.GetConsumerConnectionsAt(addr, group);
    if (!conns.ok()) {
      c.errors.push_back(name + ": " + std::string(conns.status().message()));
    } else {
      for (const auto& cc : conns->connection_set) {
        c.clients.insert(cc.client_id);
        c.client_broker.emplace(cc.client_id, addr);
      }
      for (const auto& [topic, sub] : conns->subscription_table) c.subscriptions[topic] = sub.sub_string;
    }
    auto stats = admin.GetConsumeStatsAt(addr, group);
    if (!stats.ok()) {
      c.errors.push_back(name + ": " + std::string(stats.status().message()));
      continue;
    }
    for (const auto& [mq, off] : stats->offset_table) {
      c.queues.push_back({mq.topic, off.broker_offset, off.consumer_offset, off.last_timestamp});
    }
  }
  return c;
}

// The health step's inputs beyond the consume stats: the masters' counts of the last hour for every topic the
// group has progress on (a retried message counts under the topic it came from, so %RETRY% only adds its own
// offset moves), and the running info of up to kMaxListedClients online clients. A count that cannot be read
// is an error (the conditions are then left as they were); a client that does not answer is only reported.
model::GroupHealthInput ObserveHealth(client::Admin& admin, const std::string& group,
                                      const std::vector<std::pair<std::string, std::string>>& masters,
                                      const Consumption& seen, int64_t now_ms,
                                      std::vector<std::string>* errors) {
  model::GroupHealthInput in;
  in.now_ms = now_ms;
  in.queues = seen.queues;
  in.online_clients = static_cast<int64_t>(seen.clients.size());
  std::set<std::string> topics;
  for (const auto& q : seen.queues) {
    if (!bm::IsDlqTopic(q.topic)) topics.insert(q.topic);
  }
  for (const auto& topic : topics) {
    model::GroupHourCounts counts{topic};
    for (const auto& [name, addr] : masters) {
      for (auto [stat, into] : {std::pair{bm::stats_item::kSendBackNums, &counts.send_backs},
                                {bm::stats_item::kDeadPutNums, &counts.dead_letters},
                                {bm::stats_item::kOffsetMovedNums, &counts.offset_moves}}) {
        auto sums = admin.BrokerStatsAt(addr, stat, bm::stats_item::GroupKey(topic, group));
        if (!sums.ok()) {
          errors->push_back(name + ": " + std::string(sums.status().message()));
          return in;
        }
        *into += sums->hour;
      }
    }
    in.counts.push_back(std::move(counts));
  }
  for (const auto& [client_id, addr] : seen.client_broker) {
    if (in.clients.size() == api::kMaxListedClients) break;
    model::ClientReport r;
    r.client_id = client_id;
    auto info = admin.ConsumerRunningInfoAt(addr, group, client_id);
    if (!info.ok()) {
      r.error = std::string(info.status().message());
      in.clients.push_back(std::move(r));
      continue;
    }
    r.push = info->push();
    r.orderly = info->orderly();
    for (const auto& sub : info->subscriptions) r.subscriptions.push_back(sub.topic + "=" + sub.sub_string);
    std::sort(r.subscriptions.begin(), r.subscriptions.end());
    for (const auto& [mq, pq] : info->mq_table) {
      r.queues.push_back({mq.topic + "@" + mq.broker_name + "#" + std::to_string(mq.queue_id),
                          pq.cached_msg_count, pq.last_consume_timestamp, pq.dropped});
    }
    for (const auto& [topic, st] : info->status_table) {
      r.consume_failed_last_hour += st.consume_failed_msgs;
      r.consume_ok_tps += st.consume_ok_tps;
      r.consume_failed_tps += st.consume_failed_tps;
      r.consume_rt_ms = std::max(r.consume_rt_ms, st.consume_rt);
    }
    in.clients.push_back(std::move(r));
  }
  return in;
}

}  // namespace

ConsumerGroupReconciler::ConsumerGroupReconciler(Deps deps, ConsumerGroupOptions options)
    : d_(std::move(deps)), o_(options) {
  if (o_.metrics == nullptr) return;
  condition_gauge_ = &o_.metrics->AddGauge(
      "ferrymq_operator_consumer_group_condition",
      "1 while the ConsumerGroup's health condition is True (a problem), 0 while False; absent when Unknown.",
      {"namespace", "name", "consumer_group", "condition"});
  threshold_gauge_ = &o_.metrics->AddGauge("ferrymq_operator_consumer_group_threshold",
                                           "The ConsumerGroup's spec.alerting thresholds, which the chart's "
                                           "alert rules use instead of the defaults.",
                                           {"namespace", "name", "consumer_group", "threshold"});
  const std::vector<std::string> group = {"namespace", "name", "consumer_group"};
  clients_gauge_ =
      &o_.metrics->AddGauge("ferrymq_operator_consumer_group_clients_reporting",
                            "Online consumers of the group that answered GET_CONSUMER_RUNNING_INFO "
                            "(at most 20 are asked per status refresh).",
                            group);
  tps_gauge_ = &o_.metrics->AddGauge("ferrymq_operator_consumer_group_consume_tps",
                                     "Messages the group's clients consumed per second, as they report it, "
                                     "by result (ok, failed).",
                                     {"namespace", "name", "consumer_group", "result"});
  rt_gauge_ = &o_.metrics->AddGauge("ferrymq_operator_consumer_group_consume_rt_milliseconds",
                                    "The slowest client's average time in the listener per call.", group);
  cached_gauge_ =
      &o_.metrics->AddGauge("ferrymq_operator_consumer_group_cached_messages",
                            "Messages the group's clients have pulled and not yet consumed.", group);
}

void ConsumerGroupReconciler::ReportMetrics(const std::string& key, const api::ConsumerGroup* cg,
                                            const std::vector<api::Condition>& health,
                                            const std::optional<model::ClientTotals>& clients) {
  if (condition_gauge_ == nullptr) return;
  const auto split = SplitKey(key);
  const std::string ns = split.first, name = split.second;
  MutexLock lock(&mu_);
  auto drop = [&](const std::string& group) {
    for (GaugeFamily* f :
         {condition_gauge_, threshold_gauge_, clients_gauge_, tps_gauge_, rt_gauge_, cached_gauge_}) {
      for (const auto& series : f->Series()) {
        if (series[0] == ns && series[1] == name && series[2] == group) f->Remove(series);
      }
    }
  };
  auto known = group_of_key_.find(key);
  if (known != group_of_key_.end() && (cg == nullptr || known->second != cg->spec.group_name)) {
    drop(known->second);
    group_of_key_.erase(known);
  }
  if (cg == nullptr) return;
  const std::string& group = cg->spec.group_name;
  group_of_key_[key] = group;
  const api::GroupAlertingSpec& t = cg->spec.alerting;
  for (auto [threshold, value] : {std::pair{"lag_messages", t.lag_messages},
                                  {"lag_seconds", t.lag_seconds},
                                  {"consume_failures_per_hour", t.consume_failures_per_hour},
                                  {"dead_letters_per_hour", t.dead_letters_per_hour},
                                  {"blocked_seconds", t.blocked_seconds},
                                  {"blocked_messages", t.blocked_messages}}) {
    threshold_gauge_->WithLabels({ns, name, group, threshold}).Set(value);
  }
  if (clients) {
    clients_gauge_->WithLabels({ns, name, group}).Set(static_cast<double>(clients->reporting));
    tps_gauge_->WithLabels({ns, name, group, "ok"}).Set(clients->ok_tps);
    tps_gauge_->WithLabels({ns, name, group, "failed"}).Set(clients->failed_tps);
    rt_gauge_->WithLabels({ns, name, group}).Set(clients->max_rt_ms);
    cached_gauge_->WithLabels({ns, name, group}).Set(static_cast<double>(clients->cached_messages));
  }
  for (const auto& c : health) {
    const std::vector<std::string> labels = {ns, name, group, c.type};
    if (c.status == api::kUnknown) {
      condition_gauge_->Remove(labels);
    } else {
      condition_gauge_->WithLabels(labels).Set(c.status == api::kTrue ? 1 : 0);
    }
  }
}

void ConsumerGroupReconciler::RecordEvent(const api::ObjectMeta& meta, bool normal, const std::string& reason,
                                          const std::string& message) {
  if (d_.events == nullptr) return;
  Status st =
      d_.events->Record(InvolvedObject("ConsumerGroup", meta),
                        normal ? kube::EventType::kNormal : kube::EventType::kWarning, reason, message);
  if (!st.ok()) GetLogger("operator")->warn("cannot record event group={}: {}", meta.Key(), st.message());
}

Status ConsumerGroupReconciler::SetFinalizer(const json& obj, bool present) {
  return controllers::SetFinalizer(*d_.kube, kube::kinds::kFerryConsumerGroup, obj, api::kGroupFinalizer,
                                   present);
}

Status ConsumerGroupReconciler::WriteStatus(const json& obj, api::ConsumerGroupStatus status, bool ready,
                                            const std::string& reason, const std::string& message,
                                            const std::vector<api::Condition>& health) {
  return WriteReadyStatus(d_, kStatus, obj, api::ConsumerGroupStatusToJson(status), ready, reason, message,
                          health);
}

Outcome ConsumerGroupReconciler::Reconcile(const std::string& key) {
  auto log = GetLogger("operator");
  const auto [ns, name] = SplitKey(key);
  // --- observe: the object, its Cluster, the masters
  std::optional<json> obj = d_.reader->Get(kube::kinds::kFerryConsumerGroup, ns, name);
  if (!obj) {
    ReportMetrics(key, nullptr, {}, std::nullopt);
    return {};
  }
  api::ObjectMeta meta = api::MetaFromJson(*obj);
  if (meta.being_deleted()) return Finalize(*obj, meta);

  api::ConsumerGroupStatus status = api::ConsumerGroupStatusFromJson(obj->value("status", json::object()));
  auto fail = [&](const std::string& reason, const std::string& message, std::optional<milliseconds> again) {
    Status st = WriteStatus(*obj, status, false, reason, message);
    return Outcome{st, st.ok() ? again : std::nullopt};
  };
  auto parsed = api::ConsumerGroupFromJson(*obj);
  if (!parsed.ok()) return fail("InvalidSpec", std::string(parsed.status().message()), std::nullopt);
  const api::ConsumerGroup& cg = *parsed;
  const std::string& group = cg.spec.group_name;
  status.group_name = group;

  const bool want_finalizer = cg.spec.deletion_policy == "Delete";
  if (meta.HasFinalizer(api::kGroupFinalizer) != want_finalizer) {
    return {SetFinalizer(*obj, want_finalizer), std::nullopt};  // its watch event brings the next pass
  }

  const api::ClusterRef& ref = cg.spec.cluster_ref;
  ClusterLookup cluster = LookupCluster(*d_.reader, ref);
  if (!cluster.cluster) return fail(cluster.reason, cluster.message, kRecheckNotReady);
  auto older = OlderClaimant(*d_.reader, kube::kinds::kFerryConsumerGroup, meta, ref, group,
                             [](const json& o) -> std::optional<std::pair<api::ClusterRef, std::string>> {
                               auto g = api::ConsumerGroupFromJson(o);
                               if (!g.ok()) return std::nullopt;
                               return std::pair{g->spec.cluster_ref, g->spec.group_name};
                             });
  if (older) {
    return fail("ResourceConflict", "consumer group " + group + " is managed by ConsumerGroup " + *older,
                std::nullopt);
  }
  auto targets = model::TargetGroups(cg.spec.broker_groups, ClusterGroupNames(*cluster.cluster));
  if (!targets.ok()) return fail("InvalidSpec", std::string(targets.status().message()), std::nullopt);
  MastersView view = ConnectMasters(d_, *cluster.cluster);
  if (!view.reason.empty()) return fail(view.reason, view.message, kRecheckNotReady);
  client::Admin* admin = view.admin.get();
  const std::map<std::string, std::string>* masters = &view.masters;
  std::vector<std::string> missing;
  std::vector<std::pair<std::string, std::string>> target_masters;  // (group, address)
  for (const auto& g : *targets) {
    if (auto m = masters->find(g); m != masters->end()) {
      target_masters.emplace_back(g, m->second);
    } else {
      missing.push_back(g);
    }
  }
  if (!missing.empty()) {
    return fail("ClusterNotReady",
                "no master registered with the name servers for " + JoinStrings(missing, ", "),
                kRecheckNotReady);
  }

  // --- decide and act: the subscription-group config on every target master
  std::vector<std::string> errors, applied;
  const model::BrokerGroupConfig want = model::DesiredGroupConfig(cg.spec);
  for (const auto& [g, addr] : target_masters) {
    auto table = admin->GetAllSubscriptionGroupConfig(addr);
    if (!table.ok()) {
      errors.push_back(g + ": " + std::string(table.status().message()));
      if (std::find(status.broker_groups.begin(), status.broker_groups.end(), g) !=
          status.broker_groups.end()) {
        applied.push_back(g);  // keep what a previous pass recorded
      }
      continue;
    }
    std::optional<SubscriptionGroupConfig> current;
    if (auto it = table->find(group); it != table->end()) current = it->second;
    model::GroupDecision decision =
        model::DecideGroup(cg.spec, g, current ? std::optional(Managed(*current)) : std::nullopt);
    if (decision.kind == model::GroupDecision::Kind::kApply) {
      if (Status st = admin->CreateSubscriptionGroupAt(addr, Merge(group, want, current)); !st.ok()) {
        errors.push_back(g + ": " + std::string(st.message()));
        if (current) applied.push_back(g);
        continue;
      }
      log->info("group={} broker={}: {}", key, addr, decision.message);
      if (current) RecordEvent(meta, true, "DriftReverted", decision.message);
    }
    applied.push_back(g);
  }
  // Groups the ConsumerGroup no longer targets lose it; one that could not (yet) stays recorded.
  for (const auto& dropped :
       model::DroppedNames(status.broker_groups, *targets, ClusterGroupNames(*cluster.cluster))) {
    auto m = masters->find(dropped);
    Status st =
        m == masters->end()
            ? Status::Unavailable("no master registered; " + group + " is removed from it once it has one")
            : admin->DeleteSubscriptionGroupAt(m->second, group, cg.spec.deletion_policy == "Delete");
    if (st.ok()) {
      log->info("group={} broker group={}: removed {} (no longer in spec.brokerGroups)", key, dropped, group);
      continue;
    }
    errors.push_back(dropped + ": " + std::string(st.message()));
    applied.push_back(dropped);
  }
  status.broker_groups = applied;

  // --- observe consumption: clients, subscriptions, lag
  Consumption seen = ObserveConsumption(*admin, group, target_masters);
  errors.insert(errors.end(), seen.errors.begin(), seen.errors.end());
  status.online_clients = static_cast<int64_t>(seen.clients.size());
  status.clients.assign(seen.clients.begin(), seen.clients.end());
  if (status.clients.size() > api::kMaxListedClients) status.clients.resize(api::kMaxListedClients);
  status.subscriptions.clear();
  for (const auto& [topic, expr] : seen.subscriptions) status.subscriptions.push_back({topic, expr});
  status.lag = model::LagByTopic(seen.queues, &status.total_lag);

  // --- decide and act: spec.resetOffset
  std::optional<milliseconds> again = o_.status_refresh;
  const std::string now = FormatRfc3339(d_.clock->NowMillis());
  model::ResetDecision reset =
      model::DecideReset(cg.spec.reset_offset, status.last_reset, status.online_clients);
  if (reset.kind != model::ResetDecision::Kind::kNone && !seen.errors.empty()) {
    // Who is online is not known for sure: neither refuse nor apply on a partial view.
    reset.kind = model::ResetDecision::Kind::kNone;
  }
  if (reset.kind == model::ResetDecision::Kind::kRefuse) {
    const api::ResetOffsetSpec& r = *cg.spec.reset_offset;
    const bool first =
        !status.last_reset || status.last_reset->id != r.id || status.last_reset->result != "Refused";
    status.last_reset =
        api::LastResetStatus{r.id, r.to, "Refused", reset.message, first ? now : status.last_reset->time, 0};
    if (first) RecordEvent(meta, false, "ResetRefused", reset.message);
    again = kRecheckNotReady;
  } else if (reset.kind == model::ResetDecision::Kind::kApply) {
    const api::ResetOffsetSpec& r = *cg.spec.reset_offset;
    auto ts = client::ResetTimestampOf(r.to, d_.clock->NowMillis());
    if (!ts.ok()) {
      status.last_reset =
          api::LastResetStatus{r.id, r.to, "Invalid", std::string(ts.status().message()), now, 0};
      RecordEvent(meta, false, "ResetInvalid", "reset " + r.id + ": " + std::string(ts.status().message()));
    } else {
      std::vector<std::string> topics = r.topics.empty() ? model::DefaultResetTopics(seen.queues) : r.topics;
      int64_t moved = 0;
      std::vector<std::string> reset_errors;
      for (const auto& topic : topics) {
        auto table = admin->ResetOffsetByTime(topic, group, *ts, /*force=*/true);
        if (!table.ok()) {
          reset_errors.push_back(topic + ": " + std::string(table.status().message()));
          continue;
        }
        moved += static_cast<int64_t>(table->size());
      }
      if (reset_errors.empty()) {
        const std::string msg = "reset " + r.id + ": " + std::to_string(moved) + " queue(s) of " +
                                (topics.empty() ? std::string("no topic (the group has no offsets)")
                                                : JoinStrings(topics, ", ")) +
                                " moved to " + r.to;
        status.last_reset = api::LastResetStatus{r.id, r.to, "Applied", msg, now, moved};
        log->info("group={}: {}", key, msg);
        RecordEvent(meta, true, "OffsetReset", msg);
        again = kRecheckNotReady;  // read the lag the reset made
      } else {
        const std::string msg = "reset " + r.id + " failed: " + JoinStrings(reset_errors, "; ");
        status.last_reset = api::LastResetStatus{r.id, r.to, "Failed", msg, now, moved};
        RecordEvent(meta, false, "ResetFailed", msg);
        errors.push_back(msg);
      }
    }
  }

  // --- health: MQCloud's alerts as conditions (only on a complete view)
  std::vector<api::Condition> health;
  std::optional<model::ClientTotals> client_totals;
  if (errors.empty()) {
    model::GroupHealthInput in =
        ObserveHealth(*admin, group, target_masters, seen, d_.clock->NowMillis(), &errors);
    in.broadcast = cg.spec.consume_mode == "Broadcast";
    if (errors.empty()) {
      health = model::GroupHealth(cg.spec.alerting, in);
      client_totals = model::SumClients(in.clients);
    }
  }

  // --- report
  if (!errors.empty()) return fail("BrokerError", JoinStrings(errors, "; "), kRecheckNotReady);
  const std::vector<api::Condition> before = status.conditions;
  Status st = WriteStatus(
      *obj, status, true, "Synced",
      "consumer group " + group + " is on " + JoinStrings(*targets, ", ") + " as specified", health);
  if (!st.ok()) return {st, std::nullopt};
  ReportMetrics(key, &cg, health, client_totals);
  for (const api::Condition& c : health) {
    const api::Condition* old = api::FindCondition(before, c.type);
    if (old != nullptr ? old->status == c.status : c.status != api::kTrue) continue;
    if (c.status == api::kTrue) {
      RecordEvent(meta, false, c.type, c.message);
    } else if (c.status == api::kFalse) {
      RecordEvent(meta, true, c.type + "Resolved", c.message);
    }
  }
  return {Status::Ok(), again};
}

Outcome ConsumerGroupReconciler::Finalize(const json& obj, const api::ObjectMeta& meta) {
  if (!meta.HasFinalizer(api::kGroupFinalizer)) return {};
  auto log = GetLogger("operator");
  auto parsed = api::ConsumerGroupFromJson(obj);
  api::ConsumerGroupStatus status = api::ConsumerGroupStatusFromJson(obj.value("status", json::object()));
  if (!parsed.ok() || parsed->spec.deletion_policy == "Retain")
    return {SetFinalizer(obj, false), std::nullopt};
  const api::ConsumerGroup& cg = *parsed;
  const api::ClusterRef& ref = cg.spec.cluster_ref;
  ClusterLookup cluster = LookupCluster(*d_.reader, ref);
  if (!cluster.cluster) {
    log->info("group={}: Cluster {}/{} is gone; releasing the finalizer", meta.Key(), ref.namespace_,
              ref.name);
    return {SetFinalizer(obj, false), std::nullopt};
  }
  auto blocked = [&](const std::string& message) {
    Status st = WriteStatus(obj, status, false, "DeletionBlocked", message);
    return Outcome{st, st.ok() ? std::optional<milliseconds>(kRecheckNotReady) : std::nullopt};
  };
  MastersView view = ConnectMasters(d_, *cluster.cluster);
  if (!view.reason.empty()) return blocked("cannot reach the name servers: " + view.message);
  client::Admin* admin = view.admin.get();
  const std::map<std::string, std::string>* masters = &view.masters;
  // Every group the spec targets and every group a pass recorded.
  auto targets = model::TargetGroups(cg.spec.broker_groups, ClusterGroupNames(*cluster.cluster));
  std::vector<std::string> groups = targets.ok() ? *targets : ClusterGroupNames(*cluster.cluster);
  for (const auto& g : status.broker_groups) {
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  std::vector<std::pair<std::string, std::string>> present;
  for (const auto& g : groups) {
    if (auto m = masters->find(g); m != masters->end()) present.emplace_back(g, m->second);
  }
  const std::string& group = cg.spec.group_name;
  if (!meta.AnnotationTrue(api::kForceDeleteAnnotation)) {
    std::set<std::string> online;
    for (const auto& [g, addr] : present) {
      auto conns = admin->GetConsumerConnectionsAt(addr, group);
      if (!conns.ok()) {
        return blocked("cannot ask " + g + " who consumes as " + group + ": " +
                       std::string(conns.status().message()));
      }
      for (const auto& c : conns->connection_set) online.insert(c.client_id);
    }
    if (!online.empty()) {
      return blocked("consumer group " + group + " has " + std::to_string(online.size()) +
                     " consumer(s) online (" + JoinStrings({online.begin(), online.end()}, ", ") +
                     "); stop them or set the annotation " + std::string(api::kForceDeleteAnnotation) +
                     "=\"true\"");
    }
  }
  std::vector<std::string> cleaned;
  for (const auto& [g, addr] : present) {
    Status st = admin->DeleteSubscriptionGroupAt(addr, group, /*remove_offsets=*/true);
    if (!st.ok()) return blocked("cannot delete " + group + " on " + g + ": " + std::string(st.message()));
    cleaned.push_back(g);
  }
  log->info("group={}: deleted {} and its offsets from {}", meta.Key(), group, JoinStrings(cleaned, ", "));
  RecordEvent(meta, true, "GroupDeleted",
              "deleted " + group + " and its offsets from " + JoinStrings(cleaned, ", "));
  return {SetFinalizer(obj, false), std::nullopt};
}

}  // namespace fmq::op::controllers
