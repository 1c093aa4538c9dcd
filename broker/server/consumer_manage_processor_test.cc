#include "broker/server/consumer_manage_processor.h"

#include <gtest/gtest.h>

#include "broker/io/memory_file_system.h"
#include "broker/net/remoting_server.h"
#include "broker/protocol/codes.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using testing::Call;

class ConsumerManageProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<store::MessageStore>(testing::TestStoreConfig("c", "b"), mem_, clock_,
                                                   store::StoreOptions{.background_services = false});
    ASSERT_TRUE(store_->Open().ok());
    ASSERT_TRUE(offsets_.Load().ok());
    processor_ =
        std::make_unique<ConsumerManageProcessor>(*store_, offsets_, /*memory_window_bytes=*/1 << 20);
    for (int32_t code : {rq::kQueryConsumerOffset, rq::kUpdateConsumerOffset, rq::kGetMaxOffset,
                         rq::kGetMinOffset, rq::kSearchOffsetByTimestamp, rq::kGetEarliestMsgStoreTime}) {
      server_.Register(
          code,
          [this](protocol::RemotingCommand r, net::Responder s) { processor_->Handle(std::move(r), s); },
          &executor_);
    }
    ASSERT_TRUE(executor_.Start().ok());
    ASSERT_TRUE(server_.Start().ok());
    ASSERT_TRUE(client_.Start().ok());
    addr_ = "127.0.0.1:" + std::to_string(server_.port());
  }
  void TearDown() override {
    client_.Stop();
    server_.Stop();
    executor_.Stop();
    store_->Close();
  }

  void Put(const std::string& topic, int n, size_t size = 100) {
    for (int i = 0; i < n; ++i) {
      model::StoredMessage m;
      m.topic = topic;
      m.body.assign(size, 'x');
      clock_.AdvanceMillis(1000);
      ASSERT_TRUE(store_->PutMessage(m).ok());
    }
    ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  }

  protocol::RemotingCommand Query(const std::string& group, const std::string& topic) {
    return Call(client_, addr_, rq::kQueryConsumerOffset,
                {{"consumerGroup", group}, {"topic", topic}, {"queueId", "0"}});
  }

  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  std::unique_ptr<store::MessageStore> store_;
  ConsumerOffsetManager offsets_{mem_, "/store/config/consumerOffset.json"};
  std::unique_ptr<ConsumerManageProcessor> processor_;
  net::BoundedExecutor executor_{"offsets", 1, 100};
  net::RemotingServer server_{net::ServerConfig{.host = "127.0.0.1", .port = 0}};
  net::RemotingClient client_;
  std::string addr_;
};

TEST_F(ConsumerManageProcessorTest, ACommittedOffsetIsReturnedAndSurvivesARestart) {
  EXPECT_EQ(Call(client_, addr_, rq::kUpdateConsumerOffset,
                 {{"consumerGroup", "g"}, {"topic", "T"}, {"queueId", "0"}, {"commitOffset", "42"}})
                .code,
            rc::kSuccess);
  auto r = Query("g", "T");
  EXPECT_EQ(r.code, rc::kSuccess);
  EXPECT_EQ(r.ext_fields.at("offset"), "42");
  ASSERT_TRUE(offsets_.Persist().ok());
  ConsumerOffsetManager reloaded(mem_, "/store/config/consumerOffset.json");
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.Query("g", "T", 0), 42);
  EXPECT_NE(io::ReadFileToString(mem_, "/store/config/consumerOffset.json")->find(R"({"T@g":{"0":42}})"),
            std::string::npos);
}

TEST_F(ConsumerManageProcessorTest, NoOffsetOnANewOrRecentQueueMeansStartAtZero) {
  EXPECT_EQ(Query("g", "Empty").ext_fields.at("offset"), "0") << "an empty queue";
  Put("Recent", 5);
  EXPECT_EQ(Query("g", "Recent").ext_fields.at("offset"), "0")
      << "first message still in the page-cache window";
}

TEST_F(ConsumerManageProcessorTest, NoOffsetOnAQueueWhoseStartIsFarBehindIsQueryNotFound) {
  Put("Old", 1);
  Put("Other", 20, 64 * 1024);  // pushes the tail more than the 1 MiB window past Old's first message
  auto r = Query("g", "Old");
  EXPECT_EQ(r.code, rc::kQueryNotFound) << "clients then apply consumeFromWhere";
}

TEST_F(ConsumerManageProcessorTest, AnswersMinMaxTimeSearchAndEarliestStoreTime) {
  const int64_t t0 = clock_.NowMillis();
  Put("T", 10);
  auto q = [&](int32_t code, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> ext = {{"topic", "T"}, {"queueId", "0"}};
    for (auto& [k, v] : extra) ext.insert_or_assign(k, v);
    return Call(client_, addr_, code, ext);
  };
  EXPECT_EQ(q(rq::kGetMaxOffset).ext_fields.at("offset"), "10");
  EXPECT_EQ(q(rq::kGetMinOffset).ext_fields.at("offset"), "0");
  EXPECT_EQ(
      q(rq::kSearchOffsetByTimestamp, {{"timestamp", std::to_string(t0 + 3500)}}).ext_fields.at("offset"),
      "3");
  EXPECT_EQ(q(rq::kGetEarliestMsgStoreTime).ext_fields.at("timestamp"), std::to_string(t0 + 1000));
  EXPECT_EQ(q(rq::kGetMaxOffset, {{"queueId", "x"}}).code, rc::kSystemError);
}

}  // namespace
}  // namespace fmq::server
