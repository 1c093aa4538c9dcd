#include "broker/client/admin.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/client/client_test_util.h"
#include "broker/model/message.h"

namespace fmq::client {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;
using testing::Reply;
using testing::ScriptedServer;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namesrv_.On(rq::kGetBrokerClusterInfo, [this](const RemotingCommand&) {
      model::ClusterInfo info;
      info.broker_addr_table["broker-a"] = {"c1", "broker-a", {{0, a_.addr()}}};
      info.broker_addr_table["broker-b"] = {"c1", "broker-b", {{0, b_.addr()}}};
      info.cluster_addr_table["c1"] = {"broker-a", "broker-b"};
      return Reply(rc::kSuccess, model::EncodeClusterInfo(info));
    });
    ClientOptions o;
    o.namesrv_addrs = {namesrv_.addr()};
    admin_ = std::make_unique<Admin>(o);
    ASSERT_TRUE(admin_->Start().ok());
  }
  ScriptedServer namesrv_, a_, b_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(AdminTest, CreatesTopicOnEveryMasterOfTheCluster) {
  a_.On(rq::kUpdateAndCreateTopic, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  b_.On(rq::kUpdateAndCreateTopic, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  CreateTopicOptions o;
  o.read_queue_nums = o.write_queue_nums = 4;
  auto masters = admin_->CreateTopic("T", "c1", o);
  ASSERT_TRUE(masters.ok()) << masters.status();
  EXPECT_EQ(masters->size(), 2u);
  for (auto* s : {&a_, &b_}) {
    auto reqs = s->Requests(rq::kUpdateAndCreateTopic);
    ASSERT_EQ(reqs.size(), 1u);
    const auto& h = reqs[0].ext_fields;
    EXPECT_EQ(h.at("topic"), "T");
    EXPECT_EQ(h.at("defaultTopic"), "TBW102");
    EXPECT_EQ(h.at("readQueueNums"), "4");
    EXPECT_EQ(h.at("writeQueueNums"), "4");
    EXPECT_EQ(h.at("perm"), "6");
    EXPECT_EQ(h.at("topicFilterType"), "SINGLE_TAG");
    EXPECT_EQ(h.at("order"), "false");
  }
  auto bad = admin_->CreateTopic("T", "nope", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cluster nope not found"), std::string_view::npos);
}

TEST_F(AdminTest, DeletesTopicOnBrokersThenNameServers) {
  a_.On(rq::kDeleteTopicInBroker, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  b_.On(rq::kDeleteTopicInBroker, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  namesrv_.On(rq::kDeleteTopicInNamesrv, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  ASSERT_TRUE(admin_->DeleteTopic("T", "c1").ok());
  EXPECT_EQ(a_.Requests(rq::kDeleteTopicInBroker).at(0).ext_fields.at("topic"), "T");
  EXPECT_EQ(b_.Count(rq::kDeleteTopicInBroker), 1u);
  auto ns = namesrv_.Requests(rq::kDeleteTopicInNamesrv);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].ext_fields.at("topic"), "T");
  EXPECT_EQ(ns[0].ext_fields.at("clusterName"), "c1");
}

TEST_F(AdminTest, ReadsJavaTopicStatsAndConsumeStats) {
  namesrv_.On(rq::kGetRouteInfoByTopic, [this](const RemotingCommand&) {
    model::TopicRouteData r;
    r.queue_datas = {{"broker-a", 2, 2, 6, 0}};
    r.broker_datas = {{"c1", "broker-a", {{0, a_.addr()}}}};
    return Reply(rc::kSuccess, model::EncodeTopicRouteData(r));
  });
  a_.On(rq::kGetTopicStatsInfo, [](const RemotingCommand&) {
    return Reply(
        rc::kSuccess,
        R"({"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"lastUpdateTimestamp":7,"maxOffset":9,"minOffset":2},)"
        R"({"brokerName":"broker-a","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":0,"maxOffset":4,"minOffset":0}}})");
  });
  auto stats = admin_->TopicStats("T");
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->size(), 2u);
  const auto& q0 = stats->at({"T", "broker-a", 0});
  const auto& q1 = stats->at({"T", "broker-a", 1});
  EXPECT_EQ(q0.max_offset, 4);
  EXPECT_EQ(q1.min_offset, 2);
  EXPECT_EQ(q1.max_offset, 9);
  EXPECT_EQ(q1.last_update_timestamp, 7);

  a_.On(rq::kGetConsumeStats, [](const RemotingCommand&) {
    return Reply(
        rc::kSuccess,
        R"({"consumeTps":1.5,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":99}}})");
  });
  b_.On(rq::kGetConsumeStats,
        [](const RemotingCommand&) { return Reply(rc::kConsumerNotOnline, "", {}, "not online"); });
  auto cs = admin_->GetConsumeStats("cg", "");
  ASSERT_TRUE(cs.ok()) << cs.status();
  ASSERT_EQ(cs->offset_table.size(), 1u);
  EXPECT_EQ(TotalDiff(*cs), 6);
  EXPECT_DOUBLE_EQ(cs->consume_tps, 1.5);
  EXPECT_EQ(a_.Requests(rq::kGetConsumeStats).at(0).ext_fields.at("consumerGroup"), "cg");
}

TEST_F(AdminTest, ViewsMessageAtTheBrokerNamedByTheOffsetId) {
  model::StoredMessage m;
  m.topic = "T";
  m.body = "payload";
  m.physical_offset = PhysicalOffset(123456);
  m.born_host = model::HostAddress::V4(10, 0, 0, 9, 1);
  m.store_host = model::HostAddress::V4(127, 0, 0, 1, b_.port());
  m.properties = model::EncodeProperties({{"TAGS", "x"}});
  std::string record;
  model::EncodeStoredMessage(m, true, &record);
  b_.On(rq::kViewMessageById, [record](const RemotingCommand&) { return Reply(rc::kSuccess, record); });
  const std::string id = model::CreateOffsetMessageId(m.store_host, PhysicalOffset(123456));
  auto msg = admin_->ViewMessage(id);
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ(msg->body, "payload");
  EXPECT_EQ(msg->tags, "x");
  EXPECT_EQ(msg->offset_msg_id, id);
  EXPECT_EQ(b_.Requests(rq::kViewMessageById).at(0).ext_fields.at("offset"), "123456");
  EXPECT_FALSE(admin_->ViewMessage("not-an-id").ok());
}

TEST_F(AdminTest, CreatesSubscriptionGroupWithJavaFieldNames) {
  a_.On(rq::kUpdateAndCreateSubscriptionGroup, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  b_.On(rq::kUpdateAndCreateSubscriptionGroup, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  model::SubscriptionGroupConfig g;
  g.group_name = "cg";
  ASSERT_TRUE(admin_->CreateSubscriptionGroup(g, "c1").ok());
  auto body = nlohmann::json::parse(a_.Requests(rq::kUpdateAndCreateSubscriptionGroup).at(0).body);
  EXPECT_EQ(body["groupName"], "cg");
  EXPECT_EQ(body["retryMaxTimes"], 16);
  EXPECT_EQ(body["consumeEnable"], true);
}

TEST_F(AdminTest, PerBrokerTopicCallsReachOnlyThatBroker) {
  a_.On(rq::kUpdateAndCreateTopic, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  a_.On(rq::kGetAllTopicConfig, [](const RemotingCommand&) {
    // As Java's TopicConfigSerializeWrapper writes it.
    return Reply(
        rc::kSuccess,
        R"({"dataVersion":{"counter":3,"timestamp":1700000000000},"topicConfigTable":{"T":{"order":true,)"
        R"("perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,)"
        R"("writeQueueNums":2}}})");
  });
  a_.On(rq::kDeleteTopicInBroker, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  a_.On(rq::kQueryTopicConsumeByWho,
        [](const RemotingCommand&) { return Reply(rc::kSuccess, R"({"groupList":["g1","g2"]})"); });
  b_.On(rq::kQueryTopicConsumeByWho, [](const RemotingCommand&) { return Reply(rc::kSuccess, "not json"); });

  CreateTopicOptions o;
  o.read_queue_nums = 4;
  o.write_queue_nums = 2;
  o.order = true;
  ASSERT_TRUE(admin_->CreateTopicAt(a_.addr(), "T", o).ok());
  EXPECT_EQ(a_.Requests(rq::kUpdateAndCreateTopic).at(0).ext_fields.at("order"), "true");
  EXPECT_TRUE(b_.Requests(rq::kUpdateAndCreateTopic).empty());
  EXPECT_FALSE(admin_->CreateTopicAt(a_.addr(), "bad topic", o).ok());

  auto table = admin_->GetAllTopicConfig(a_.addr());
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->count("T"), 1u);
  EXPECT_EQ(table->at("T").read_queue_nums, 4);
  EXPECT_EQ(table->at("T").write_queue_nums, 2);
  EXPECT_TRUE(table->at("T").order);

  ASSERT_TRUE(admin_->DeleteTopicAt(a_.addr(), "T").ok());
  EXPECT_EQ(a_.Requests(rq::kDeleteTopicInBroker).at(0).ext_fields.at("topic"), "T");

  auto groups = admin_->TopicConsumerGroups(a_.addr(), "T");
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_EQ(*groups, (std::set<std::string>{"g1", "g2"}));
  auto bad = admin_->TopicConsumerGroups(b_.addr(), "T");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a JSON object"), std::string_view::npos) << bad.status();
}

TEST_F(AdminTest, PerBrokerGroupCallsReachOnlyThatBroker) {
  a_.On(rq::kUpdateAndCreateSubscriptionGroup, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  a_.On(rq::kGetAllSubscriptionGroupConfig, [](const RemotingCommand&) {
    // As Java's SubscriptionGroupWrapper writes it (RocketMQ 5 fields included).
    return Reply(
        rc::kSuccess,
        R"({"dataVersion":{"counter":2,"timestamp":1700000000000},"subscriptionGroupTable":{"cg":{)"
        R"("brokerId":0,"consumeBroadcastEnable":false,"consumeEnable":true,"consumeFromMinEnable":true,)"
        R"("consumeMessageOrderly":true,"groupName":"cg","notifyConsumerIdsChangedEnable":true,)"
        R"("retryMaxTimes":3,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}}})");
  });
  a_.On(rq::kDeleteSubscriptionGroup, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  model::SubscriptionGroupConfig g;
  g.group_name = "cg";
  g.consume_message_orderly = true;
  ASSERT_TRUE(admin_->CreateSubscriptionGroupAt(a_.addr(), g).ok());
  EXPECT_TRUE(b_.Requests(rq::kUpdateAndCreateSubscriptionGroup).empty());
  auto body = nlohmann::json::parse(a_.Requests(rq::kUpdateAndCreateSubscriptionGroup).at(0).body);
  EXPECT_EQ(body["consumeMessageOrderly"], true);
  g.group_name = "bad group";
  EXPECT_FALSE(admin_->CreateSubscriptionGroupAt(a_.addr(), g).ok());

  auto table = admin_->GetAllSubscriptionGroupConfig(a_.addr());
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->count("cg"), 1u);
  EXPECT_EQ(table->at("cg").retry_max_times, 3);
  EXPECT_FALSE(table->at("cg").consume_broadcast_enable);
  EXPECT_TRUE(table->at("cg").consume_message_orderly);

  ASSERT_TRUE(admin_->DeleteSubscriptionGroupAt(a_.addr(), "cg", true).ok());
  const auto h = a_.Requests(rq::kDeleteSubscriptionGroup).at(0).ext_fields;  // Requests() returns a copy
  EXPECT_EQ(h.at("groupName"), "cg");
  EXPECT_EQ(h.at("removeOffset"), "true");
  EXPECT_TRUE(b_.Requests(rq::kDeleteSubscriptionGroup).empty());
}

TEST_F(AdminTest, ConsumerConnectionsAtOneBrokerTellNotOnlineFromUnreachable) {
  a_.On(rq::kGetConsumerConnectionList, [](const RemotingCommand&) {
    return Reply(rc::kConsumerNotOnline, "", {}, "the consumer group[cg] not online");
  });
  auto none = admin_->GetConsumerConnectionsAt(a_.addr(), "cg");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->connection_set.empty());
  b_.On(rq::kGetConsumerConnectionList, [](const RemotingCommand&) { return Reply(rc::kSystemError); });
  EXPECT_FALSE(admin_->GetConsumerConnectionsAt(b_.addr(), "cg").ok());
  EXPECT_FALSE(admin_->GetConsumerConnectionsAt("127.0.0.1:1", "cg").ok());
}

TEST(AdminResetTest, ResetTargets) {
  EXPECT_EQ(*ResetTimestampOf("earliest", 5), 0);
  EXPECT_EQ(*ResetTimestampOf("latest", 5), -1);
  EXPECT_EQ(*ResetTimestampOf("now", 5), 5);
  EXPECT_EQ(*ResetTimestampOf("1700000000000", 5), 1700000000000);
  EXPECT_EQ(*ResetTimestampOf("2026-12-04T10:00:00.250+01:00", 5), 1796374800250);
  for (const char* bad : {"yesterday", "", "-5", "2026-12-04T10:00:00", "12abc"}) {
    auto r = ResetTimestampOf(bad, 5);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("a reset target must be earliest, latest, now"),
              std::string_view::npos);
  }
}

}  // namespace
}  // namespace fmq::client
