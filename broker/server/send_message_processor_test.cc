#include "broker/server/send_message_processor.h"

#include <gtest/gtest.h>

#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/net/remoting_client.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
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
    processor_ = std::make_unique<SendMessageProcessor>(broker_, *store_, *topics_);
    server_ = std::make_unique<net::RemotingServer>(net::ServerConfig{.host = "127.0.0.1", .port = 0});
    for (int32_t code : {rq::kSendMessage, rq::kSendMessageV2, rq::kSendBatchMessage}) {
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

}  // namespace
}  // namespace fmq::server
