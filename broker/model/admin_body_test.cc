#include "broker/model/admin_body.h"

#include <gtest/gtest.h>

namespace fmq::model {
namespace {

TEST(AdminBodyTest, TopicStatsAreWrittenWithMessageQueueKeysAsFastjsonDoes) {
  TopicStatsTable t;
  t[{"t1", "broker-a", 1}] = {0, 5, 1700000000000};
  t[{"t1", "broker-a", 0}] = {2, 7, 0};
  EXPECT_EQ(EncodeTopicStatsTable(t),
            R"({"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"t1"}:{"lastUpdateTimestamp":0,)"
            R"("maxOffset":7,"minOffset":2},{"brokerName":"broker-a","queueId":1,"topic":"t1"}:)"
            R"({"lastUpdateTimestamp":1700000000000,"maxOffset":5,"minOffset":0}}})");
  auto back = DecodeTopicStatsTable(EncodeTopicStatsTable(t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(AdminBodyTest, ConsumeStatsRoundTripAndReadTheGoForm) {
  ConsumeStats s;
  s.consume_tps = 12.5;
  s.offset_table[{"t", "b", 3}] = {100, 90, 1700000000123};
  auto back = DecodeConsumeStats(EncodeConsumeStats(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->offset_table, s.offset_table);
  EXPECT_DOUBLE_EQ(back->consume_tps, 12.5);
  // Standard JSON with the queue as a string key (what a standard encoder would write) reads the same.
  auto standard = DecodeConsumeStats(
      R"({"consumeTps":0,"offsetTable":{"{\"brokerName\":\"b\",\"queueId\":3,\"topic\":\"t\"}":)"
      R"({"brokerOffset":100,"consumerOffset":90,"lastTimestamp":1700000000123}}})");
  ASSERT_TRUE(standard.ok()) << standard.status();
  EXPECT_EQ(standard->offset_table, s.offset_table);
}

TEST(AdminBodyTest, NormalizeQuotesNumberAndObjectKeysOnly) {
  auto n = NormalizeFastjson(R"({"offsetTable":{"t@g":{0:15, 1:22}},"s":"a:{b}","arr":[1,{2:3}]})");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, R"({"offsetTable":{"t@g":{"0":15,"1":22}},"s":"a:{b}","arr":[1,{"2":3}]})");
  EXPECT_FALSE(NormalizeFastjson("{\"a\":").ok());
  EXPECT_FALSE(NormalizeFastjson("{\"a\" 1}").ok());
  EXPECT_FALSE(NormalizeFastjson("[1,2").ok());
  EXPECT_FALSE(NormalizeFastjson("{\"a\":\"unterminated}").ok());
  EXPECT_FALSE(NormalizeFastjson(std::string(200, '[')).ok());  // too deep, not a stack overflow
  EXPECT_FALSE(NormalizeFastjson("{} x").ok());
  // A bare key with bytes that are not UTF-8 (found by body_fuzz) is quoted, not thrown on.
  auto bad_utf8 = NormalizeFastjson("{{1:\"a\xfe\xff\"}:2}");
  ASSERT_TRUE(bad_utf8.ok()) << bad_utf8.status();
}

TEST(AdminBodyTest, SubscriptionGroupTableKeepsEveryField) {
  SubscriptionGroupWrapper w;
  SubscriptionGroupConfig g;
  g.group_name = "cg";
  g.consume_broadcast_enable = false;
  g.retry_queue_nums = 3;
  g.retry_max_times = 5;
  g.which_broker_when_consume_slowly = 2;
  g.consume_message_orderly = true;
  w.subscription_group_table["cg"] = g;
  w.data_version = {4, 1700000000000};
  auto back = DecodeSubscriptionGroupWrapper(EncodeSubscriptionGroupWrapper(w));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->subscription_group_table.at("cg"), g);
  EXPECT_EQ(back->data_version, w.data_version);
  // Java's body for UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, with fields we do not model.
  auto one = DecodeSubscriptionGroupConfig(
      R"({"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":false,"consumeFromMinEnable":true,)"
      R"("consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"g2","groupRetryPolicy":{},)"
      R"("notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,)"
      R"("whichBrokerWhenConsumeSlowly":1})");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->group_name, "g2");
  EXPECT_FALSE(one->consume_enable);
  EXPECT_FALSE(one->consume_message_orderly);
  EXPECT_FALSE(DecodeSubscriptionGroupConfig(R"({"consumeEnable":true})").ok());
}

TEST(AdminBodyTest, LockBatchBodiesAsTheJavaClientSendsThem) {
  auto req = DecodeLockBatchRequest(
      R"({"clientId":"10.0.0.1@123","consumerGroup":"cg","mqSet":[{"brokerName":"b","queueId":1,"topic":"t"},)"
      R"({"brokerName":"b","queueId":0,"topic":"t"}],"onlyThisBroker":false})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->client_id, "10.0.0.1@123");
  ASSERT_EQ(req->mq_set.size(), 2u);
  EXPECT_EQ(req->mq_set.begin()->queue_id, 0);
  auto resp = DecodeLockBatchResponse(EncodeLockBatchResponse(req->mq_set));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(*resp, req->mq_set);
  EXPECT_FALSE(DecodeLockBatchRequest(R"({"mqSet":[]})").ok());
}

TEST(AdminBodyTest, ConsumerConnectionWritesEnumNames) {
  ConsumerConnection c;
  c.connection_set.push_back({"cid", "127.0.0.1:5555", "JAVA", 407});
  SubscriptionData s;
  s.topic = "t";
  s.sub_string = "a || b";
  ParseTagExpression(s.sub_string, &s.tags_set, &s.code_set);
  c.subscription_table["t"] = s;
  c.message_model = MessageModel::kBroadcasting;
  const std::string text = EncodeConsumerConnection(c);
  EXPECT_NE(text.find(R"("messageModel":"BROADCASTING")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("consumeType":"CONSUME_PASSIVELY")"), std::string::npos) << text;
  auto back = DecodeConsumerConnection(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->message_model, MessageModel::kBroadcasting);
  EXPECT_EQ(back->subscription_table.at("t").tags_set, s.tags_set);
  ASSERT_EQ(back->connection_set.size(), 1u);
  EXPECT_EQ(back->connection_set[0].version, 407);
}

TEST(AdminBodyTest, KvTableAndConsumerIdList) {
  auto kv = DecodeKvTable(EncodeKvTable({{"putTps", "1.0 2.0 3.0"}, {"brokerVersionDesc", "V4_9_7"}}));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->at("putTps"), "1.0 2.0 3.0");
  auto ids = DecodeConsumerIdList(EncodeConsumerIdList({"a@1", "b@2"}));
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"a@1", "b@2"}));
}

TEST(AdminBodyTest, ResetOffsetBodyIsFastjsonsFormAndTheCFormDecodesToo) {
  ResetOffsetTable table{{{"T", "b", 0}, 12}, {{"T", "b", 1}, 0}};
  EXPECT_EQ(
      EncodeResetOffsetBody(table),
      R"({"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:12,{"brokerName":"b","queueId":1,"topic":"T"}:0}})");
  EXPECT_EQ(EncodeResetOffsetBodyForC(table),
            R"({"offsetTable":[{"brokerName":"b","offset":12,"queueId":0,"topic":"T"},)"
            R"({"brokerName":"b","offset":0,"queueId":1,"topic":"T"}]})");
  for (const auto& text : {EncodeResetOffsetBody(table), EncodeResetOffsetBodyForC(table)}) {
    auto back = DecodeResetOffsetBody(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, table);
  }
  EXPECT_FALSE(DecodeResetOffsetBody(R"({"offsetTable":[1]})").ok());
  EXPECT_FALSE(DecodeResetOffsetBody("garbage").ok());
}

TEST(AdminBodyTest, ConsumerRunningInfoAsAJavaPushConsumerWritesIt) {
  // The shape of a 4.9 Java push consumer's answer (fastjson: MessageQueue keys bare, Properties as strings).
  const std::string body =
      R"({"jstack":"","mqTable":{{"brokerName":"b1","queueId":0,"topic":"orders"}:{"cachedMsgCount":120,)"
      R"("cachedMsgMaxOffset":220,"cachedMsgMinOffset":100,"cachedMsgSizeInMiB":1,"commitOffset":100,"droped":false,)"
      R"("lastConsumeTimestamp":1700000000000,"lastLockTimestamp":1700000000000,"lastPullTimestamp":1700000060000,)"
      R"("locked":false,"transactionMsgCount":0,"transactionMsgMaxOffset":0,"transactionMsgMinOffset":0,)"
      R"("tryUnlockTimes":0}},"properties":{"PROP_CONSUMEORDERLY":"false","PROP_CONSUME_TYPE":"CONSUME_PASSIVELY",)"
      R"("PROP_CLIENT_VERSION":"V4_9_4","PROP_THREADPOOL_CORE_SIZE":"20","consumeThreadMin":"20"},)"
      R"("statusTable":{"orders":{"consumeFailedMsgs":7,"consumeFailedTPS":0.5,"consumeOKTPS":12.25,"consumeRT":3.5,)"
      R"("pullRT":1.0,"pullTPS":13.0}},"subscriptionSet":[{"classFilterMode":false,"codeSet":[],)"
      R"("expressionType":"TAG","subString":"*","subVersion":1700000000001,"tagsSet":[],"topic":"orders"},)"
      R"({"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1,"tagsSet":[],)"
      R"("topic":"%RETRY%billing"}]})";
  auto info = DecodeConsumerRunningInfo(body);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->push());
  EXPECT_FALSE(info->orderly());
  EXPECT_EQ(info->properties.at("PROP_CLIENT_VERSION"), "V4_9_4");
  ASSERT_EQ(info->subscriptions.size(), 2u);
  EXPECT_EQ(info->subscriptions[0].topic, "orders");
  EXPECT_EQ(info->subscriptions[0].sub_string, "*");
  ASSERT_EQ(info->mq_table.size(), 1u);
  const ProcessQueueInfo& q = info->mq_table.at({"orders", "b1", 0});
  EXPECT_EQ(q.cached_msg_count, 120);
  EXPECT_EQ(q.commit_offset, 100);
  EXPECT_EQ(q.last_consume_timestamp, 1700000000000);
  EXPECT_EQ(q.last_pull_timestamp, 1700000060000);
  EXPECT_FALSE(q.dropped);
  const ConsumeStatus& st = info->status_table.at("orders");
  EXPECT_EQ(st.consume_failed_msgs, 7);
  EXPECT_DOUBLE_EQ(st.consume_ok_tps, 12.25);
  EXPECT_DOUBLE_EQ(st.consume_rt, 3.5);

  // FerryMQ's push consumer writes the same form: it reads back.
  auto again = DecodeConsumerRunningInfo(EncodeConsumerRunningInfo(*info));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->properties, info->properties);
  ASSERT_EQ(again->subscriptions.size(), 2u);
  EXPECT_EQ(again->subscriptions[1].topic, "%RETRY%billing");
  EXPECT_EQ(again->mq_table.at({"orders", "b1", 0}).cached_msg_count, 120);
  EXPECT_EQ(again->mq_table.at({"orders", "b1", 0}).last_consume_timestamp, 1700000000000);
  EXPECT_EQ(again->status_table.at("orders").consume_failed_msgs, 7);
  EXPECT_NE(EncodeConsumerRunningInfo(*info).find(R"({{"brokerName":"b1","queueId":0,"topic":"orders"}:)"),
            std::string::npos);

  // A pull consumer (no process queues) and bodies that are not running info.
  auto pull = DecodeConsumerRunningInfo(R"({"properties":{"PROP_CONSUME_TYPE":"CONSUME_ACTIVELY"}})");
  ASSERT_TRUE(pull.ok());
  EXPECT_FALSE(pull->push());
  EXPECT_FALSE(DecodeConsumerRunningInfo("not json").ok());
  EXPECT_FALSE(DecodeConsumerRunningInfo(R"({"mqTable":{"x":{}}})").ok());
}

}  // namespace
}  // namespace fmq::model
