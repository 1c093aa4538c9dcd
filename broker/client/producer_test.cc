#include "broker/client/producer.h"

#include <gtest/gtest.h>

#include <future>

#include "broker/client/client_test_util.h"
#include "broker/model/message.h"
#include "broker/protocol/headers.h"

namespace fmq::client {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;
using testing::Reply;
using testing::ScriptedServer;

Message Msg(std::string topic, std::string tags, std::string keys, std::string body) {
  Message m;
  m.topic = std::move(topic);
  m.tags = std::move(tags);
  m.keys = std::move(keys);
  m.body = std::move(body);
  return m;
}

// Route with broker-b (listed first, to check sorting) and broker-a, 2 write queues each.
std::string TwoBrokerRoute(const std::string& a_addr, const std::string& b_addr) {
  model::TopicRouteData r;
  r.queue_datas = {{"broker-b", 2, 2, 6, 0}, {"broker-a", 2, 2, 6, 0}};
  r.broker_datas = {{"c1", "broker-b", {{0, b_addr}}}, {"c1", "broker-a", {{0, a_addr}}}};
  return model::EncodeTopicRouteData(r);
}

testing::Script SendOk(int32_t queue_offset) {
  return [queue_offset](const RemotingCommand& req) {
    return Reply(rc::kSuccess, "",
                 {{"msgId", "7F00000100002A9F0000000000001A2B"},
                  {"queueId", req.ext_fields.at("e")},
                  {"queueOffset", std::to_string(queue_offset)}});
  };
}

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namesrv_.On(rq::kGetRouteInfoByTopic, [this](const RemotingCommand& req) {
      if (req.ext_fields.at("topic") != "T") return Reply(rc::kTopicNotExist, "", {}, "No topic route info");
      return Reply(rc::kSuccess, TwoBrokerRoute(a_.addr(), b_.addr()));
    });
    ProducerConfig c;
    c.group = "pg";
    c.client.namesrv_addrs = {namesrv_.addr()};
    c.heartbeat = false;
    producer_ = std::make_unique<Producer>(c);
    ASSERT_TRUE(producer_->Start().ok());
  }
  void TearDown() override { producer_->Stop(); }

  ScriptedServer namesrv_, a_, b_;
  std::unique_ptr<Producer> producer_;
};

TEST_F(ProducerTest, SendsV2HeaderWithTagsKeysUniqKeyAndWait) {
  a_.On(rq::kSendMessageV2, SendOk(41));
  b_.On(rq::kSendMessageV2, SendOk(41));
  Message m = Msg("T", "TagA", "k1 k2", "hello");
  m.flag = 7;
  m.properties = {{"color", "red"}};
  m.flag = 7;
  m.properties = {{"color", "red"}};
  auto r = producer_->Send(m);
  ASSERT_TRUE(r.ok()) << r.status();
  // The first queue in sorted order is broker-a / 1 after the counter moved once? Either way the request
  // landed on exactly one broker.
  auto reqs = a_.Requests(rq::kSendMessageV2);
  auto breqs = b_.Requests(rq::kSendMessageV2);
  ASSERT_EQ(reqs.size() + breqs.size(), 1u);
  const RemotingCommand& req = reqs.empty() ? breqs[0] : reqs[0];
  EXPECT_EQ(req.ext_fields.at("a"), "pg");
  EXPECT_EQ(req.ext_fields.at("b"), "T");
  EXPECT_EQ(req.ext_fields.at("c"), "TBW102");
  EXPECT_EQ(req.ext_fields.at("d"), "4");
  EXPECT_EQ(req.ext_fields.at("f"), "0");
  EXPECT_EQ(req.ext_fields.at("h"), "7");
  EXPECT_EQ(req.ext_fields.at("j"), "0");
  EXPECT_EQ(req.ext_fields.at("k"), "false");
  EXPECT_EQ(req.ext_fields.at("m"), "false");
  EXPECT_EQ(req.body, "hello");
  auto props = model::DecodeProperties(req.ext_fields.at("i"));
  EXPECT_EQ(props["TAGS"], "TagA");
  EXPECT_EQ(props["KEYS"], "k1 k2");
  EXPECT_EQ(props["WAIT"], "true");
  EXPECT_EQ(props["color"], "red");
  EXPECT_EQ(props["UNIQ_KEY"].size(), 32u);
  EXPECT_EQ(props["UNIQ_KEY"], r->msg_id);
  EXPECT_EQ(r->offset_msg_id, "7F00000100002A9F0000000000001A2B");
  EXPECT_EQ(r->queue_offset, 41);
  EXPECT_EQ(std::to_string(r->queue.queue_id), req.ext_fields.at("e"));
  EXPECT_EQ(r->status, SendStatus::kSendOk);
}

TEST_F(ProducerTest, SelectsQueuesRoundRobinInBrokerNameOrder) {
  a_.On(rq::kSendMessageV2, SendOk(0));
  b_.On(rq::kSendMessageV2, SendOk(0));
  std::vector<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    auto r = producer_->Send(Msg("T", "", "", "x"));
    ASSERT_TRUE(r.ok()) << r.status();
    seen.push_back(r->queue.broker_name + "/" + std::to_string(r->queue.queue_id));
  }
  // Publish queues sorted by broker name: a/0 a/1 b/0 b/1, visited cyclically.
  const std::vector<std::string> cycle = {"broker-a/0", "broker-a/1", "broker-b/0", "broker-b/1"};
  auto start = std::find(cycle.begin(), cycle.end(), seen[0]) - cycle.begin();
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], cycle[(start + i) % 4]) << i;
  EXPECT_EQ(a_.Count(rq::kSendMessageV2), 4u);
  EXPECT_EQ(b_.Count(rq::kSendMessageV2), 4u);
}

TEST_F(ProducerTest, RetriesOnAnotherBrokerWhenServiceNotAvailable) {
  a_.On(rq::kSendMessageV2,
        [](const RemotingCommand&) { return Reply(rc::kServiceNotAvailable, "", {}, "disk full"); });
  b_.On(rq::kSendMessageV2, SendOk(5));
  for (int i = 0; i < 4; ++i) {
    auto r = producer_->Send(Msg("T", "", "", "x"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->queue.broker_name, "broker-b");
  }
  // Every attempt on broker-a was followed by one on broker-b, never a second one on broker-a.
  EXPECT_EQ(b_.Count(rq::kSendMessageV2), 4u);
  EXPECT_LE(a_.Count(rq::kSendMessageV2), 4u);
  EXPECT_GE(a_.Count(rq::kSendMessageV2), 1u);
}

TEST_F(ProducerTest, DoesNotRetryMessageIllegal) {
  a_.On(rq::kSendMessageV2,
        [](const RemotingCommand&) { return Reply(rc::kMessageIllegal, "", {}, "too big"); });
  b_.On(rq::kSendMessageV2,
        [](const RemotingCommand&) { return Reply(rc::kMessageIllegal, "", {}, "too big"); });
  auto r = producer_->Send(Msg("T", "", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("CODE: 13"), std::string_view::npos) << r.status();
  EXPECT_EQ(a_.Count(rq::kSendMessageV2) + b_.Count(rq::kSendMessageV2), 1u);
}

TEST_F(ProducerTest, GivesUpAfterThreeAttempts) {
  a_.On(rq::kSendMessageV2, [](const RemotingCommand&) { return Reply(rc::kSystemError, "", {}, "boom"); });
  b_.On(rq::kSendMessageV2, [](const RemotingCommand&) { return Reply(rc::kSystemError, "", {}, "boom"); });
  auto r = producer_->Send(Msg("T", "", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(a_.Count(rq::kSendMessageV2) + b_.Count(rq::kSendMessageV2), 3u);
}

TEST_F(ProducerTest, FlushDiskTimeoutIsASendWithDegradedStatus) {
  auto flush_timeout = [](const RemotingCommand& req) {
    return Reply(rc::kFlushDiskTimeout, "",
                 {{"msgId", "X"}, {"queueId", req.ext_fields.at("e")}, {"queueOffset", "3"}});
  };
  a_.On(rq::kSendMessageV2, flush_timeout);
  b_.On(rq::kSendMessageV2, flush_timeout);
  auto r = producer_->Send(Msg("T", "", "", "x"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, SendStatus::kFlushDiskTimeout);
  EXPECT_EQ(a_.Count(rq::kSendMessageV2) + b_.Count(rq::kSendMessageV2), 1u);
}

TEST_F(ProducerTest, NoRouteGivesTheJavaClientsMessage) {
  auto r = producer_->Send(Msg("Unknown", "", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("No route info of this topic: Unknown"), std::string_view::npos)
      << r.status();
  // It asked for the topic, then for TBW102 (auto-creation fallback).
  auto reqs = namesrv_.Requests(rq::kGetRouteInfoByTopic);
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].ext_fields.at("topic"), "TBW102");
}

TEST_F(ProducerTest, BatchUsesCode320WithBatchBody) {
  a_.On(rq::kSendBatchMessage, SendOk(9));
  b_.On(rq::kSendBatchMessage, SendOk(9));
  std::vector<Message> msgs = {Msg("T", "a", "k1", "one"), Msg("T", "b", "", "two")};
  auto r = producer_->SendBatch(msgs);
  ASSERT_TRUE(r.ok()) << r.status();
  auto reqs = a_.Requests(rq::kSendBatchMessage);
  auto breqs = b_.Requests(rq::kSendBatchMessage);
  ASSERT_EQ(reqs.size() + breqs.size(), 1u);
  const RemotingCommand& req = reqs.empty() ? breqs[0] : reqs[0];
  EXPECT_EQ(req.ext_fields.at("m"), "true");
  auto entries = model::DecodeBatchBody({reinterpret_cast<const uint8_t*>(req.body.data()), req.body.size()});
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].body, "one");
  EXPECT_EQ(model::DecodeProperties((*entries)[0].properties)["TAGS"], "a");
  EXPECT_EQ(model::DecodeProperties((*entries)[0].properties)["KEYS"], "k1");
  EXPECT_EQ((*entries)[1].body, "two");
  const std::string id0 = model::DecodeProperties((*entries)[0].properties)["UNIQ_KEY"];
  const std::string id1 = model::DecodeProperties((*entries)[1].properties)["UNIQ_KEY"];
  EXPECT_EQ(r->msg_id, id0 + "," + id1);
}

TEST_F(ProducerTest, AsyncSendCallsBackWithTheResult) {
  a_.On(rq::kSendMessageV2, [](const RemotingCommand&) { return Reply(rc::kServiceNotAvailable); });
  b_.On(rq::kSendMessageV2, SendOk(12));
  std::vector<std::future<Result<SendResult>>> futures;
  for (int i = 0; i < 4; ++i) {
    auto p = std::make_shared<std::promise<Result<SendResult>>>();
    futures.push_back(p->get_future());
    producer_->SendAsync(Msg("T", "", "", "x"), [p](Result<SendResult> r) { p->set_value(std::move(r)); });
  }
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->queue.broker_name, "broker-b");  // retried off broker-a
    EXPECT_EQ(r->queue_offset, 12);
  }
}

TEST_F(ProducerTest, OnewaySendsWithoutWaiting) {
  a_.On(rq::kSendMessageV2, SendOk(0));
  b_.On(rq::kSendMessageV2, SendOk(0));
  ASSERT_TRUE(producer_->SendOneway(Msg("T", "", "", "x")).ok());
  EXPECT_TRUE(
      testing::Eventually([&] { return a_.Count(rq::kSendMessageV2) + b_.Count(rq::kSendMessageV2) == 1; }));
  auto reqs = a_.Requests(rq::kSendMessageV2);
  if (reqs.empty()) reqs = b_.Requests(rq::kSendMessageV2);
  EXPECT_TRUE(reqs[0].IsOneway());
}

TEST_F(ProducerTest, CanSendWithBinaryRocketMqHeaders) {
  a_.On(rq::kSendMessageV2, SendOk(3));
  b_.On(rq::kSendMessageV2, SendOk(3));
  ProducerConfig c;
  c.group = "pg";
  c.client.namesrv_addrs = {namesrv_.addr()};
  c.client.request_serialize_type = protocol::SerializeType::kRocketMq;
  c.heartbeat = false;
  Producer binary(c);
  ASSERT_TRUE(binary.Start().ok());
  auto r = binary.Send(Msg("T", "x", "", "body"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->queue_offset, 3);
  auto reqs = a_.Requests(rq::kSendMessageV2);
  if (reqs.empty()) reqs = b_.Requests(rq::kSendMessageV2);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].serialize_type, protocol::SerializeType::kRocketMq);
  EXPECT_EQ(model::DecodeProperties(reqs[0].ext_fields.at("i"))["TAGS"], "x");
  binary.Stop();
}

TEST_F(ProducerTest, RejectsEmptyBodyAndBadTopic) {
  EXPECT_FALSE(producer_->Send(Msg("T", "", "", "")).ok());
  EXPECT_FALSE(producer_->Send(Msg("bad topic", "", "", "x")).ok());
}

}  // namespace
}  // namespace fmq::client
