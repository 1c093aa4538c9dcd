#include "operator/model/cluster_status.h"

#include <gtest/gtest.h>

#include "operator/model/cluster_resources.h"

namespace fmq::op::model {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

api::Cluster MakeCluster(int groups = 2, int64_t generation = 1) {
  json obj = {{"metadata", {{"name", "prod"}, {"namespace", "mq"}, {"uid", "u"}, {"generation", generation}}},
              {"spec", {{"brokers", {{"groups", groups}}}}}};
  return *api::ClusterFromJson(obj);
}

json Pod(const std::string& name, bool ready) {
  return {
      {"metadata", {{"name", name}}},
      {"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
}

json Sts(const std::string& name, int ready, bool updated = true) {
  return {{"metadata", {{"name", name}, {"generation", 2}}},
          {"spec", {{"replicas", 1}}},
          {"status",
           {{"observedGeneration", 2},
            {"replicas", 1},
            {"readyReplicas", ready},
            {"updatedReplicas", updated ? 1 : 0},
            {"currentRevision", updated ? "r2" : "r1"},
            {"updateRevision", "r2"}}}};
}

ObservedCluster Healthy() {
  ObservedCluster o;
  for (const char* n : {"prod-namesrv", "prod-broker-0", "prod-broker-1"}) o.statefulsets[n] = Sts(n, 1);
  for (const char* n : {"prod-namesrv-0", "prod-broker-0-0", "prod-broker-1-0"})
    o.pods.push_back(Pod(n, true));
  o.name_servers_answered = true;
  o.registered_masters = {{"prod-broker-0", "10.0.0.2:10911"}, {"prod-broker-1", "10.0.0.3:10911"}};
  return o;
}

const api::Condition& Cond(const api::ClusterStatus& s, const char* type) {
  const api::Condition* c = api::FindCondition(s.conditions, type);
  EXPECT_NE(c, nullptr) << type;
  static api::Condition none;
  return c ? *c : none;
}

const system_clock::time_point kNow = system_clock::time_point(seconds(1795335600));

TEST(ClusterStatusTest, AHealthyClusterIsReady) {
  api::ClusterStatus s = ComputeClusterStatus(MakeCluster(), Healthy(), kNow);
  EXPECT_EQ(Cond(s, "Ready").status, "True") << Cond(s, "Ready").message;
  EXPECT_EQ(Cond(s, "Available").status, "True");
  EXPECT_EQ(Cond(s, "Progressing").status, "False");
  EXPECT_EQ(Cond(s, "Progressing").reason, "Complete");
  EXPECT_EQ(Cond(s, "Degraded").status, "False");
  EXPECT_EQ(Cond(s, "ResourcesSynced").status, "True");
  for (const auto& c : s.conditions) EXPECT_EQ(c.observed_generation, 1);
  EXPECT_EQ(s.replicas_summary, "3/3");
  EXPECT_EQ(s.name_servers, "prod-namesrv-0.prod-namesrv.mq.svc:9876");
  ASSERT_EQ(s.broker_groups.size(), 2u);
  EXPECT_EQ(s.broker_groups[1].address, "10.0.0.3:10911");
  EXPECT_TRUE(s.broker_groups[1].writable);
  EXPECT_EQ(s.broker_groups[1].master, "prod-broker-1-0");
}

TEST(ClusterStatusTest, ProbeSucceededFollowsTheLastProbeOnlyWithSpecProbe) {
  api::Cluster c = MakeCluster();
  ObservedCluster o = Healthy();
  EXPECT_EQ(api::FindCondition(ComputeClusterStatus(c, o, kNow).conditions, "ProbeSucceeded"), nullptr);
  c.spec.probe.enabled = true;
  api::ClusterStatus s = ComputeClusterStatus(c, o, kNow);
  EXPECT_EQ(Cond(s, "ProbeSucceeded").status, "Unknown");
  EXPECT_EQ(Cond(s, "ProbeSucceeded").reason, "ProbePending");
  o.probe = ObservedCluster::Probe{true, "every broker group answered"};
  c.status = ComputeClusterStatus(c, o, kNow);
  EXPECT_EQ(Cond(c.status, "ProbeSucceeded").status, "True");
  EXPECT_EQ(Cond(c.status, "ProbeSucceeded").reason, "ProbeSucceeded");
  o.probe = ObservedCluster::Probe{false, "prod-broker-1: send: timeout"};
  c.status = ComputeClusterStatus(c, o, kNow + seconds(10));
  EXPECT_EQ(Cond(c.status, "ProbeSucceeded").status, "False");
  EXPECT_EQ(Cond(c.status, "ProbeSucceeded").reason, "ProbeFailed");
  EXPECT_EQ(Cond(c.status, "ProbeSucceeded").message, "prod-broker-1: send: timeout");
  EXPECT_EQ(Cond(c.status, "Ready").status, "True");  // the probe does not make the Cluster unready
  c.spec.probe.enabled = false;                       // spec.probe removed: so is the condition
  EXPECT_EQ(api::FindCondition(ComputeClusterStatus(c, o, kNow).conditions, "ProbeSucceeded"), nullptr);
}

TEST(ClusterStatusTest, ACrashedBrokerDegradesAndLosesAvailability) {
  ObservedCluster o = Healthy();
  o.pods[2] = Pod("prod-broker-1-0", false);
  o.statefulsets["prod-broker-1"] = Sts("prod-broker-1", 0);
  api::ClusterStatus s = ComputeClusterStatus(MakeCluster(), o, kNow);
  EXPECT_EQ(Cond(s, "Degraded").status, "True");
  EXPECT_EQ(Cond(s, "Degraded").reason, "PodsNotReady");
  EXPECT_NE(Cond(s, "Degraded").message.find("prod-broker-1-0"), std::string::npos);
  EXPECT_EQ(Cond(s, "Available").reason, "GroupWithoutMaster");
  EXPECT_EQ(Cond(s, "Ready").status, "False");
  EXPECT_EQ(Cond(s, "Ready").reason, "Degraded");
  EXPECT_EQ(s.replicas_summary, "2/3");

  // Back to healthy: Degraded flips, and its transition time moves.
  api::Cluster c = MakeCluster();
  c.status = s;
  api::ClusterStatus again = ComputeClusterStatus(c, Healthy(), kNow + seconds(30));
  EXPECT_EQ(Cond(again, "Ready").status, "True");
  EXPECT_EQ(Cond(again, "Degraded").last_transition_time, api::FormatTime(kNow + seconds(30)));
  // Conditions whose status did not change keep their time.
  EXPECT_EQ(Cond(again, "ResourcesSynced").last_transition_time, api::FormatTime(kNow));
}

TEST(ClusterStatusTest, AMasterThatDoesNotAnswerIsNotWritable) {
  ObservedCluster o = Healthy();
  o.broker_errors["prod-broker-0"] = "connection refused";
  api::ClusterStatus s = ComputeClusterStatus(MakeCluster(), o, kNow);
  EXPECT_EQ(Cond(s, "Available").status, "False");
  EXPECT_NE(Cond(s, "Available").message.find("prod-broker-0 (connection refused)"), std::string::npos)
      << Cond(s, "Available").message;
  EXPECT_FALSE(s.broker_groups[0].writable);
  EXPECT_TRUE(s.broker_groups[1].writable);
}

TEST(ClusterStatusTest, WithReplicasTheMasterAndEpochComeFromTheFailoverStep) {
  ObservedCluster o = Healthy();
  o.pods.push_back(Pod("prod-broker-0-2", true));
  o.ha["prod-broker-0"] = {"prod-broker-0-2",
                           3,
                           {"prod-broker-0-1", "prod-broker-0-2"},
                           "2026-12-05T10:00:00Z",
                           1,
                           "MasterServing",
                           "prod-broker-0-2 is master of epoch 3",
                           "2026-12-05T10:00:00Z"};
  // Group 1 lost its master and has nobody to promote.
  o.ha["prod-broker-1"] = {
      "", 2, {}, "", 0, "NoInSyncSlave", "master prod-broker-1-0 failed and no in-sync slave", ""};
  api::ClusterStatus s = ComputeClusterStatus(MakeCluster(), o, kNow);
  EXPECT_EQ(s.broker_groups[0].master, "prod-broker-0-2");
  EXPECT_EQ(s.broker_groups[0].epoch, 3);
  EXPECT_EQ(s.broker_groups[0].failovers, 1);
  EXPECT_EQ(s.broker_groups[0].last_failover, "2026-12-05T10:00:00Z");
  EXPECT_TRUE(s.broker_groups[0].writable);
  EXPECT_EQ(s.broker_groups[1].master, "");
  EXPECT_FALSE(s.broker_groups[1].writable);
  EXPECT_EQ(s.broker_groups[1].failover_state, "NoInSyncSlave");
  EXPECT_EQ(Cond(s, "Available").status, "False");
  EXPECT_NE(
      Cond(s, "Available").message.find("prod-broker-1 (master prod-broker-1-0 failed and no in-sync slave)"),
      std::string::npos)
      << Cond(s, "Available").message;
}

TEST(ClusterStatusTest, ALeavingGroupIsListedWithItsProgressAndDoesNotMakeTheClusterUnready) {
  ObservedCluster o = Healthy();
  api::BrokerGroupStatus leaving;
  leaving.name = "prod-broker-2";
  leaving.scale_in = {"Draining", "2026-12-05T11:00:00Z", 40, "T:40",
                      "40 messages on prod-broker-2 not consumed yet"};
  o.leaving = {leaving};
  api::Cluster c = MakeCluster();
  api::ClusterStatus s = ComputeClusterStatus(c, o, kNow);
  ASSERT_EQ(s.broker_groups.size(), 3u);
  EXPECT_EQ(s.broker_groups[2], leaving);
  EXPECT_TRUE(api::IsConditionTrue(s.conditions, "Ready"));
  const api::Condition* scaling = api::FindCondition(s.conditions, "ScalingIn");
  ASSERT_NE(scaling, nullptr);
  EXPECT_EQ(scaling->status, api::kTrue);
  EXPECT_EQ(scaling->reason, "Draining");
  EXPECT_EQ(scaling->message, "prod-broker-2: 40 messages on prod-broker-2 not consumed yet");
  // Removed: the condition turns False, and a cluster that never scaled in has none.
  c.status = s;
  s = ComputeClusterStatus(c, Healthy(), kNow + seconds(60));
  EXPECT_EQ(api::FindCondition(s.conditions, "ScalingIn")->status, api::kFalse);
  EXPECT_EQ(api::FindCondition(s.conditions, "ScalingIn")->reason, "Complete");
  EXPECT_EQ(s.broker_groups.size(), 2u);
  EXPECT_EQ(api::FindCondition(ComputeClusterStatus(MakeCluster(), Healthy(), kNow).conditions, "ScalingIn"),
            nullptr);
}

TEST(ClusterStatusTest, CreationIsProgressingNotDegraded) {
  ObservedCluster o;
  o.name_servers_answered = false;
  o.name_server_error = "connection refused";
  api::ClusterStatus s = ComputeClusterStatus(MakeCluster(), o, kNow);
  EXPECT_EQ(Cond(s, "Progressing").status, "True");
  EXPECT_EQ(Cond(s, "Progressing").reason, "Creating");
  EXPECT_EQ(Cond(s, "Degraded").status, "False");
  EXPECT_EQ(Cond(s, "Available").reason, "NameServerUnavailable");
  EXPECT_NE(Cond(s, "Available").message.find("connection refused"), std::string::npos);
  EXPECT_EQ(Cond(s, "Ready").reason, "Progressing");
}

TEST(ClusterStatusTest, SpecAndApplyErrorsShowInResourcesSynced) {
  ObservedCluster o = Healthy();
  o.apply_error = "StatefulSet prod-broker-0: 422 Invalid";
  api::ClusterStatus s = ComputeClusterStatus(MakeCluster(), o, kNow);
  EXPECT_EQ(Cond(s, "ResourcesSynced").reason, "ApplyFailed");
  EXPECT_EQ(Cond(s, "Ready").reason, "ResourcesNotSynced");
  o.invalid_spec = "spec.brokers.groups must be between 1 and 64";
  s = ComputeClusterStatus(MakeCluster(), o, kNow);
  EXPECT_EQ(Cond(s, "ResourcesSynced").reason, "InvalidSpec");
}

TEST(ClusterStatusTest, RolloutGoesOneGroupAtATime) {
  api::Cluster c = MakeCluster(3);
  const Options opts{"img"};
  std::vector<json> desired = {BrokerStatefulSet(c, 0, opts), BrokerStatefulSet(c, 1, opts),
                               BrokerStatefulSet(c, 2, opts)};
  // Live = desired plus server defaults and a rolled-out status: nothing to apply.
  std::map<std::string, json> live;
  for (const json& d : desired) {
    json l = d;
    l["metadata"]["generation"] = 2;
    l["spec"]["revisionHistoryLimit"] = 10;  // defaulted by the apiserver
    l["status"] = Sts("x", 1)["status"];
    live[d["metadata"]["name"]] = l;
  }
  RolloutPlan none = PlanBrokerRollout(desired, live);
  EXPECT_TRUE(none.apply.empty());
  EXPECT_TRUE(none.held_back.empty());

  // A config change touches every group: only the first is applied.
  api::Cluster changed = MakeCluster(3);
  changed.spec.brokers.config["fileReservedTime"] = "24";
  std::vector<json> next = {BrokerStatefulSet(changed, 0, opts), BrokerStatefulSet(changed, 1, opts),
                            BrokerStatefulSet(changed, 2, opts)};
  RolloutPlan first = PlanBrokerRollout(next, live);
  EXPECT_EQ(first.apply, std::vector<std::string>{"prod-broker-0"});
  EXPECT_EQ(first.held_back, (std::vector<std::string>{"prod-broker-1", "prod-broker-2"}));

  // Group 0 took the change but is still rolling: the others still wait.
  live["prod-broker-0"] = next[0];
  live["prod-broker-0"]["status"] = Sts("x", 0, false)["status"];
  live["prod-broker-0"]["metadata"]["generation"] = 2;
  RolloutPlan waiting = PlanBrokerRollout(next, live);
  EXPECT_TRUE(waiting.apply.empty());
  EXPECT_EQ(waiting.held_back.size(), 2u);

  // Group 0 rolled out: group 1 goes next.
  live["prod-broker-0"]["status"] = Sts("x", 1)["status"];
  RolloutPlan second = PlanBrokerRollout(next, live);
  EXPECT_EQ(second.apply, std::vector<std::string>{"prod-broker-1"});
  EXPECT_EQ(second.held_back, std::vector<std::string>{"prod-broker-2"});

  // A missing StatefulSet (deleted by someone) is recreated at once.
  live.erase("prod-broker-2");
  RolloutPlan recreate = PlanBrokerRollout(desired, live);
  EXPECT_EQ(recreate.apply.back(), "prod-broker-2");
}

TEST(ClusterStatusTest, AnOnDeleteStatefulSetIsUpdatedWhenEveryPodRunsTheUpdateRevision) {
  json sts = Sts("prod-broker-0", 1, false);  // currentRevision r1, updateRevision r2, 0 updated
  sts["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  EXPECT_FALSE(StatefulSetUpdated(sts));
  sts["status"]["updatedReplicas"] = 1;  // the operator restarted the pod; currentRevision stays r1
  EXPECT_TRUE(StatefulSetUpdated(sts));
  sts["spec"].erase("updateStrategy");
  EXPECT_FALSE(StatefulSetUpdated(sts)) << "RollingUpdate: the controller moves currentRevision when done";
}

TEST(ClusterStatusTest, SubsetComparisonIgnoresServerDefaultsButNotDrift) {
  json desired = {{"spec", {{"ports", json::array({{{"port", 9876}}})}, {"replicas", 1}}}};
  json live = {
      {"spec", {{"ports", json::array({{{"port", 9876}, {"protocol", "TCP"}}})}, {"replicas", 1}, {"x", 1}}}};
  EXPECT_TRUE(IsSubset(desired, live));
  live["spec"]["replicas"] = 3;
  EXPECT_FALSE(IsSubset(desired, live));
  live["spec"]["replicas"] = 1;
  live["spec"]["ports"].push_back({{"port", 1}});
  EXPECT_FALSE(IsSubset(desired, live));
  EXPECT_FALSE(IsSubset(desired, json::object()));
}

}  // namespace
}  // namespace fmq::op::model
