#pragma once

// ConsumerGroupReconciler: makes a consumer group (RocketMQ subscription group) exist, as its ConsumerGroup
// says, on the master of every broker group it targets, and reports who consumes and how far behind they are.
//
// One pass, as named steps:
//   observe  the ConsumerGroup, its Cluster, the masters the name servers know, and on each target master the
//            broker's subscription-group table (GET_ALL_SUBSCRIPTIONGROUP_CONFIG), its consumers of the group
//            (GET_CONSUMER_CONNECTION_LIST) and the group's consume stats (GET_CONSUME_STATS);
//   decide   (operator/model/group_plan.h, pure) create, adopt as is, or revert drift field by field; which
//            groups were dropped from spec.brokerGroups; whether spec.resetOffset is applied, refused
//            (consumers online without force) or done;
//   act      UPDATE_AND_CREATE_SUBSCRIPTIONGROUP where needed (fields the spec does not manage, brokerId and
//            notifyConsumerIdsChangedEnable, are kept as the broker has them); DELETE_SUBSCRIPTIONGROUP on
//            dropped groups (offsets too when deletionPolicy is Delete); INVOKE_BROKER_TO_RESET_OFFSET per
//            topic;
//   health   (operator/model/group_health.h, pure) MQCloud's six consumer alerts as conditions (Lagging,
//            ConsumeFailing, DeadLetters, OffsetMoved, ClientsBlocked, SubscriptionInconsistent) with the
//            thresholds of spec.alerting, from the consume stats, the masters' last-hour counts
//            (VIEW_BROKER_STATS_DATA SNDBCK_PUT_NUMS, DEAD_PUT_NUMS, OFFSET_MOVED_NUMS of topic@group) and
//            what up to 20 online clients report (GET_CONSUMER_RUNNING_INFO through their broker);
//   report   status (groupName, brokerGroups, online clients and their subscriptions, lag per topic,
//            lastReset), the Ready condition and the health conditions, written only when they changed;
//            Events on transitions (a health condition turning True is a Warning, clearing a Normal
//            <type>Resolved) and resets; the metrics ferrymq_operator_consumer_group_condition {namespace,
//            name, consumer_group, condition} (1 True, 0 False), ferrymq_operator_consumer_group_threshold
//            {..., threshold} that the chart's alert rules join for per-group thresholds, and MQCloud's
//            client statistics summed per group (ferrymq_operator_consumer_group_consume_tps {..., result},
//            _consume_rt_milliseconds, _cached_messages, _clients_reporting): never a series per client id.
// A dropped group that could not be cleaned stays in status.brokerGroups, so the next pass tries again.
//
// Deletion with deletionPolicy Delete sits behind the finalizer ferrymq.io/group-cleanup: the group and its
// offsets are removed from every target master, but not while consumers of the group are online, unless the
// ConsumerGroup carries ferrymq.io/force-delete="true" (blocked: Ready=False, reason DeletionBlocked). Retain
// (the default), or a Cluster that is gone, releases the finalizer without touching brokers.
//
// Thread-safety: as ClusterReconciler.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"
#include "operator/model/group_health.h"

namespace fmq::op::controllers {

struct ConsumerGroupOptions {
  // How often a synced ConsumerGroup is compared with the brokers and its clients and lag are re-read.
  std::chrono::milliseconds status_refresh{30'000};
  MetricRegistry* metrics = nullptr;
};

class ConsumerGroupReconciler {
 public:
  ConsumerGroupReconciler(Deps deps, ConsumerGroupOptions options);
  Outcome Reconcile(const std::string& key);

 private:
  Outcome Finalize(const nlohmann::json& obj, const api::ObjectMeta& meta);
  Status WriteStatus(const nlohmann::json& obj, api::ConsumerGroupStatus status, bool ready,
                     const std::string& reason, const std::string& message,
                     const std::vector<api::Condition>& health = {});
  Status SetFinalizer(const nlohmann::json& obj, bool present);
  void RecordEvent(const api::ObjectMeta& meta, bool normal, const std::string& reason,
                   const std::string& message);
  // Sets (or, `health` empty, removes) the object's condition and threshold series.
  void ReportMetrics(const std::string& key, const api::ConsumerGroup* cg,
                     const std::vector<api::Condition>& health,
                     const std::optional<model::ClientTotals>& clients) FMQ_EXCLUDES(mu_);

  Deps d_;
  ConsumerGroupOptions o_;
  GaugeFamily* condition_gauge_ = nullptr;
  GaugeFamily* threshold_gauge_ = nullptr;
  GaugeFamily* clients_gauge_ = nullptr;
  GaugeFamily* tps_gauge_ = nullptr;
  GaugeFamily* rt_gauge_ = nullptr;
  GaugeFamily* cached_gauge_ = nullptr;
  Mutex mu_;
  std::map<std::string, std::string> group_of_key_ FMQ_GUARDED_BY(mu_);  // object key -> consumer group
};

}  // namespace fmq::op::controllers
