#include "operator/controllers/topic_controller.h"

#include <algorithm>

#include "broker/base/logging.h"
#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "broker/model/stats_items.h"
#include "operator/controllers/resource_steps.h"
#include "operator/model/cluster_status.h"
#include "operator/model/topic_plan.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;
namespace bm = ::fmq::model;  // the broker's model (op::model is the operator's)
using std::chrono::milliseconds;

constexpr milliseconds kRecheckNotReady{10'000};

constexpr StatusTarget kStatus{&kube::kinds::kFerryTopic, "Topic", "TopicSynced"};

// The traffic the status shows, read with the drift check: messages in and out over the last minute, the
// producer and consumer groups seen, and per broker group the messages held and the newest store time. A
// broker that cannot be asked leaves the last traffic in place (it is an observation, not the sync).
void ObserveTraffic(client::Admin& admin, const std::string& key, const std::string& topic,
                    const std::vector<std::string>& targets,
                    const std::map<std::string, std::string>& masters, api::TopicStatus* status) {
  model::TopicTrafficInput in;
  std::map<std::string, std::pair<int64_t, int64_t>> held;  // group -> (messages, newest store time)
  auto failed = [&](const std::string& group, const Status& st) {
    GetLogger("operator")->warn("topic={} group={}: traffic not read: {}", key, group, st.message());
  };
  for (const auto& g : targets) {
    const std::string& addr = masters.at(g);
    auto puts = admin.BrokerStatsAt(addr, bm::stats_item::kTopicPutNums, topic);
    if (!puts.ok()) return failed(g, puts.status());
    auto stats = admin.TopicStatsAt(addr, topic);
    if (!stats.ok()) return failed(g, stats.status());
    auto consumers = admin.TopicConsumerGroups(addr, topic);
    if (!consumers.ok()) return failed(g, consumers.status());
    auto producers = admin.TopicProducersAt(addr, topic);
    if (!producers.ok()) return failed(g, producers.status());
    in.puts_last_minute += puts->minute;
    for (const auto& [mq, o] : *stats) {
      held[g].first += std::max<int64_t>(0, o.max_offset - o.min_offset);
      held[g].second = std::max(held[g].second, o.last_update_timestamp);
    }
    for (const auto& cg : *consumers) {
      in.consumer_groups.insert(cg);
      auto gets =
          admin.BrokerStatsAt(addr, bm::stats_item::kGroupGetNums, bm::stats_item::GroupKey(topic, cg));
      if (!gets.ok()) return failed(g, gets.status());
      in.gets_last_minute += gets->minute;
    }
    for (const auto& [pg, at] : *producers) in.producer_groups.insert(pg);
  }
  status->traffic = model::SummarizeTraffic(in);
  for (auto& gs : status->broker_groups) {
    auto it = held.find(gs.name);
    if (it == held.end()) continue;
    gs.messages = it->second.first;
    gs.last_write = it->second.second > 0 ? FormatRfc3339(it->second.second) : "";
  }
}

}  // namespace

TopicReconciler::TopicReconciler(Deps deps, TopicOptions options) : d_(std::move(deps)), o_(options) {}

Status TopicReconciler::SetFinalizer(const json& obj, bool present) {
  return controllers::SetFinalizer(*d_.kube, kube::kinds::kFerryTopic, obj, api::kTopicFinalizer, present);
}

Status TopicReconciler::WriteStatus(const json& obj, api::TopicStatus status, bool ready,
                                    const std::string& reason, const std::string& message) {
  return WriteReadyStatus(d_, kStatus, obj, api::TopicStatusToJson(status), ready, reason, message);
}

Outcome TopicReconciler::Reconcile(const std::string& key) {
  const auto [ns, name] = SplitKey(key);
  std::optional<json> obj = d_.reader->Get(kube::kinds::kFerryTopic, ns, name);
  if (!obj) return {};
  api::ObjectMeta meta = api::MetaFromJson(*obj);
  if (meta.being_deleted()) return Finalize(*obj, meta);

  api::TopicStatus status = api::TopicStatusFromJson(obj->value("status", json::object()));
  auto fail = [&](const std::string& reason, const std::string& message, std::optional<milliseconds> again) {
    Status st = WriteStatus(*obj, status, false, reason, message);
    return Outcome{st, st.ok() ? again : std::nullopt};
  };
  auto parsed = api::TopicFromJson(*obj);
  if (!parsed.ok()) return fail("InvalidSpec", std::string(parsed.status().message()), std::nullopt);
  const api::Topic& topic = *parsed;
  status.topic_name = topic.spec.topic_name;

  const bool want_finalizer = topic.spec.deletion_policy == "Delete";
  if (meta.HasFinalizer(api::kTopicFinalizer) != want_finalizer) {
    // The patch changes the object; its watch event brings the next pass.
    return {SetFinalizer(*obj, want_finalizer), std::nullopt};
  }

  const api::ClusterRef& ref = topic.spec.cluster_ref;
  ClusterLookup cluster = LookupCluster(*d_.reader, ref);
  if (!cluster.cluster) return fail(cluster.reason, cluster.message, kRecheckNotReady);

  auto older = OlderClaimant(*d_.reader, kube::kinds::kFerryTopic, meta, ref, topic.spec.topic_name,
                             [](const json& o) -> std::optional<std::pair<api::ClusterRef, std::string>> {
                               auto t = api::TopicFromJson(o);
                               if (!t.ok()) return std::nullopt;
                               return std::pair{t->spec.cluster_ref, t->spec.topic_name};
                             });
  if (older) {
    return fail("ResourceConflict", "topic " + topic.spec.topic_name + " is managed by Topic " + *older,
                std::nullopt);
  }

  auto targets = model::TargetGroups(topic.spec, ClusterGroupNames(*cluster.cluster));
  if (!targets.ok()) return fail("InvalidSpec", std::string(targets.status().message()), std::nullopt);

  MastersView view = ConnectMasters(d_, *cluster.cluster);
  if (!view.reason.empty()) return fail(view.reason, view.message, kRecheckNotReady);
  client::Admin* admin = view.admin.get();
  const std::map<std::string, std::string>* masters = &view.masters;
  std::vector<std::string> missing;
  for (const auto& g : *targets) {
    if (!masters->count(g)) missing.push_back(g);
  }
  if (!missing.empty()) {
    return fail("ClusterNotReady",
                "no master registered with the name servers for " + JoinStrings(missing, ", "),
                kRecheckNotReady);
  }

  // Scaling out: the consumer groups of this cluster and where they are (ConsumerGroupsPendingOn).
  std::vector<model::ConsumerGroupPlacement> placements;
  for (const json& o : d_.reader->List(kube::kinds::kFerryConsumerGroup, "", {})) {
    auto cg = api::ConsumerGroupFromJson(o);
    if (!cg.ok() || cg->spec.cluster_ref.name != ref.name ||
        cg->spec.cluster_ref.namespace_ != ref.namespace_)
      continue;
    auto cg_targets = model::TargetGroups(cg->spec.broker_groups, ClusterGroupNames(*cluster.cluster));
    if (!cg_targets.ok()) continue;
    placements.push_back({cg->spec.group_name, *cg_targets,
                          api::ConsumerGroupStatusFromJson(o.value("status", json::object())).broker_groups});
  }

  client::CreateTopicOptions create;
  create.read_queue_nums = topic.spec.read_queues;
  create.write_queue_nums = topic.spec.write_queues;
  create.perm = api::PermissionBits(topic.spec.permission);
  create.order = topic.spec.order;
  std::vector<std::string> refused, errors, waiting;
  std::vector<api::TopicGroupStatus> groups;
  for (const auto& g : *targets) {
    const std::string& addr = masters->at(g);
    // A group this pass cannot reach keeps its recorded entry: were it dropped from spec.brokerGroups later,
    // the cleanup must still know the topic is there.
    auto keep_recorded = [&] {
      for (const auto& r : status.broker_groups) {
        if (r.name == g) return groups.push_back(r);
      }
    };
    auto table = admin->GetAllTopicConfig(addr);
    if (!table.ok()) {
      errors.push_back(g + ": " + std::string(table.status().message()));
      keep_recorded();
      continue;
    }
    std::optional<model::BrokerTopic> current;
    if (auto it = table->find(topic.spec.topic_name); it != table->end()) {
      current = model::BrokerTopic{it->second.read_queue_nums, it->second.write_queue_nums, it->second.perm,
                                   it->second.order};
    }
    model::TopicDecision decision = model::DecideTopic(topic, g, current);
    if (decision.kind == model::TopicDecision::Kind::kApply && !current) {
      auto pending = model::ConsumerGroupsPendingOn(g, placements);
      if (!pending.empty()) {
        waiting.push_back(g + " (after consumer groups " + JoinStrings(pending, ", ") + ")");
        keep_recorded();
        continue;
      }
    }
    api::TopicGroupStatus gs{g, topic.spec.read_queues, topic.spec.write_queues, topic.spec.permission, 0,
                             ""};
    if (decision.kind == model::TopicDecision::Kind::kApply) {
      Status st = admin->CreateTopicAt(addr, topic.spec.topic_name, create);
      if (!st.ok()) {
        errors.push_back(g + ": " + std::string(st.message()));
        if (current) {
          groups.push_back(
              {g, current->read_queues, current->write_queues, api::PermissionName(current->perm), 0, ""});
        } else {
          keep_recorded();
        }
        continue;
      }
      GetLogger("operator")->info("topic={} group={} broker={}: {}", key, g, addr, decision.message);
    } else if (decision.kind == model::TopicDecision::Kind::kRefuseShrink) {
      refused.push_back(decision.message);
      gs = {g, current->read_queues, current->write_queues, api::PermissionName(current->perm), 0, ""};
    }
    groups.push_back(std::move(gs));
  }
  // Groups the Topic no longer targets lose the topic; one that could not (yet) stays in status, so the next
  // pass tries again.
  for (const auto& dropped :
       model::DroppedGroups(status.broker_groups, *targets, ClusterGroupNames(*cluster.cluster))) {
    auto m = masters->find(dropped.name);
    Status st = m == masters->end() ? Status::Unavailable("no master registered; " + topic.spec.topic_name +
                                                          " is removed from it once it has one")
                                    : admin->DeleteTopicAt(m->second, topic.spec.topic_name);
    if (st.ok()) {
      GetLogger("operator")
          ->info("topic={} group={}: removed {} (no longer in spec.brokerGroups)", key, dropped.name,
                 topic.spec.topic_name);
      continue;
    }
    errors.push_back(dropped.name + ": " + std::string(st.message()));
    groups.push_back(dropped);
  }
  // What the last traffic read saw stays until the next one (ObserveTraffic) succeeds.
  for (auto& gs : groups) {
    for (const auto& old : status.broker_groups) {
      if (old.name != gs.name) continue;
      gs.messages = old.messages;
      gs.last_write = old.last_write;
    }
  }
  status.broker_groups = std::move(groups);

  if (!errors.empty()) return fail("BrokerError", JoinStrings(errors, "; "), kRecheckNotReady);
  if (!waiting.empty()) {
    return fail("WaitingForConsumerGroups",
                "topic " + topic.spec.topic_name + " is created on " + JoinStrings(waiting, "; ") +
                    " have their config there",
                kRecheckNotReady);
  }
  if (!refused.empty()) return fail("QueueShrinkRefused", JoinStrings(refused, "; "), o_.drift_check);
  ObserveTraffic(*admin, key, topic.spec.topic_name, *targets, *masters, &status);
  Status st = WriteStatus(
      *obj, status, true, "Synced",
      "topic " + topic.spec.topic_name + " is on " + JoinStrings(*targets, ", ") + " as specified");
  if (!st.ok()) return {st, std::nullopt};
  return {Status::Ok(), o_.drift_check};
}

Outcome TopicReconciler::Finalize(const json& obj, const api::ObjectMeta& meta) {
  if (!meta.HasFinalizer(api::kTopicFinalizer)) return {};
  auto log = GetLogger("operator");
  auto parsed = api::TopicFromJson(obj);
  api::TopicStatus status = api::TopicStatusFromJson(obj.value("status", json::object()));
  if (!parsed.ok() || parsed->spec.deletion_policy == "Retain") {
    return {SetFinalizer(obj, false), std::nullopt};
  }
  const api::Topic& topic = *parsed;
  const api::ClusterRef& ref = topic.spec.cluster_ref;
  ClusterLookup cluster = LookupCluster(*d_.reader, ref);
  if (!cluster.cluster) {
    log->info("topic={}: Cluster {}/{} is gone; releasing the finalizer", meta.Key(), ref.namespace_,
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
  auto targets = model::TargetGroups(topic.spec, ClusterGroupNames(*cluster.cluster));
  std::vector<std::string> groups = targets.ok() ? *targets : ClusterGroupNames(*cluster.cluster);
  const std::string& name = topic.spec.topic_name;

  if (!meta.AnnotationTrue(api::kForceDeleteAnnotation)) {
    std::vector<std::string> online;
    std::set<std::string> consumer_groups;
    for (const auto& g : groups) {
      auto m = masters->find(g);
      if (m == masters->end()) continue;
      auto cgs = admin->TopicConsumerGroups(m->second, name);
      if (!cgs.ok())
        return blocked("cannot ask " + g + " who consumes " + name + ": " +
                       std::string(cgs.status().message()));
      consumer_groups.insert(cgs->begin(), cgs->end());
    }
    for (const auto& cg : consumer_groups) {
      auto conn = admin->GetConsumerConnections(cg);
      if (conn.ok() && !conn->connection_set.empty() && conn->subscription_table.count(name)) {
        online.push_back("consumer group " + cg + " (" + std::to_string(conn->connection_set.size()) +
                         " online)");
      }
    }
    if (auto stats = admin->TopicStats(name); stats.ok()) {
      int64_t last = 0;
      for (const auto& [mq, offset] : *stats) last = std::max(last, offset.last_update_timestamp);
      const int64_t age_ms = d_.clock->NowMillis() - last;
      if (last > 0 && age_ms < o_.recent_write_window.count()) {
        online.push_back("producers (a message was written " + std::to_string(age_ms / 1000) + " s ago)");
      }
    }
    if (!online.empty()) {
      return blocked("topic " + name + " is in use by " + JoinStrings(online, ", ") +
                     "; stop them or set the annotation " + std::string(api::kForceDeleteAnnotation) +
                     "=\"true\"");
    }
  }
  for (const auto& g : groups) {
    auto m = masters->find(g);
    if (m == masters->end()) continue;  // a group without a master keeps the topic; it is re-applied nowhere
    Status st = admin->DeleteTopicAt(m->second, name);
    if (!st.ok()) return blocked("cannot delete " + name + " on " + g + ": " + std::string(st.message()));
  }
  Status st = admin->DeleteTopicInNameServers(name, cluster.cluster->metadata.name);
  if (!st.ok())
    return blocked("cannot delete " + name + " from the name servers: " + std::string(st.message()));
  log->info("topic={}: deleted {} from {} and the name servers", meta.Key(), name, JoinStrings(groups, ", "));
  if (d_.events != nullptr) {
    (void)d_.events->Record(
        InvolvedObject("Topic", meta), kube::EventType::kNormal, "TopicDeleted",
        "deleted " + name + " from " + JoinStrings(groups, ", ") + " and the name servers");
  }
  return {SetFinalizer(obj, false), std::nullopt};
}

}  // namespace fmq::op::controllers
