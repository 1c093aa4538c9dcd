#include "broker/server/send_message_processor.h"

#include <gtest/gtest.h>

#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/net/remoting_client.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/schedule_message_service.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

using protocol::RemotingCommand;
namespace rq = protocol::request_code;
namespace rc = protocol::response_code;

class SendMessageProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(true); }
  void TearDown() override { Stop(); }

  void Start(bool auto_create) {
    broker_.auto_create_topic_enable = auto_create;
    store::MessageStoreConfig sc = testing::TestStoreConfig(broker_.cluster_name, broker_.broker_name);
    store_ = std::make_unique<store::MessageStore>(sc, faulty_, clock_,
                                                   store::StoreOptions{.background_services = false});
    ASSERT_TRUE(store_->Open().ok());
    topics_ = std::make_unique<TopicConfigManager>(faulty_, "/store/config/topics.json", broker_, clock_);
    ASSERT_TRUE(topics_->Load().ok());
    groups_ = std::make_unique<SubscriptionGroupManager>(faulty_, "/store/config/subscriptionGroup.json",
                                                         /*auto_create=*/true, clock_);
    ASSERT_TRUE(groups_->Load().ok());
    processor_ = std::make_unique<SendMessageProcessor>(broker_, *store_, *topics_, *groups_);
    server_ = std::make_unique<net::RemotingServer>(net::ServerConfig{.host = "127.0.0.1", .port = 0});
    for (int32_t code :
         {rq::kSendMessage, rq::kSendMessageV2, rq::kSendBatchMessage, rq::kConsumerSendMsgBack}) {
      server_->Register(
          code, [this](RemotingCommand r, net::Responder resp) { processor_->Handle(std::move(r), resp); },
          &executor_);
    }
    ASSERT_TRUE(executor_.Start().ok());
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(client_.Start().ok());
    addr_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void Stop() {
    client_.Stop();
    if (server_) server_->Stop();
    executor_.Stop();
    if (store_) store_->Close();
  }

  RemotingCommand Send(int32_t code, protocol::SendMessageRequestHeader h, std::string body) {
    RemotingCommand req = RemotingCommand::Request(code, 0);
    (code == rq::kSendMessage ? protocol::SendMessageRequestHeader::V1()
                              : protocol::SendMessageRequestHeader::V2())
        .Encode(h, &req.ext_fields);
    req.body = std::move(body);
    auto r = client_.InvokeSync(addr_, req, std::chrono::seconds(10));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RemotingCommand{};
  }

  static protocol::SendMessageRequestHeader Header(const std::string& topic, int queue = 0) {
    return testing::SendHeader(topic, queue, {{"TAGS", "TagA"}, {"KEYS", "order-1"}, {"UNIQ_KEY", "U1"}});
  }

  BrokerConfig broker_;
  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  io::FaultInjectionFileSystem faulty_{&mem_};
  std::unique_ptr<store::MessageStore> store_;
  std::unique_ptr<TopicConfigManager> topics_;
  std::unique_ptr<SubscriptionGroupManager> groups_;
  std::unique_ptr<SendMessageProcessor> processor_;
  net::BoundedExecutor executor_{"send", 2, 1000};
  std::unique_ptr<net::RemotingServer> server_;
  net::RemotingClient client_;
  std::string addr_;
};

TEST_F(SendMessageProcessorTest, AV2SendIsStoredWithTheClientAsBornHostAndTheClusterProperty) {
  auto r = Send(rq::kSendMessageV2, Header("TopicTest", 2), "hello");
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  EXPECT_EQ(r.ext_fields.at("queueId"), "2");
  EXPECT_EQ(r.ext_fields.at("queueOffset"), "0");
  EXPECT_EQ(r.ext_fields.at("MSG_REGION"), "DefaultRegion");
  EXPECT_EQ(r.ext_fields.at("TRACE_ON"), "true");
  auto id = model::DecodeOffsetMessageId(r.ext_fields.at("msgId"));
  ASSERT_TRUE(id.ok()) << r.ext_fields.at("msgId");
  auto m = store_->LookMessageByOffset(id->offset);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->body, "hello");
  EXPECT_EQ(m->topic, "TopicTest");
  EXPECT_EQ(m->queue_id.value(), 2);
  EXPECT_EQ(m->born_host.ToString().rfind("127.0.0.1:", 0), 0u) << m->born_host.ToString();
  auto props = model::DecodeProperties(m->properties);
  EXPECT_EQ(props.at("CLUSTER"), "DefaultCluster");
  EXPECT_EQ(props.at("TAGS"), "TagA");
  ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  EXPECT_EQ(store_->QueryMessage("TopicTest", "order-1", 4, 0, INT64_MAX).messages.size(), 1u);
}

TEST_F(SendMessageProcessorTest, AnUnknownTopicIsAutoCreatedFromTbw102AndPersisted) {
  auto r = Send(rq::kSendMessage, Header("NewTopic", -1), "x");
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  auto cfg = topics_->Find("NewTopic");
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->write_queue_nums, 4);  // min(header's 4, TBW102's 8)
  EXPECT_EQ(cfg->perm, 6);              // without INHERIT
  auto text = io::ReadFileToString(mem_, "/store/config/topics.json");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"NewTopic\""), std::string::npos);
  EXPECT_LT(std::stoi(r.ext_fields.at("queueId")), 4) << "queue -1 picks a writable queue";
}

TEST_F(SendMessageProcessorTest, WithoutAutoCreationAnUnknownTopicIsTopicNotExist) {
  Stop();
  Start(false);
  auto r = Send(rq::kSendMessageV2, Header("Nope"), "x");
  EXPECT_EQ(r.code, rc::kTopicNotExist);
  EXPECT_EQ(r.remark, "topic[Nope] not exist, apply first please!");
}

TEST_F(SendMessageProcessorTest, ABatchIsStoredAsConsecutiveMessagesWithCommaSeparatedIds) {
  std::vector<model::BatchEntry> entries;
  for (int i = 0; i < 3; ++i) {
    entries.push_back(
        {0, "m" + std::to_string(i), model::EncodeProperties({{"UNIQ_KEY", "B" + std::to_string(i)}})});
  }
  auto h = Header("TopicTest", 1);
  h.batch = true;
  h.properties = std::nullopt;
  // C++ clients send batches as code 310 with batch=true; the flag decides, not the code.
  auto r = Send(rq::kSendMessageV2, h, model::EncodeBatchBody(entries));
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  const std::string ids = r.ext_fields.at("msgId");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), ','), 2);
  ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  EXPECT_EQ(store_->MaxOffsetInQueue("TopicTest", QueueId(1)).value(), 3);
  auto second = store_->LookMessageByOffset(model::DecodeOffsetMessageId(ids.substr(33, 32))->offset);
  EXPECT_EQ(second->body, "m1");
  EXPECT_EQ(model::DecodeProperties(second->properties).at("CLUSTER"), "DefaultCluster");
}

TEST_F(SendMessageProcessorTest, BadRequestsGetTheJavaBrokersCodes) {
  EXPECT_EQ(Send(rq::kSendMessageV2, Header("bad topic"), "x").code, rc::kSystemError);
  auto forbidden = Send(rq::kSendMessageV2, Header("SCHEDULE_TOPIC_XXXX"), "x");
  EXPECT_EQ(forbidden.code, rc::kNoPermission);
  EXPECT_EQ(forbidden.remark, "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden.");
  EXPECT_EQ(Send(rq::kSendMessageV2, Header("TopicTest", 99), "x").code, rc::kSystemError);
  EXPECT_EQ(Send(rq::kSendMessageV2, Header("TopicTest"), std::string(64 * 1024 + 1, 'x')).code,
            rc::kMessageIllegal);
  RemotingCommand incomplete = RemotingCommand::Request(rq::kSendMessageV2, 0);
  incomplete.ext_fields["a"] = "pg";
  auto r = client_.InvokeSync(addr_, incomplete, std::chrono::seconds(10));
  EXPECT_EQ(r->code, rc::kSystemError);
  EXPECT_EQ(r->remark, "the custom field <b> is null");
}

TEST_F(SendMessageProcessorTest, AFullDiskIsServiceNotAvailable) {
  faulty_.SetSpaceOverride(io::SpaceInfo{100, 5});
  store_->TEST_RunRetention();
  auto r = Send(rq::kSendMessageV2, Header("TopicTest"), "x");
  EXPECT_EQ(r.code, rc::kServiceNotAvailable);
  EXPECT_NE(r.remark->find("disk full"), std::string::npos) << r.remark.value_or("");
}

TEST_F(SendMessageProcessorTest, ADelayedSendIsStoredInTheScheduleTopicWithItsRealTopicAndQueue) {
  auto h = testing::SendHeader("TopicTest", 2, {{"TAGS", "T"}, {"DELAY", "3"}, {"UNIQ_KEY", "D1"}});
  auto r = Send(rq::kSendMessageV2, h, "later");
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  auto m = store_->LookMessageByOffset(model::DecodeOffsetMessageId(r.ext_fields.at("msgId"))->offset);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->topic, "SCHEDULE_TOPIC_XXXX");
  EXPECT_EQ(m->queue_id.value(), 2);  // level 3
  auto props = model::DecodeProperties(m->properties);
  EXPECT_EQ(props.at("REAL_TOPIC"), "TopicTest");
  EXPECT_EQ(props.at("REAL_QID"), "2");
  EXPECT_EQ(props.at("DELAY"), "3");
  // The consume-queue entry holds the time it is due: store time + 10 s (level 3).
  ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  auto e = store_->ConsumeQueueEntry("SCHEDULE_TOPIC_XXXX", QueueId(2), QueueOffset(0));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tags_code, m->store_timestamp + 10'000);

  // Levels above the last clamp to it; 0 and negative levels are no delay.
  auto high = Send(rq::kSendMessageV2, testing::SendHeader("TopicTest", 0, {{"DELAY", "99"}}), "x");
  ASSERT_EQ(high.code, rc::kSuccess);
  auto hm = store_->LookMessageByOffset(model::DecodeOffsetMessageId(high.ext_fields.at("msgId"))->offset);
  EXPECT_EQ(hm->queue_id.value(), 17);
  EXPECT_EQ(model::FindProperty(hm->properties, "DELAY"), "18");
  auto none = Send(rq::kSendMessageV2, testing::SendHeader("TopicTest", 0, {{"DELAY", "-1"}}), "x");
  auto nm = store_->LookMessageByOffset(model::DecodeOffsetMessageId(none.ext_fields.at("msgId"))->offset);
  EXPECT_EQ(nm->topic, "TopicTest");
}

TEST_F(SendMessageProcessorTest, BadDelaysAreRefusedAndNothingIsStored) {
  const auto before = store_->MaxPhyOffset();
  auto r = Send(rq::kSendMessageV2, testing::SendHeader("TopicTest", 0, {{"DELAY", "soon"}}), "x");
  EXPECT_EQ(r.code, rc::kMessageIllegal);
  EXPECT_EQ(r.remark, "the DELAY property 'soon' is not a delay level (an integer)");
  auto h = Header("TopicTest", 1);
  h.batch = true;
  h.properties = std::nullopt;
  auto b = Send(rq::kSendMessageV2, h,
                model::EncodeBatchBody({{0, "a", model::EncodeProperties({{"DELAY", "2"}})}}));
  EXPECT_EQ(b.code, rc::kMessageIllegal);
  EXPECT_NE(b.remark->find("a batch cannot hold delayed messages"), std::string::npos)
      << b.remark.value_or("");
  EXPECT_EQ(store_->MaxPhyOffset(), before);
}

// CONSUMER_SEND_MSG_BACK, as RocketMQ's asyncConsumerSendMsgBack.
TEST_F(SendMessageProcessorTest, SendBackGoesToTheRetryTopicThroughTheDelayLevelsThenToTheDlq) {
  auto sent = Send(rq::kSendMessageV2, Header("TopicTest", 1), "payload");
  ASSERT_EQ(sent.code, rc::kSuccess);
  const std::string offset_id = sent.ext_fields.at("msgId");
  int64_t offset = model::DecodeOffsetMessageId(offset_id)->offset.value();
  auto send_back = [&](int64_t off, int32_t level, std::optional<int32_t> max_times) {
    protocol::ConsumerSendMsgBackHeader h;
    h.offset = off;
    h.group = "cg";
    h.delay_level = level;
    h.origin_msg_id = "U1";
    h.origin_topic = "TopicTest";
    h.max_reconsume_times = max_times;
    RemotingCommand req = RemotingCommand::Request(rq::kConsumerSendMsgBack, 0);
    protocol::ConsumerSendMsgBackHeader::Spec().Encode(h, &req.ext_fields);
    auto r = client_.InvokeSync(addr_, req, std::chrono::seconds(10));
    EXPECT_TRUE(r.ok());
    return *r;
  };
  // Each send-back stores a new record; the k-th is at level 3 + (k - 1) and carries reconsume times k.
  for (int k = 1; k <= 3; ++k) {
    const auto before = store_->MaxPhyOffset();
    auto r = send_back(offset, 0, 3);
    ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
    auto copy = store_->LookMessageByOffset(before);
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ(copy->topic, "SCHEDULE_TOPIC_XXXX");
    EXPECT_EQ(copy->queue_id.value(), 3 + (k - 1) - 1);
    EXPECT_EQ(copy->reconsume_times, k);
    EXPECT_EQ(copy->body, "payload");
    auto props = model::DecodeProperties(copy->properties);
    EXPECT_EQ(props.at("REAL_TOPIC"), "%RETRY%cg");
    EXPECT_EQ(props.at("RETRY_TOPIC"), "TopicTest");
    EXPECT_EQ(props.at("ORIGIN_MESSAGE_ID"), offset_id) << "the first store's offset id, kept across retries";
    EXPECT_EQ(props.at("UNIQ_KEY"), "U1");
    EXPECT_EQ(props.at("WAIT"), "false");
    EXPECT_EQ(props.at("DELAY"), std::to_string(3 + k - 1));
    // The consumer later fails the redelivered copy: what it sends back is the delivered copy's offset.
    auto delivered = MessageTimeUp(*copy);
    ASSERT_TRUE(delivered.ok());
    auto put = store_->PutMessage(std::move(*delivered));
    ASSERT_TRUE(put.ok());
    offset = put->wrote_offset.value();
  }
  EXPECT_TRUE(topics_->Find("%RETRY%cg").has_value());
  // Reconsume times 3 reached maxReconsumeTimes 3: the dead-letter queue, no delay.
  const auto before = store_->MaxPhyOffset();
  auto r = send_back(offset, 0, 3);
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  auto dead = store_->LookMessageByOffset(before);
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead->topic, "%DLQ%cg");
  EXPECT_EQ(dead->queue_id.value(), 0);
  EXPECT_EQ(dead->reconsume_times, 4);
  EXPECT_EQ(model::FindProperty(dead->properties, "ORIGIN_MESSAGE_ID"), offset_id);
  EXPECT_EQ(model::FindProperty(dead->properties, "DELAY"), "0");
  auto dlq = topics_->Find("%DLQ%cg");
  ASSERT_TRUE(dlq.has_value());
  EXPECT_EQ(dlq->write_queue_nums, 1);
  EXPECT_EQ(dlq->perm, 6);
  // A negative level sends straight to the DLQ.
  const auto before2 = store_->MaxPhyOffset();
  ASSERT_EQ(send_back(model::DecodeOffsetMessageId(offset_id)->offset.value(), -1, 16).code, rc::kSuccess);
  EXPECT_EQ(store_->LookMessageByOffset(before2)->topic, "%DLQ%cg");
}

TEST_F(SendMessageProcessorTest, SendBackOfAnUnknownOffsetOrGroupIsAnErrorAndStoresNothing) {
  protocol::ConsumerSendMsgBackHeader h;
  h.offset = 123456789;
  h.group = "cg";
  RemotingCommand req = RemotingCommand::Request(rq::kConsumerSendMsgBack, 0);
  protocol::ConsumerSendMsgBackHeader::Spec().Encode(h, &req.ext_fields);
  const auto before = store_->MaxPhyOffset();
  auto r = client_.InvokeSync(addr_, req, std::chrono::seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->code, rc::kSystemError);
  EXPECT_EQ(r->remark, "look message by offset failed, 123456789");
  EXPECT_EQ(store_->MaxPhyOffset(), before);

  Stop();
  Start(true);
  groups_ = std::make_unique<SubscriptionGroupManager>(faulty_, "/store/config/sg2.json",
                                                       /*auto_create=*/false, clock_);
  ASSERT_TRUE(groups_->Load().ok());
  processor_ = std::make_unique<SendMessageProcessor>(broker_, *store_, *topics_, *groups_);
  auto missing = client_.InvokeSync(addr_, req, std::chrono::seconds(10));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->code, rc::kSubscriptionGroupNotExist);
  EXPECT_EQ(missing->remark, "subscription group not exist, cg");
}

// A consumer's own resend to %RETRY%<group> (the Java client's fallback, and ordered consumers' final
// send-back): reconsume times at the maximum go to the DLQ (handleRetryAndDLQ).
TEST_F(SendMessageProcessorTest, AResendToTheRetryTopicThatUsedUpItsTimesGoesToTheDlq) {
  auto h = testing::SendHeader("%RETRY%og", 0, {{"DELAY", "4"}, {"RETRY_TOPIC", "Orders"}});
  h.reconsume_times = 1;
  h.max_reconsume_times = 2;
  auto r = Send(rq::kSendMessageV2, h, "again");
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  auto m = store_->LookMessageByOffset(model::DecodeOffsetMessageId(r.ext_fields.at("msgId"))->offset);
  EXPECT_EQ(m->topic, "SCHEDULE_TOPIC_XXXX");
  EXPECT_EQ(model::FindProperty(m->properties, "REAL_TOPIC"), "%RETRY%og");
  h.reconsume_times = 2;
  auto d = Send(rq::kSendMessageV2, h, "dead");
  ASSERT_EQ(d.code, rc::kSuccess) << d.remark.value_or("");
  auto dm = store_->LookMessageByOffset(model::DecodeOffsetMessageId(d.ext_fields.at("msgId"))->offset);
  EXPECT_EQ(dm->topic, "%DLQ%og");
  EXPECT_EQ(dm->reconsume_times, 2);
  EXPECT_EQ(model::FindProperty(dm->properties, "DELAY"), "0");
  auto batch = Header("%RETRY%og", 0);
  batch.batch = true;
  EXPECT_EQ(Send(rq::kSendMessageV2, batch, model::EncodeBatchBody({{0, "a", ""}})).code,
            rc::kMessageIllegal);
}

}  // namespace
}  // namespace fmq::server
