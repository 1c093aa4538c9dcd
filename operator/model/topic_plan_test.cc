#include "operator/model/topic_plan.h"

#include <gtest/gtest.h>

namespace fmq::op::model {
namespace {

using nlohmann::json;

api::Topic MakeTopic(json spec, json annotations = json::object()) {
  spec["clusterRef"] = {{"name", "prod"}};
  json obj = {{"metadata", {{"name", "orders"}, {"namespace", "mq"}, {"annotations", annotations}}},
              {"spec", spec}};
  auto t = api::TopicFromJson(obj);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

TEST(TopicPlanTest, CreatesWhatTheBrokerDoesNotHave) {
  auto d = DecideTopic(MakeTopic(json::object()), "prod-broker-0", std::nullopt);
  EXPECT_EQ(d.kind, TopicDecision::Kind::kApply);
  EXPECT_NE(d.message.find("creating topic orders on prod-broker-0"), std::string::npos);
}

TEST(TopicPlanTest, InSyncIgnoresTheInheritPermissionBit) {
  auto d = DecideTopic(MakeTopic(json::object()), "g", BrokerTopic{8, 8, 7, false});
  EXPECT_EQ(d.kind, TopicDecision::Kind::kInSync);
}

TEST(TopicPlanTest, RevertsDriftAndGrowsAtOnce) {
  EXPECT_EQ(DecideTopic(MakeTopic(json::object()), "g", BrokerTopic{8, 8, 4, false}).kind,
            TopicDecision::Kind::kApply);
  EXPECT_EQ(DecideTopic(MakeTopic({{"order", true}}), "g", BrokerTopic{8, 8, 6, false}).kind,
            TopicDecision::Kind::kApply);
  EXPECT_EQ(
      DecideTopic(MakeTopic({{"queues", {{"read", 16}, {"write", 16}}}}), "g", BrokerTopic{8, 8, 6, false})
          .kind,
      TopicDecision::Kind::kApply);
}

TEST(TopicPlanTest, RefusesToShrinkQueuesSilently) {
  auto d =
      DecideTopic(MakeTopic({{"queues", {{"read", 4}, {"write", 4}}}}), "g", BrokerTopic{8, 8, 6, false});
  EXPECT_EQ(d.kind, TopicDecision::Kind::kRefuseShrink);
  EXPECT_NE(d.message.find("ferrymq.io/allow-queue-shrink"), std::string::npos) << d.message;
  auto allowed = DecideTopic(
      MakeTopic({{"queues", {{"read", 4}, {"write", 4}}}}, {{"ferrymq.io/allow-queue-shrink", "true"}}), "g",
      BrokerTopic{8, 8, 6, false});
  EXPECT_EQ(allowed.kind, TopicDecision::Kind::kApply);
}

TEST(TopicPlanTest, TargetGroupsDefaultToAllAndRejectUnknownOnes) {
  std::vector<std::string> all = {"prod-broker-0", "prod-broker-1"};
  auto every = TargetGroups(MakeTopic(json::object()).spec, all);
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(*every, all);
  auto one = TargetGroups(MakeTopic({{"brokerGroups", {"prod-broker-1", "prod-broker-1"}}}).spec, all);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<std::string>{"prod-broker-1"});
  auto bad = TargetGroups(MakeTopic({{"brokerGroups", {"prod-broker-7"}}}).spec, all);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("prod-broker-7 (it has prod-broker-0, prod-broker-1)"),
            std::string_view::npos)
      << bad.status().message();
}

TEST(TopicPlanTest, DroppedGroupsAreTheRecordedOnesNoLongerTargeted) {
  std::vector<api::TopicGroupStatus> last = {{"prod-broker-0", 8, 8, "ReadWrite", 0, ""},
                                             {"prod-broker-1", 8, 8, "ReadWrite", 0, ""},
                                             {"prod-broker-2", 4, 4, "Read", 0, ""}};
  const std::vector<std::string> cluster = {"prod-broker-0", "prod-broker-1", "prod-broker-2"};
  auto dropped = DroppedGroups(last, {"prod-broker-0"}, cluster);
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0].name, "prod-broker-1");
  EXPECT_EQ(dropped[1], (api::TopicGroupStatus{"prod-broker-2", 4, 4, "Read", 0, ""}));  // kept as recorded
  EXPECT_TRUE(DroppedGroups(last, cluster, cluster).empty());
  EXPECT_TRUE(DroppedGroups({}, {"prod-broker-0"}, cluster).empty());
}

TEST(TopicPlanTest, AGroupLeavingTheClusterKeepsItsTopicsForItsConsumersToDrain) {
  // spec.brokers.groups went from 3 to 2: prod-broker-2 is not a target any more, but deleting the topic
  // there would destroy its backlog; the scale-in removes the whole group once it is drained.
  std::vector<api::TopicGroupStatus> last = {{"prod-broker-0", 8, 8, "ReadWrite", 0, ""},
                                             {"prod-broker-1", 8, 8, "ReadWrite", 0, ""},
                                             {"prod-broker-2", 8, 8, "ReadWrite", 0, ""}};
  const std::vector<std::string> cluster = {"prod-broker-0", "prod-broker-1"};
  EXPECT_TRUE(DroppedGroups(last, cluster, cluster).empty());
  // A group still in the cluster but dropped from spec.brokerGroups does lose the topic.
  auto dropped = DroppedGroups(last, {"prod-broker-0"}, cluster);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].name, "prod-broker-1");
}

TEST(TopicPlanTest, ANewGroupGetsATopicOnlyAfterTheConsumerGroupsThatConsumeThere) {
  const std::vector<std::string> all = {"prod-broker-0", "prod-broker-1", "prod-broker-2"};
  std::vector<ConsumerGroupPlacement> groups = {
      {"orders-cg", all, {"prod-broker-0", "prod-broker-1"}},  // not on the new group yet: waits
      {"audit-cg", all, all},                                  // already there
      {"pinned-cg", {"prod-broker-0"}, {"prod-broker-0"}},     // never targets the new group
      {"broken-cg", all, {}},                                  // applied nowhere: holds nothing back
  };
  EXPECT_EQ(ConsumerGroupsPendingOn("prod-broker-2", groups), std::vector<std::string>{"orders-cg"});
  EXPECT_TRUE(ConsumerGroupsPendingOn("prod-broker-0", groups).empty());
  groups[0].applied = all;
  EXPECT_TRUE(ConsumerGroupsPendingOn("prod-broker-2", groups).empty());
}

TEST(TopicPlanTest, RatesHaveThreeSignificantDigitsAndNoExponent) {
  EXPECT_EQ(FormatRate(0), "0");
  EXPECT_EQ(FormatRate(-1), "0");
  EXPECT_EQ(FormatRate(0.25), "0.25");
  EXPECT_EQ(FormatRate(1.0 / 60), "0.017");
  EXPECT_EQ(FormatRate(3.333333), "3.33");
  EXPECT_EQ(FormatRate(12.5), "12.5");
  EXPECT_EQ(FormatRate(20), "20");
  EXPECT_EQ(FormatRate(1234.4), "1234");
  EXPECT_EQ(FormatRate(2e9), "2000000000");
}

TEST(TopicPlanTest, TrafficIsPerSecondOverTheLastMinuteWithAtMostTwentyGroupsListed) {
  TopicTrafficInput in;
  in.puts_last_minute = 600;
  in.gets_last_minute = 90;
  in.producer_groups = {"pg"};
  for (int i = 0; i < 25; ++i) in.consumer_groups.insert("cg" + std::to_string(100 + i));
  api::TopicTrafficStatus t = SummarizeTraffic(in);
  EXPECT_EQ(t.messages_in_per_second, "10");
  EXPECT_EQ(t.messages_out_per_second, "1.5");
  EXPECT_EQ(t.producer_groups, std::vector<std::string>{"pg"});
  ASSERT_EQ(t.consumer_groups.size(), 20u);
  EXPECT_EQ(t.consumer_groups.front(), "cg100");
}

}  // namespace
}  // namespace fmq::op::model
