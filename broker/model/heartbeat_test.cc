#include "broker/model/heartbeat.h"

#include <gtest/gtest.h>

#include "broker/base/java_hash.h"

namespace fmq::model {
namespace {

TEST(HeartbeatTest, DecodesAJavaHeartbeatWithEnumNames) {
  auto hb = DecodeHeartbeat(R"({"clientID":"10.1.2.3@12345","producerDataSet":[{"groupName":"pg1"}],
    "consumerDataSet":[{"groupName":"cg1","consumeType":"CONSUME_PASSIVELY","messageModel":"BROADCASTING",
    "consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","unitMode":false,
    "subscriptionDataSet":[{"topic":"TopicA","subString":"tagA || tagB","tagsSet":["tagA","tagB"],
    "codeSet":[1,2],"subVersion":1690000000000,"expressionType":"TAG","classFilterMode":false,
    "filterClassSource":null}]}]})");
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->client_id, "10.1.2.3@12345");
  EXPECT_EQ(hb->producer_groups, std::vector<std::string>{"pg1"});
  ASSERT_EQ(hb->consumers.size(), 1u);
  const auto& c = hb->consumers[0];
  EXPECT_EQ(c.message_model, MessageModel::kBroadcasting);
  EXPECT_EQ(c.consume_from_where, ConsumeFromWhere::kFirstOffset);
  ASSERT_EQ(c.subscriptions.size(), 1u);
  EXPECT_EQ(c.subscriptions[0].sub_version, 1690000000000);
  EXPECT_EQ(c.subscriptions[0].tags_set, (std::set<std::string>{"tagA", "tagB"}));
  // Codes are recomputed with Java's hashCode, whatever the client sent.
  EXPECT_EQ(c.subscriptions[0].code_set,
            (std::set<int32_t>{JavaStringHashCode("tagA"), JavaStringHashCode("tagB")}));
}

TEST(HeartbeatTest, DecodesACppHeartbeatWithOrdinalsAndAStringSubVersion) {
  auto hb = DecodeHeartbeat(R"({"clientID":"c@1","consumerDataSet":[{"groupName":"g","consumeType":1,
    "messageModel":1,"consumeFromWhere":2,"subscriptionDataSet":[{"topic":"T","subString":"*",
    "tagsSet":[],"codeSet":[],"subVersion":"1690000000001"}]}],"producerDataSet":[]})");
  ASSERT_TRUE(hb.ok()) << hb.status();
  const auto& c = hb->consumers[0];
  EXPECT_EQ(c.consume_type, ConsumeType::kPassively);
  EXPECT_EQ(c.message_model, MessageModel::kClustering);
  EXPECT_EQ(c.consume_from_where, ConsumeFromWhere::kMinOffset);
  EXPECT_EQ(c.subscriptions[0].sub_version, 1690000000001);
  EXPECT_EQ(c.subscriptions[0].expression_type, "TAG");
  EXPECT_TRUE(c.subscriptions[0].code_set.empty()) << "'*' subscribes to everything";
}

TEST(HeartbeatTest, RejectsBodiesAClientCouldNotHaveMeant) {
  EXPECT_FALSE(DecodeHeartbeat("not json").ok());
  EXPECT_FALSE(DecodeHeartbeat(R"({"producerDataSet":[]})").ok()) << "no clientID";
  EXPECT_FALSE(
      DecodeHeartbeat(R"({"clientID":"c","consumerDataSet":[{"groupName":"g","messageModel":7}]})").ok());
}

TEST(HeartbeatTest, EncodingRoundTrips) {
  HeartbeatData hb;
  hb.client_id = "me@1";
  hb.producer_groups = {"p"};
  ConsumerData c;
  c.group_name = "g";
  SubscriptionData s;
  s.topic = "T";
  s.sub_string = "a||b";
  ParseTagExpression(s.sub_string, &s.tags_set, &s.code_set);
  c.subscriptions.push_back(s);
  hb.consumers.push_back(c);
  auto back = DecodeHeartbeat(EncodeHeartbeat(hb));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->consumers[0].subscriptions[0].tags_set, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(back->producer_groups, hb.producer_groups);
}

}  // namespace
}  // namespace fmq::model
