#include "operator/api/types.h"

#include <gtest/gtest.h>

namespace fmq::op::api {
namespace {

using nlohmann::json;

json ClusterJson(json spec) {
  return {{"apiVersion", "ferrymq.io/v1alpha1"},
          {"kind", "Cluster"},
          {"metadata", {{"name", "prod"}, {"namespace", "mq"}, {"uid", "u-1"}, {"generation", 3}}},
          {"spec", std::move(spec)}};
}

TEST(ClusterTypesTest, AppliesTheCrdDefaultsToAnEmptySpec) {
  auto c = ClusterFromJson(ClusterJson(json::object()));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->metadata.Key(), "mq/prod");
  EXPECT_EQ(c->metadata.generation, 3);
  EXPECT_EQ(c->spec.name_server.replicas, 1);
  EXPECT_EQ(c->spec.brokers.groups, 1);
  EXPECT_EQ(c->spec.brokers.replicas_per_group, 1);
  EXPECT_EQ(c->spec.brokers.flush_disk_type, "ASYNC_FLUSH");
  EXPECT_EQ(c->spec.brokers.storage.size, "10Gi");
  EXPECT_EQ(c->spec.image_pull_policy, "IfNotPresent");
}

TEST(ClusterTypesTest, ReadsAFullSpec) {
  auto c = ClusterFromJson(
      ClusterJson({{"image", "ferrymq:1"},
                   {"nameServer", {{"replicas", 3}, {"resources", {{"limits", {{"cpu", "1"}}}}}}},
                   {"brokers",
                    {{"groups", 2},
                     {"flushDiskType", "SYNC_FLUSH"},
                     {"storage", {{"size", "1Gi"}, {"storageClassName", "fast"}}},
                     {"config", {{"autoCreateTopicEnable", "false"}}}}}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->spec.image, "ferrymq:1");
  EXPECT_EQ(c->spec.name_server.replicas, 3);
  EXPECT_EQ(c->spec.name_server.resources["limits"]["cpu"], "1");
  EXPECT_EQ(c->spec.brokers.groups, 2);
  EXPECT_EQ(c->spec.brokers.flush_disk_type, "SYNC_FLUSH");
  EXPECT_EQ(c->spec.brokers.storage.storage_class_name, "fast");
  EXPECT_EQ(c->spec.brokers.config.at("autoCreateTopicEnable"), "false");
  EXPECT_EQ(c->spec.brokers.replication.mode, "sync");
  EXPECT_EQ(c->spec.brokers.MinInSyncReplicas(), 1) << "one replica: nothing to wait for";
}

TEST(ClusterTypesTest, ReadsReplication) {
  auto c = ClusterFromJson(ClusterJson({{"brokers", {{"replicasPerGroup", 3}}}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->spec.brokers.MinInSyncReplicas(), 2) << "the default: a message survives one lost copy";
  EXPECT_EQ(c->spec.brokers.replication.when_below_min_in_sync, "reject");
  EXPECT_FALSE(c->spec.brokers.replication.unclean_failover);
  c = ClusterFromJson(ClusterJson({{"brokers",
                                    {{"replicasPerGroup", 3},
                                     {"replication",
                                      {{"mode", "async"},
                                       {"minInSyncReplicas", 3},
                                       {"whenBelowMinInSync", "degrade"},
                                       {"uncleanFailover", true}}}}}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->spec.brokers.replication.mode, "async");
  EXPECT_EQ(c->spec.brokers.MinInSyncReplicas(), 3);
  EXPECT_EQ(c->spec.brokers.replication.when_below_min_in_sync, "degrade");
  EXPECT_TRUE(c->spec.brokers.replication.unclean_failover);
}

TEST(ClusterTypesTest, RejectsWhatTheOperatorCannotActOnNamingTheField) {
  auto expect_error = [](json spec, std::string_view needle) {
    auto c = ClusterFromJson(ClusterJson(std::move(spec)));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(needle), std::string_view::npos) << c.status().message();
  };
  expect_error({{"brokers", {{"groups", 0}}}}, "spec.brokers.groups must be between 1 and 64, got 0");
  expect_error({{"brokers", {{"groups", "2"}}}}, "spec.brokers.groups must be an integer");
  expect_error({{"brokers", {{"replicasPerGroup", 4}}}},
               "spec.brokers.replicasPerGroup must be between 1 and 3");
  expect_error(
      {{"brokers", {{"replicasPerGroup", 2}, {"replication", {{"minInSyncReplicas", 3}}}}}},
      "spec.brokers.replication.minInSyncReplicas (3) cannot exceed spec.brokers.replicasPerGroup (2)");
  expect_error({{"brokers", {{"replicasPerGroup", 3}, {"replication", {{"mode", "semi"}}}}}},
               "spec.brokers.replication.mode");
  expect_error({{"brokers", {{"replicasPerGroup", 3}, {"replication", {{"whenBelowMinInSync", "drop"}}}}}},
               "spec.brokers.replication.whenBelowMinInSync");
  expect_error({{"brokers", {{"config", {{"minInSyncReplicas", "1"}}}}}}, "may not set minInSyncReplicas");
  expect_error({{"brokers", {{"flushDiskType", "SOMETIMES"}}}}, "one of ASYNC_FLUSH, SYNC_FLUSH");
  expect_error({{"brokers", {{"config", {{"brokerName", "x"}}}}}}, "may not set brokerName");
  expect_error({{"brokers", {{"config", {{"fileReservedTime", 48}}}}}}, "must be a string");
  expect_error({{"brokers", {{"config", {{"brokerPermission", "4"}}}}}}, "may not set brokerPermission");
  expect_error({{"brokers", {{"scaleIn", {{"policy", "Now"}}}}}}, "spec.brokers.scaleIn.policy");
  auto expire = ClusterFromJson(ClusterJson({{"brokers", {{"scaleIn", {{"policy", "Expire"}}}}}}));
  ASSERT_TRUE(expire.ok());
  EXPECT_EQ(expire->spec.brokers.scale_in_policy, "Expire");
  EXPECT_EQ(ClusterFromJson(ClusterJson(json::object()))->spec.brokers.scale_in_policy, "Drain");
  EXPECT_FALSE(ClusterFromJson(ClusterJson(json::object()))->spec.probe.enabled);
  auto probe = ClusterFromJson(ClusterJson({{"probe", json::object()}}));
  ASSERT_TRUE(probe.ok());
  EXPECT_TRUE(probe->spec.probe.enabled);
  EXPECT_EQ(probe->spec.probe.interval, std::chrono::seconds(30));
  EXPECT_EQ(probe->spec.probe.message_size, 128);
  EXPECT_EQ(probe->spec.probe.topic, "ferrymq-probe");
  probe = ClusterFromJson(
      ClusterJson({{"probe", {{"interval", "10s"}, {"messageSize", 4096}, {"topic", "canary"}}}}));
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->spec.probe.interval, std::chrono::seconds(10));
  EXPECT_EQ(probe->spec.probe.message_size, 4096);
  EXPECT_EQ(probe->spec.probe.topic, "canary");
  expect_error({{"probe", {{"interval", "5s"}}}}, "spec.probe.interval must be between 10s and 1h");
  expect_error({{"probe", {{"interval", "soon"}}}}, "spec.probe.interval: not a duration");
  expect_error({{"probe", {{"messageSize", -1}}}}, "spec.probe.messageSize");
  expect_error({{"probe", {{"topic", ""}}}}, "spec.probe.topic is empty");

  json long_name = ClusterJson(json::object());
  long_name["metadata"]["name"] = std::string(43, 'a');
  EXPECT_FALSE(ClusterFromJson(long_name).ok());
}

TEST(ClusterTypesTest, ReadsSecurityAndRefusesTlsWithoutASecretOrTlsKeysInConfig) {
  json obj = {{"metadata", {{"name", "prod"}, {"namespace", "mq"}}},
              {"spec",
               {{"security",
                 {{"acl", {{"enabled", true}}}, {"tls", {{"mode", "Permissive"}, {"secretName", "s"}}}}}}}};
  auto c = ClusterFromJson(obj);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->spec.security.acl_enabled);
  EXPECT_TRUE(c->spec.security.tls.enabled());
  EXPECT_EQ(c->spec.security.tls.client_auth, "None");
  auto d = ClusterFromJson({{"metadata", {{"name", "prod"}}}});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->spec.security.acl_enabled);
  EXPECT_FALSE(d->spec.security.tls.enabled());

  obj["spec"]["security"]["tls"].erase("secretName");
  EXPECT_NE(ClusterFromJson(obj).status().message().find("spec.security.tls.secretName is required"),
            std::string::npos);
  obj["spec"]["security"]["tls"] = {{"mode", "Strict"}};
  EXPECT_NE(ClusterFromJson(obj).status().message().find("spec.security.tls.mode must be one of"),
            std::string::npos);
  for (const char* key : {"tls.server.mode", "aclEnable", "innerSecretKey"}) {
    json bad = {{"metadata", {{"name", "prod"}}}, {"spec", {{"brokers", {{"config", {{key, "x"}}}}}}}};
    EXPECT_EQ(ClusterFromJson(bad).status().code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST(ClusterTypesTest, StatusRoundTrips) {
  ClusterStatus s;
  s.observed_generation = 4;
  s.conditions = {{"Ready", "True", "Ready", "", "2026-11-22T08:20:00Z", 4}};
  s.name_servers = "a:9876;b:9876";
  s.broker_groups = {
      {"prod-broker-0", "prod-broker-0-0", "10.0.0.2:10911", true, true, 0, {}, "", 0, "", "", {}},
      {"prod-broker-1",
       "prod-broker-1-2",
       "10.0.0.3:10911",
       true,
       true,
       3,
       {"prod-broker-1-1", "prod-broker-1-2"},
       "2026-12-05T10:00:00Z",
       2,
       "MasterServing",
       "prod-broker-1-2 is master of epoch 3",
       {}}};
  api::BrokerGroupStatus leaving;
  leaving.name = "prod-broker-2";
  leaving.scale_in = {"Draining", "2026-12-05T11:00:00Z", 1234, "T:1000,U:234",
                      "1234 messages not consumed yet"};
  s.broker_groups.push_back(leaving);
  s.ready_replicas = 2;
  s.desired_replicas = 2;
  s.replicas_summary = "2/2";
  ClusterStatus back = ClusterStatusFromJson(ClusterStatusToJson(s));
  EXPECT_EQ(back.observed_generation, 4);
  EXPECT_EQ(back.conditions, s.conditions);
  EXPECT_EQ(back.name_servers, s.name_servers);
  EXPECT_EQ(back.broker_groups, s.broker_groups);
  EXPECT_EQ(back.replicas_summary, "2/2");
}

json TopicJson(json spec) {
  return {{"apiVersion", "ferrymq.io/v1alpha1"},
          {"kind", "Topic"},
          {"metadata",
           {{"name", "orders"},
            {"namespace", "team-a"},
            {"annotations", {{"ferrymq.io/force-delete", "true"}}},
            {"finalizers", {"ferrymq.io/topic-cleanup"}}}},
          {"spec", std::move(spec)}};
}

TEST(TopicTypesTest, DefaultsNameNamespaceAndQueues) {
  auto t = TopicFromJson(TopicJson({{"clusterRef", {{"name", "prod"}}}}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->spec.topic_name, "orders");
  EXPECT_EQ(t->spec.cluster_ref.namespace_, "team-a");
  EXPECT_EQ(t->spec.write_queues, 8);
  EXPECT_EQ(t->spec.read_queues, 8);
  EXPECT_EQ(PermissionBits(t->spec.permission), 6);
  EXPECT_EQ(t->spec.deletion_policy, "Delete");
  EXPECT_TRUE(t->metadata.AnnotationTrue(kForceDeleteAnnotation));
  EXPECT_TRUE(t->metadata.HasFinalizer(kTopicFinalizer));
}

TEST(TopicTypesTest, RejectsBadNamesAndZeroQueues) {
  EXPECT_FALSE(TopicFromJson(TopicJson({{"clusterRef", {{"name", "prod"}}}, {"topicName", "a.b"}})).ok());
  EXPECT_FALSE(
      TopicFromJson(TopicJson({{"clusterRef", {{"name", "prod"}}}, {"topicName", std::string(128, 'a')}}))
          .ok());
  EXPECT_FALSE(
      TopicFromJson(TopicJson({{"clusterRef", {{"name", "prod"}}}, {"queues", {{"write", 0}}}})).ok());
  EXPECT_FALSE(TopicFromJson(TopicJson(json::object())).ok());
  EXPECT_TRUE(
      TopicFromJson(TopicJson({{"clusterRef", {{"name", "prod"}}}, {"topicName", "ORDERS_v1-x"}})).ok());
}

TEST(TopicTypesTest, PermissionNamesMatchRocketMqBits) {
  EXPECT_EQ(PermissionBits("ReadOnly"), 4);
  EXPECT_EQ(PermissionBits("WriteOnly"), 2);
  EXPECT_EQ(PermissionName(6), "ReadWrite");
  EXPECT_EQ(PermissionName(4), "ReadOnly");
  EXPECT_EQ(PermissionName(2), "WriteOnly");
  EXPECT_EQ(PermissionName(7), "ReadWrite");  // the inherit bit does not change read/write
}

json GroupJson(json spec, json status = nullptr) {
  json obj = {{"metadata", {{"name", "orders-app"}, {"namespace", "team-a"}}}, {"spec", spec}};
  if (!status.is_null()) obj["status"] = status;
  return obj;
}

TEST(ConsumerGroupTypesTest, AppliesTheCrdDefaults) {
  auto g = ConsumerGroupFromJson(GroupJson({{"clusterRef", {{"name", "prod"}}}}));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->spec.group_name, "orders-app");
  EXPECT_EQ(g->spec.cluster_ref.namespace_, "team-a");
  EXPECT_EQ(g->spec.consume_mode, "Clustering");
  EXPECT_TRUE(g->spec.enabled);
  EXPECT_FALSE(g->spec.orderly);
  EXPECT_EQ(g->spec.retry_max_times, 16);
  EXPECT_EQ(g->spec.retry_queues, 1);
  EXPECT_TRUE(g->spec.consume_from_min);
  EXPECT_EQ(g->spec.read_from_broker_id_when_slow, 1);
  EXPECT_EQ(g->spec.deletion_policy, "Retain");
  EXPECT_FALSE(g->spec.reset_offset.has_value());
  // MQCloud's alert thresholds.
  EXPECT_EQ(g->spec.alerting, (GroupAlertingSpec{10'000, 300, 10, 0, 60, 100}));
}

TEST(ConsumerGroupTypesTest, ReadsAlertingThresholds) {
  json spec = {{"clusterRef", {{"name", "prod"}}},
               {"alerting",
                {{"lagMessages", 50},
                 {"lagSeconds", 0},
                 {"consumeFailuresPerHour", 1},
                 {"deadLettersPerHour", 5},
                 {"blockedSeconds", 30},
                 {"blockedMessages", 10}}}};
  auto g = ConsumerGroupFromJson(GroupJson(spec));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->spec.alerting, (GroupAlertingSpec{50, 0, 1, 5, 30, 10}));
  spec["alerting"] = {{"lagMessages", 7}};  // the rest keep their defaults
  EXPECT_EQ(ConsumerGroupFromJson(GroupJson(spec))->spec.alerting,
            (GroupAlertingSpec{7, 300, 10, 0, 60, 100}));
  spec["alerting"] = {{"lagMessages", -1}};
  auto bad = ConsumerGroupFromJson(GroupJson(spec));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "spec.alerting.lagMessages must be between 0 and 2000000000, got -1");
  spec["alerting"] = {{"blockedSeconds", 0}};
  EXPECT_FALSE(ConsumerGroupFromJson(GroupJson(spec)).ok());
  spec["alerting"] = "often";
  EXPECT_EQ(ConsumerGroupFromJson(GroupJson(spec)).status().message(), "spec.alerting must be an object");
}

TEST(ConsumerGroupTypesTest, ReadsResetOffsetAndRejectsWhatCannotBeApplied) {
  json spec = {{"clusterRef", {{"name", "prod"}}},
               {"groupName", "ORDERS_app"},
               {"resetOffset",
                {{"id", "r1"}, {"to", "2026-12-04T10:00:00Z"}, {"topics", {"orders"}}, {"force", true}}}};
  auto g = ConsumerGroupFromJson(GroupJson(spec));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->spec.group_name, "ORDERS_app");
  ASSERT_TRUE(g->spec.reset_offset.has_value());
  EXPECT_EQ(*g->spec.reset_offset, (ResetOffsetSpec{"r1", "2026-12-04T10:00:00Z", {"orders"}, true}));

  auto bad = [&](json patch, const std::string& words) {
    json s = {{"clusterRef", {{"name", "prod"}}}};
    s.update(patch);
    auto r = ConsumerGroupFromJson(GroupJson(s));
    ASSERT_FALSE(r.ok()) << patch.dump();
    EXPECT_NE(r.status().message().find(words), std::string_view::npos) << r.status().message();
  };
  bad({{"groupName", "a.b"}}, "group name 'a.b' must be 1 to 127 letters");
  bad({{"retry", {{"maxTimes", 33}}}}, "spec.retry.maxTimes must be between 0 and 32, got 33");
  bad({{"consumeMode", "Fanout"}}, "spec.consumeMode must be one of Clustering, Broadcast");
  bad({{"whichBrokerWhenConsumeSlowly", 3}}, "spec.whichBrokerWhenConsumeSlowly must be between 0 and 2");
  bad({{"resetOffset", {{"to", "earliest"}}}}, "spec.resetOffset.id is required");
  bad({{"resetOffset", {{"id", "x"}}}}, "spec.resetOffset.to is required");
  bad({{"resetOffset", {{"id", "x"}, {"to", "earliest"}, {"topics", {"a b"}}}}}, "'a b' is not a topic name");
}

TEST(ConsumerGroupTypesTest, StatusRoundTrips) {
  ConsumerGroupStatus s;
  s.observed_generation = 3;
  s.group_name = "orders-app";
  s.broker_groups = {"prod-broker-0", "prod-broker-1"};
  s.online_clients = 2;
  s.clients = {"10.0.0.1@1", "10.0.0.2@1"};
  s.subscriptions = {{"orders", "TagA || TagB"}};
  s.lag = {{"orders", 42}};
  s.total_lag = 42;
  s.last_reset = LastResetStatus{"r1", "earliest", "Applied", "8 queues moved", "2026-12-05T01:00:00Z", 8};
  ConsumerGroupStatus back = ConsumerGroupStatusFromJson(ConsumerGroupStatusToJson(s));
  EXPECT_EQ(back.observed_generation, 3);
  EXPECT_EQ(back.broker_groups, s.broker_groups);
  EXPECT_EQ(back.clients, s.clients);
  EXPECT_EQ(back.online_clients, 2);
  EXPECT_EQ(back.subscriptions, s.subscriptions);
  EXPECT_EQ(back.lag, s.lag);
  EXPECT_EQ(back.total_lag, 42);
  EXPECT_EQ(back.last_reset, s.last_reset);
  EXPECT_FALSE(ConsumerGroupStatusToJson(ConsumerGroupStatus{}).contains("lastReset"));
}

TEST(TopicTypesTest, StatusWithTrafficRoundTrips) {
  TopicStatus s;
  s.observed_generation = 2;
  s.topic_name = "orders";
  s.broker_groups = {{"prod-broker-0", 4, 4, "ReadWrite", 1200, "2026-12-06T16:00:00Z"},
                     {"prod-broker-1", 4, 4, "ReadWrite", 0, ""}};
  s.traffic = TopicTrafficStatus{"12.5", "3.33", {"pg"}, {"billing", "search"}};
  json j = TopicStatusToJson(s);
  EXPECT_EQ(j["brokerGroups"][0]["messages"], 1200);
  EXPECT_EQ(j["brokerGroups"][0]["lastWrite"], "2026-12-06T16:00:00Z");
  EXPECT_FALSE(j["brokerGroups"][1].contains("lastWrite"));  // nothing written yet
  EXPECT_EQ(j["traffic"]["messagesInPerSecond"], "12.5");
  TopicStatus back = TopicStatusFromJson(j);
  EXPECT_EQ(back.broker_groups, s.broker_groups);
  EXPECT_EQ(back.traffic, s.traffic);
  EXPECT_FALSE(TopicStatusFromJson(json{{"topicName", "t"}}).traffic.has_value());
}

}  // namespace
}  // namespace fmq::op::api
