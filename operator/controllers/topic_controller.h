#pragma once

// TopicReconciler: makes a topic exist, as its Topic says, on the master of every broker group it targets,
// through the RocketMQ admin protocol (UPDATE_AND_CREATE_TOPIC), reading back what each broker has
// (GET_ALL_TOPIC_CONFIG) so an existing topic is adopted and drift is reverted. Lowering queue counts is
// refused unless the Topic carries ferrymq.io/allow-queue-shrink (the messages left in removed queues would
// no longer be consumed). A group dropped from spec.brokerGroups loses the topic; until that succeeds (its
// master is down, or the delete fails) it stays in status.brokerGroups and every pass tries again.
//
// Deletion sits behind the finalizer ferrymq.io/topic-cleanup: the topic is removed from the brokers and the
// name servers, but not while consumers of the topic are online or messages were written to it in the last
// `recent_write_window` (RocketMQ 4.x producers do not tell brokers which topics they send to, so recent
// writes stand for online producers), unless the Topic carries ferrymq.io/force-delete="true". Blocked
// deletion shows as Ready=False, reason DeletionBlocked, and a Warning Event. deletionPolicy Retain, or a
// Cluster that is gone, releases the finalizer without touching brokers.
//
// Thread-safety: as ClusterReconciler.

#include <chrono>
#include <string>

#include "operator/api/types.h"
#include "operator/controllers/reconciler.h"

namespace fmq::op::controllers {

struct TopicOptions {
  std::chrono::milliseconds drift_check{300'000};  // how often a synced Topic is compared with the brokers
  std::chrono::milliseconds recent_write_window{30'000};
};

class TopicReconciler {
 public:
  TopicReconciler(Deps deps, TopicOptions options);
  Outcome Reconcile(const std::string& key);

 private:
  Outcome Finalize(const nlohmann::json& obj, const api::ObjectMeta& meta);
  // Writes status.conditions[Ready] (and the rest of `status`) when it changed. Returns the write's error.
  Status WriteStatus(const nlohmann::json& obj, api::TopicStatus status, bool ready,
                     const std::string& reason, const std::string& message);
  Status SetFinalizer(const nlohmann::json& obj, bool present);

  Deps d_;
  TopicOptions o_;
};

}  // namespace fmq::op::controllers
