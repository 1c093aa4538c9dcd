#include "operator/model/group_plan.h"

#include <gtest/gtest.h>

namespace fmq::op::model {
namespace {

using nlohmann::json;

api::ConsumerGroup MakeGroup(json spec) {
  spec["clusterRef"] = {{"name", "prod"}};
  json obj = {{"metadata", {{"name", "orders-app"}, {"namespace", "mq"}}}, {"spec", spec}};
  auto g = api::ConsumerGroupFromJson(obj);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return *g;
}

TEST(GroupPlanTest, SpecMapsToTheBrokersFieldNames) {
  auto g = MakeGroup({{"consumeMode", "Broadcast"},
                      {"orderly", true},
                      {"enabled", false},
                      {"retry", {{"maxTimes", 3}, {"queues", 2}}},
                      {"consumeFromMinEnable", false},
                      {"whichBrokerWhenConsumeSlowly", 2}});
  BrokerGroupConfig c = DesiredGroupConfig(g.spec);
  EXPECT_TRUE(c.consume_broadcast_enable);
  EXPECT_TRUE(c.consume_message_orderly);
  EXPECT_FALSE(c.consume_enable);
  EXPECT_EQ(c.retry_max_times, 3);
  EXPECT_EQ(c.retry_queue_nums, 2);
  EXPECT_FALSE(c.consume_from_min_enable);
  EXPECT_EQ(c.which_broker_when_consume_slowly, 2);
  // Defaults: clustering refuses broadcast consumers; RocketMQ's defaults otherwise.
  BrokerGroupConfig d = DesiredGroupConfig(MakeGroup(json::object()).spec);
  EXPECT_FALSE(d.consume_broadcast_enable);
  EXPECT_TRUE(d.consume_enable);
  EXPECT_EQ(d.retry_max_times, 16);
  EXPECT_EQ(d.retry_queue_nums, 1);
  EXPECT_EQ(d.which_broker_when_consume_slowly, 1);
}

TEST(GroupPlanTest, CreatesAdoptsAndRevertsDriftFieldByField) {
  auto g = MakeGroup({{"retry", {{"maxTimes", 5}}}});
  auto create = DecideGroup(g.spec, "prod-broker-0", std::nullopt);
  EXPECT_EQ(create.kind, GroupDecision::Kind::kApply);
  EXPECT_EQ(create.message, "creating consumer group orders-app on prod-broker-0");
  // A group the broker already has with the same settings is adopted without a write.
  EXPECT_EQ(DecideGroup(g.spec, "prod-broker-0", DesiredGroupConfig(g.spec)).kind,
            GroupDecision::Kind::kInSync);
  BrokerGroupConfig drifted = DesiredGroupConfig(g.spec);
  drifted.retry_max_times = 16;
  drifted.consume_enable = false;
  auto revert = DecideGroup(g.spec, "prod-broker-1", drifted);
  EXPECT_EQ(revert.kind, GroupDecision::Kind::kApply);
  EXPECT_EQ(revert.message,
            "updating consumer group orders-app on prod-broker-1: consumeEnable false -> true, retryMaxTimes "
            "16 -> 5");
}

TEST(GroupPlanTest, DroppedNamesAreThoseNoLongerTargeted) {
  EXPECT_EQ(DroppedNames({"a", "b", "c", "b"}, {"a"}, {"a", "b", "c"}), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(DroppedNames({"a"}, {"a", "b"}, {"a", "b"}).empty());
  // "c" is leaving the cluster (scale-in): its consumer group config stays for the consumers draining it.
  EXPECT_EQ(DroppedNames({"a", "b", "c"}, {"a"}, {"a", "b"}), (std::vector<std::string>{"b"}));
}

TEST(GroupPlanTest, LagSumsPerTopicAndNeverGoesNegative) {
  int64_t total = -1;
  auto lag = LagByTopic(
      {{"orders", 100, 40}, {"%RETRY%orders-app", 3, 3}, {"orders", 10, 12}, {"audit", 5, 0}}, &total);
  ASSERT_EQ(lag.size(), 3u);
  EXPECT_EQ(lag[0], (api::GroupLagStatus{"%RETRY%orders-app", 0}));
  EXPECT_EQ(lag[1], (api::GroupLagStatus{"audit", 5}));
  EXPECT_EQ(lag[2], (api::GroupLagStatus{"orders", 60}));
  EXPECT_EQ(total, 65);
  EXPECT_EQ(DefaultResetTopics(
                {{"orders", 0, 0}, {"%RETRY%g", 0, 0}, {"%DLQ%g", 0, 0}, {"audit", 0, 0}, {"orders", 1, 1}}),
            (std::vector<std::string>{"audit", "orders"}));
}

TEST(GroupPlanTest, ResetIsAppliedOncePerIdAndRefusedWhileConsumersAreOnline) {
  api::ResetOffsetSpec spec{"r1", "earliest", {}, false};
  EXPECT_EQ(DecideReset(std::nullopt, std::nullopt, 0).kind, ResetDecision::Kind::kNone);
  EXPECT_EQ(DecideReset(spec, std::nullopt, 0).kind, ResetDecision::Kind::kApply);
  auto refused = DecideReset(spec, std::nullopt, 2);
  EXPECT_EQ(refused.kind, ResetDecision::Kind::kRefuse);
  EXPECT_NE(refused.message.find("2 consumer(s) of the group are online"), std::string::npos)
      << refused.message;
  api::LastResetStatus last{"r1", "earliest", "Applied", "", "2026-12-05T01:00:00Z", 8};
  EXPECT_EQ(DecideReset(spec, last, 0).kind, ResetDecision::Kind::kNone);
  last.result = "Invalid";
  EXPECT_EQ(DecideReset(spec, last, 0).kind, ResetDecision::Kind::kNone);
  last.result = "Refused";  // tried again: applied once the consumers are gone
  EXPECT_EQ(DecideReset(spec, last, 1).kind, ResetDecision::Kind::kRefuse);
  EXPECT_EQ(DecideReset(spec, last, 0).kind, ResetDecision::Kind::kApply);
  last.result = "Failed";
  EXPECT_EQ(DecideReset(spec, last, 0).kind, ResetDecision::Kind::kApply);
  last = {"r0", "latest", "Applied", "", "", 8};  // a new id is a new reset
  EXPECT_EQ(DecideReset(spec, last, 0).kind, ResetDecision::Kind::kApply);
  spec.force = true;
  EXPECT_EQ(DecideReset(spec, std::nullopt, 3).kind, ResetDecision::Kind::kApply);
}

}  // namespace
}  // namespace fmq::op::model
