#include "broker/client/name_server_client.h"

#include <gtest/gtest.h>

#include "broker/client/client_test_util.h"

namespace fmq::client {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;
using testing::Reply;
using testing::ScriptedServer;

// A route as a Java 4.9 name server writes it for an old client: fastjson, unquoted brokerAddrs keys.
constexpr char kJavaRoute[] =
    R"({"brokerDatas":[{"brokerAddrs":{0:"10.0.0.2:10911",1:"10.0.0.3:10911"},"brokerName":"broker-b","cluster":"c1"},)"
    R"({"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"c1"},)"
    R"({"brokerAddrs":{1:"10.0.0.9:10911"},"brokerName":"broker-c","cluster":"c1"}],"filterServerTable":{},)"
    R"("queueDatas":[{"brokerName":"broker-b","perm":6,"readQueueNums":2,"topicSysFlag":0,"writeQueueNums":2},)"
    R"({"brokerName":"broker-a","perm":4,"readQueueNums":3,"topicSysFlag":0,"writeQueueNums":3},)"
    R"({"brokerName":"broker-c","perm":6,"readQueueNums":1,"topicSysFlag":0,"writeQueueNums":1}]})";

class NameServerClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(remoting_.Start().ok()); }
  void TearDown() override { remoting_.Stop(); }
  net::RemotingClient remoting_;
  ScriptedServer namesrv_;
};

TEST_F(NameServerClientTest, ParsesJavaRouteAndDerivesPublishAndSubscribeQueues) {
  namesrv_.On(rq::kGetRouteInfoByTopic,
              [](const RemotingCommand&) { return Reply(rc::kSuccess, kJavaRoute); });
  NameServerClient ns(&remoting_, {namesrv_.addr()}, std::chrono::seconds(3));
  RouteCache cache(&ns, {});
  auto info = cache.GetPublishInfo("T");
  ASSERT_TRUE(info.ok()) << info.status();
  // broker-a is read-only, broker-c has no master: only broker-b's two queues take writes.
  ASSERT_EQ((*info)->queues.size(), 2u);
  EXPECT_EQ((*info)->queues[0], (MessageQueue{"T", "broker-b", 0}));
  EXPECT_EQ((*info)->queues[1], (MessageQueue{"T", "broker-b", 1}));
  auto sub = cache.GetSubscribeQueues("T");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->size(), 6u);  // 3 + 2 + 1 readable, sorted by broker
  EXPECT_EQ((*sub)[0], (MessageQueue{"T", "broker-a", 0}));
  EXPECT_EQ(cache.MasterAddr("broker-b").value_or(""), "10.0.0.2:10911");
  EXPECT_FALSE(cache.MasterAddr("broker-c").has_value());
  EXPECT_EQ(cache.BrokerAddr("broker-c", 0).value_or(""), "");
  EXPECT_EQ(cache.BrokerAddr("broker-c", 1).value_or(""), "10.0.0.9:10911");
  EXPECT_EQ(cache.AllBrokerAddrs(true).size(), 2u);
  EXPECT_EQ(cache.AllBrokerAddrs(false).size(), 4u);
  auto req = namesrv_.Requests(rq::kGetRouteInfoByTopic).at(0);
  EXPECT_EQ(req.ext_fields.at("topic"), "T");
  EXPECT_EQ(req.ext_fields.at("acceptStandardJsonOnly"), "true");
}

TEST_F(NameServerClientTest, FailsOverToTheNextNameServer) {
  namesrv_.On(rq::kGetRouteInfoByTopic,
              [](const RemotingCommand&) { return Reply(rc::kSuccess, kJavaRoute); });
  std::string dead;
  {
    ScriptedServer gone;
    dead = gone.addr();
  }  // closed: connecting is refused
  NameServerClient ns(&remoting_, {dead, namesrv_.addr()}, std::chrono::seconds(3));
  auto route = ns.GetTopicRoute("T");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->broker_datas.size(), 3u);
  // The one that answered is used first from now on.
  ASSERT_TRUE(ns.GetTopicRoute("T").ok());
  EXPECT_EQ(namesrv_.Count(rq::kGetRouteInfoByTopic), 2u);
}

TEST_F(NameServerClientTest, ErrorResponseIsNotRetriedElsewhere) {
  ScriptedServer second;
  namesrv_.On(rq::kGetRouteInfoByTopic, [](const RemotingCommand&) {
    return Reply(rc::kTopicNotExist, "", {}, "No topic route info in name server for the topic: T");
  });
  NameServerClient ns(&remoting_, {namesrv_.addr(), second.addr()}, std::chrono::seconds(3));
  auto route = ns.GetTopicRoute("T");
  ASSERT_FALSE(route.ok());
  EXPECT_TRUE(route.status().IsNotFound());
  EXPECT_NE(route.status().message().find("No topic route info"), std::string_view::npos);
  EXPECT_EQ(second.Count(rq::kGetRouteInfoByTopic), 0u);
}

TEST_F(NameServerClientTest, ReadsJavaClusterInfoAndTopicLists) {
  namesrv_.On(rq::kGetBrokerClusterInfo, [](const RemotingCommand&) {
    return Reply(
        rc::kSuccess,
        R"({"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"c1"}},)"
        R"("clusterAddrTable":{"c1":["broker-a"]}})");
  });
  namesrv_.On(rq::kGetAllTopicListFromNameServer,
              [](const RemotingCommand&) { return Reply(rc::kSuccess, R"({"topicList":["T1","T2"]})"); });
  NameServerClient ns(&remoting_, {namesrv_.addr()}, std::chrono::seconds(3));
  auto info = ns.GetClusterInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->broker_addr_table.at("broker-a").broker_addrs.at(0), "10.0.0.1:10911");
  EXPECT_EQ(info->cluster_addr_table.at("c1").count("broker-a"), 1u);
  auto topics = ns.GetAllTopicList();
  ASSERT_TRUE(topics.ok());
  EXPECT_EQ(*topics, (std::set<std::string>{"T1", "T2"}));
}

TEST_F(NameServerClientTest, WriteWipeAndAddReachEveryNameServer) {
  ScriptedServer second;
  for (ScriptedServer* s : {&namesrv_, &second}) {
    s->On(rq::kWipeWritePermOfBroker, [](const RemotingCommand&) {
      return Reply(rc::kSuccess, "", {{"wipeTopicCount", "3"}});
    });
    s->On(rq::kAddWritePermOfBroker, [](const RemotingCommand&) {
      return Reply(rc::kSuccess, "", {{"addTopicCount", "3"}});
    });
  }
  NameServerClient ns(&remoting_, {namesrv_.addr(), second.addr()}, std::chrono::seconds(3));
  auto wiped = ns.SetWritePerm("broker-a", false);
  ASSERT_TRUE(wiped.ok()) << wiped.status();
  EXPECT_EQ(*wiped, 3);
  EXPECT_EQ(namesrv_.Requests(rq::kWipeWritePermOfBroker).at(0).ext_fields.at("brokerName"), "broker-a");
  EXPECT_EQ(second.Count(rq::kWipeWritePermOfBroker), 1u) << "each name server keeps its own routes";
  ASSERT_TRUE(ns.SetWritePerm("broker-a", true).ok());
  EXPECT_EQ(second.Count(rq::kAddWritePermOfBroker), 1u);
}

TEST_F(NameServerClientTest, WriteWipeReportsANameServerItCouldNotReachAfterTryingTheRest) {
  namesrv_.On(rq::kWipeWritePermOfBroker, [](const RemotingCommand&) {
    return Reply(rc::kSuccess, "", {{"wipeTopicCount", "1"}});
  });
  std::string dead;
  {
    ScriptedServer gone;
    dead = gone.addr();
  }
  NameServerClient ns(&remoting_, {dead, namesrv_.addr()}, std::chrono::seconds(3));
  auto wiped = ns.SetWritePerm("broker-a", false);
  ASSERT_FALSE(wiped.ok());
  EXPECT_NE(wiped.status().message().find("wipe write permission of broker-a on name server " + dead),
            std::string_view::npos)
      << wiped.status();
  EXPECT_EQ(namesrv_.Count(rq::kWipeWritePermOfBroker), 1u);
}

}  // namespace
}  // namespace fmq::client
