#include "broker/model/route.h"

#include <gtest/gtest.h>

namespace fmq::model {
namespace {

TEST(RouteTest, ReadsJavaFastjsonRouteBodiesWithUnquotedKeysRejected) {
  // Standard JSON as 4.9.4+ name servers write it.
  auto r = DecodeTopicRouteData(
      R"({"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"a","cluster":"c"}],)"
      R"("filterServerTable":{},"queueDatas":[{"brokerName":"a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->broker_datas[0].broker_addrs.at(1), "10.0.0.2:10911");
  EXPECT_EQ(r->queue_datas[0], (QueueData{"a", 4, 4, 6, 0}));
  // fastjson's unquoted numeric keys are not JSON: a clear error, not a crash.
  EXPECT_FALSE(DecodeTopicRouteData(R"({"brokerDatas":[{"brokerAddrs":{0:"x"}}]})").ok());
}

TEST(RouteTest, RegisterBrokerBodyRoundTrips) {
  RegisterBrokerBody body;
  body.data_version = {7, 1700000000000};
  TopicConfig t;
  t.topic_name = "T";
  t.read_queue_nums = 8;
  t.write_queue_nums = 4;
  t.perm = 6;
  t.order = true;
  body.topic_config_table["T"] = t;
  auto back = DecodeRegisterBrokerBody(EncodeRegisterBrokerBody(body));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->data_version, body.data_version);
  EXPECT_EQ(back->topic_config_table.at("T"), t);
}

TEST(RouteTest, ClusterInfoAndTopicListRoundTrip) {
  ClusterInfo info;
  info.broker_addr_table["a"] = BrokerData{"c", "a", {{0, "h:1"}}};
  info.cluster_addr_table["c"] = {"a"};
  auto back = DecodeClusterInfo(EncodeClusterInfo(info));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->broker_addr_table.at("a"), info.broker_addr_table.at("a"));
  EXPECT_EQ(back->cluster_addr_table.at("c"), info.cluster_addr_table.at("c"));
  EXPECT_EQ(*DecodeTopicList(EncodeTopicList({"x", "y"})), (std::set<std::string>{"x", "y"}));
}

TEST(RouteTest, DataVersionRoundTripsAndAWrongTypeReadsAsZeroNotAnException) {
  EXPECT_EQ(EncodeDataVersion({7, 1764921600000}), R"({"counter":7,"timestamp":1764921600000})");
  EXPECT_EQ(*DecodeDataVersion(EncodeDataVersion({7, 42})), (DataVersion{7, 42}));
  // QUERY_DATA_VERSION bodies come off the network: a string where a number belongs must not throw.
  EXPECT_EQ(*DecodeDataVersion(R"({"counter":"7","timestamp":[1]})"), (DataVersion{7, 0}))
      << "a quoted number reads as fastjson reads it";
  EXPECT_FALSE(DecodeDataVersion("not json").ok());
}

}  // namespace
}  // namespace fmq::model
