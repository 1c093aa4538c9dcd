#include "broker/namesrv/name_server.h"

#include <gtest/gtest.h>

#include <optional>

#include "broker/base/crc32.h"
#include "broker/base/poll.h"
#include "broker/io/memory_file_system.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/codes.h"

namespace fmq::namesrv {
namespace {

using protocol::RemotingCommand;
namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
constexpr auto kTimeout = std::chrono::seconds(10);

class NameServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirs("/ns").ok());
    ns_ = std::make_unique<NameServer>(
        NameServerConfig{.listen_host = "127.0.0.1", .listen_port = 0, .kv_config_path = "/ns/kvConfig.json"},
        fs_, clock_);
    ASSERT_TRUE(ns_->Start().ok());
    addr_ = "127.0.0.1:" + std::to_string(ns_->port());
    ASSERT_TRUE(client_.Start().ok());
  }
  void TearDown() override {
    client_.Stop();
    ns_->Stop();
  }

  RemotingCommand Call(int32_t code, std::map<std::string, std::string> ext, std::string body = "") {
    RemotingCommand req = RemotingCommand::Request(code, 0);
    req.ext_fields = std::move(ext);
    req.body = std::move(body);
    auto r = client_.InvokeSync(addr_, req, kTimeout);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : RemotingCommand{};
  }

  RemotingCommand Register(const std::string& name, const std::string& addr, int64_t id,
                           std::map<std::string, model::TopicConfig> topics, int64_t version = 1,
                           std::optional<int32_t> epoch = std::nullopt) {
    model::RegisterBrokerBody body{std::move(topics), {version, 1700000000000}};
    std::map<std::string, std::string> ext = {{"brokerName", name},
                                              {"brokerAddr", addr},
                                              {"clusterName", "DefaultCluster"},
                                              {"haServerAddr", addr + "-ha"},
                                              {"brokerId", std::to_string(id)}};
    if (epoch) ext["ferrymqEpoch"] = std::to_string(*epoch);
    return Call(rq::kRegisterBroker, std::move(ext), model::EncodeRegisterBrokerBody(body));
  }

  static model::TopicConfig Topic(const std::string& name, int queues, int perm = 6) {
    model::TopicConfig t;
    t.topic_name = name;
    t.read_queue_nums = queues;
    t.write_queue_nums = queues;
    t.perm = perm;
    return t;
  }

  ManualClock clock_;
  io::MemoryFileSystem fs_{&clock_};
  std::unique_ptr<NameServer> ns_;
  net::RemotingClient client_;
  std::string addr_;
};

TEST_F(NameServerTest, AnUnknownTopicHasNoRouteWithRocketMqsRemark) {
  auto r = Call(rq::kGetRouteInfoByTopic, {{"topic", "Nope"}});
  EXPECT_EQ(r.code, rc::kTopicNotExist);
  EXPECT_EQ(r.remark, "No topic route info in name server for the topic: Nope");
}

TEST_F(NameServerTest, AMasterRegistrationPublishesRoutesInCompactStandardJson) {
  ASSERT_EQ(Register("broker-a", "127.0.0.1:10911", 0, {{"TopicTest", Topic("TopicTest", 4)}}).code,
            rc::kSuccess);
  auto r = Call(rq::kGetRouteInfoByTopic, {{"topic", "TopicTest"}});
  ASSERT_EQ(r.code, rc::kSuccess);
  EXPECT_NE(r.body.find(R"("brokerAddrs":{"0":"127.0.0.1:10911"})"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("orderTopicConf"), std::string::npos) << "omitted when empty";
  auto route = model::DecodeTopicRouteData(r.body);
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0], (model::QueueData{"broker-a", 4, 4, 6, 0}));
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].cluster, "DefaultCluster");
}

TEST_F(NameServerTest, ASlaveLearnsItsMastersAddressesAndCreatesNoQueues) {
  Register("broker-a", "127.0.0.1:10911", 0, {{"T", Topic("T", 4)}});
  auto r = Register("broker-a", "127.0.0.2:10911", 1, {{"OnlyOnSlave", Topic("OnlyOnSlave", 2)}});
  ASSERT_EQ(r.code, rc::kSuccess);
  EXPECT_EQ(r.ext_fields.at("masterAddr"), "127.0.0.1:10911");
  EXPECT_EQ(r.ext_fields.at("haServerAddr"), "127.0.0.1:10911-ha");
  EXPECT_EQ(Call(rq::kGetRouteInfoByTopic, {{"topic", "OnlyOnSlave"}}).code, rc::kTopicNotExist);
  auto route = model::DecodeTopicRouteData(Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).body);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.size(), 2u);
}

TEST_F(NameServerTest, AMasterRegistrationBelowTheHighestEpochIsRefusedAndNamesTheCurrentMaster) {
  ASSERT_EQ(Register("broker-a", "127.0.0.1:10911", 0, {{"T", Topic("T", 4)}}, 1, 1).code, rc::kSuccess);
  ASSERT_EQ(Register("broker-a", "127.0.0.2:10911", 1, {}, 1, 1).code, rc::kSuccess);
  ASSERT_EQ(Register("broker-a", "127.0.0.3:10911", 2, {}, 1, 1).code, rc::kSuccess);
  // The slave at .2 is promoted at epoch 2: it replaces the master under id 0.
  ASSERT_EQ(Register("broker-a", "127.0.0.2:10911", 0, {{"T", Topic("T", 4)}}, 2, 2).code, rc::kSuccess);
  auto route = model::DecodeTopicRouteData(Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).body);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), "127.0.0.2:10911");
  EXPECT_EQ(route->broker_datas[0].broker_addrs.count(1), 0u);
  // The old master comes back at epoch 1: refused, told who the master is and which id is free.
  auto refused = Register("broker-a", "127.0.0.1:10911", 0, {{"T", Topic("T", 4)}}, 3, 1);
  EXPECT_EQ(refused.code, rc::kSystemError);
  EXPECT_EQ(refused.remark,
            "master registration of 127.0.0.1:10911 for broker broker-a at epoch 1 refused: epoch 2 "
            "has master 127.0.0.2:10911");
  EXPECT_EQ(refused.ext_fields.at("masterEpoch"), "2");
  EXPECT_EQ(refused.ext_fields.at("masterAddr"), "127.0.0.2:10911");
  EXPECT_EQ(refused.ext_fields.at("haServerAddr"), "127.0.0.2:10911-ha");
  EXPECT_EQ(refused.ext_fields.at("freeBrokerId"), "1");
  route = model::DecodeTopicRouteData(Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).body);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), "127.0.0.2:10911") << "the refusal changed nothing";
  // A second master of the same epoch is refused while the first is alive; the same master re-registers.
  EXPECT_EQ(Register("broker-a", "127.0.0.3:10911", 0, {}, 2, 2).code, rc::kSystemError);
  EXPECT_EQ(Register("broker-a", "127.0.0.2:10911", 0, {{"T", Topic("T", 4)}}, 2, 2).code, rc::kSuccess);
  // RocketMQ brokers send no epoch: registered as before.
  EXPECT_EQ(Register("broker-b", "127.0.0.9:10911", 0, {}).code, rc::kSuccess);
}

TEST_F(NameServerTest, TheBodyCrcIsRocketMqsWithTheSignBitCleared) {
  // A body whose CRC-32 has its top bit set: RocketMQ brokers send it masked (UtilAll.crc32).
  std::string body;
  for (int i = 0; (JavaCrc32(body) & 0x80000000u) == 0; ++i) {
    body = model::EncodeRegisterBrokerBody(
        {{{"T" + std::to_string(i), Topic("T" + std::to_string(i), 4)}}, {1, 1}});
  }
  auto reg = [&](int32_t crc) {
    return Call(rq::kRegisterBroker,
                {{"brokerName", "broker-c"},
                 {"brokerAddr", "127.0.0.1:10911"},
                 {"clusterName", "DefaultCluster"},
                 {"haServerAddr", "127.0.0.1:10912"},
                 {"brokerId", "0"},
                 {"bodyCrc32", std::to_string(crc)}},
                body);
  };
  EXPECT_EQ(reg(RocketMqCrc32(body)).code, rc::kSuccess);
  EXPECT_EQ(reg(static_cast<int32_t>(JavaCrc32(body))).code, rc::kSuccess) << "older FerryMQ brokers";
  auto bad = reg(RocketMqCrc32(body) ^ 1);
  EXPECT_EQ(bad.code, rc::kSystemError);
  EXPECT_EQ(bad.remark, "crc32 not match");
}

TEST_F(NameServerTest, ClusterInfoAndTopicListsReflectRegistrations) {
  Register("broker-a", "127.0.0.1:10911", 0, {{"T1", Topic("T1", 4)}, {"T2", Topic("T2", 8)}});
  Register("broker-b", "127.0.0.3:10911", 0, {{"T2", Topic("T2", 8)}});
  auto info = model::DecodeClusterInfo(Call(rq::kGetBrokerClusterInfo, {}).body);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->cluster_addr_table.at("DefaultCluster"), (std::set<std::string>{"broker-a", "broker-b"}));
  EXPECT_EQ(info->broker_addr_table.at("broker-b").broker_addrs.at(0), "127.0.0.3:10911");
  auto topics = model::DecodeTopicList(Call(rq::kGetAllTopicListFromNameServer, {}).body);
  EXPECT_EQ(*topics, (std::set<std::string>{"T1", "T2"}));
  auto by_cluster =
      model::DecodeTopicList(Call(rq::kGetTopicsByCluster, {{"cluster", "DefaultCluster"}}).body);
  EXPECT_EQ(*by_cluster, (std::set<std::string>{"T1", "T2"}));
}

TEST_F(NameServerTest, WipingWritePermissionDrainsABrokerAndAddingRestoresIt) {
  const int32_t rw = model::perm::kRead | model::perm::kWrite;
  Register("broker-a", "127.0.0.1:10911", 0,
           {{"T1", Topic("T1", 4)}, {"T2", Topic("T2", 4)}, {"RO", Topic("RO", 4, model::perm::kRead)}});
  auto perm = [&](const std::string& topic) {
    auto route = model::DecodeTopicRouteData(Call(rq::kGetRouteInfoByTopic, {{"topic", topic}}).body);
    return route.ok() && route->queue_datas.size() == 1 ? route->queue_datas[0].perm : -1;
  };
  auto wiped = Call(rq::kWipeWritePermOfBroker, {{"brokerName", "broker-a"}});
  EXPECT_EQ(wiped.ext_fields.at("wipeTopicCount"), "3");
  EXPECT_EQ(perm("T1"), model::perm::kRead);
  EXPECT_EQ(perm("RO"), model::perm::kRead);
  // A heartbeat with unchanged data keeps the broker drained (an operator's wipe must outlast it).
  Register("broker-a", "127.0.0.1:10911", 0,
           {{"T1", Topic("T1", 4)}, {"T2", Topic("T2", 4)}, {"RO", Topic("RO", 4, model::perm::kRead)}});
  EXPECT_EQ(perm("T1"), model::perm::kRead);
  EXPECT_EQ(Call(rq::kAddWritePermOfBroker, {{"brokerName", "broker-a"}}).ext_fields.at("addTopicCount"),
            "3");
  EXPECT_EQ(perm("T1"), rw);
  EXPECT_EQ(perm("RO"), model::perm::kRead) << "a read-only topic stays read-only";
  EXPECT_EQ(Call(rq::kAddWritePermOfBroker, {{"brokerName", "nobody"}}).ext_fields.at("addTopicCount"), "0");
}

TEST_F(NameServerTest, ANewMasterAddressRegisteringRestoresTheWipedPermission) {
  Register("broker-a", "127.0.0.1:10911", 0, {{"T1", Topic("T1", 4)}});
  Register("broker-a", "127.0.0.2:10911", 1, {{"T1", Topic("T1", 4)}});
  Call(rq::kWipeWritePermOfBroker, {{"brokerName", "broker-a"}});
  // The slave is promoted (a failover): it registers its address under id 0 and its queues are writable.
  Register("broker-a", "127.0.0.2:10911", 0, {{"T1", Topic("T1", 4)}});
  auto route = model::DecodeTopicRouteData(Call(rq::kGetRouteInfoByTopic, {{"topic", "T1"}}).body);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->queue_datas[0].perm, model::perm::kRead | model::perm::kWrite);
}

TEST_F(NameServerTest, DeletingATopicRemovesItsRoute) {
  Register("broker-a", "127.0.0.1:10911", 0, {{"Gone", Topic("Gone", 4)}});
  EXPECT_EQ(Call(rq::kDeleteTopicInNamesrv, {{"topic", "Gone"}}).code, rc::kSuccess);
  EXPECT_EQ(Call(rq::kGetRouteInfoByTopic, {{"topic", "Gone"}}).code, rc::kTopicNotExist);
}

TEST_F(NameServerTest, ASilentBrokerExpiresWithItsRoutes) {
  Register("broker-a", "127.0.0.1:10911", 0, {{"T", Topic("T", 4)}});
  clock_.AdvanceMillis(119'000);
  EXPECT_TRUE(ns_->routes().ScanNotActiveBrokers().empty());
  clock_.AdvanceMillis(2'000);
  EXPECT_EQ(ns_->routes().ScanNotActiveBrokers(), std::vector<std::string>{"127.0.0.1:10911"});
  EXPECT_EQ(Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).code, rc::kTopicNotExist);
  EXPECT_TRUE(model::DecodeClusterInfo(Call(rq::kGetBrokerClusterInfo, {}).body)->broker_addr_table.empty());
}

TEST_F(NameServerTest, UnregisteringRemovesTheBrokerAtOnce) {
  Register("broker-a", "127.0.0.1:10911", 0, {{"T", Topic("T", 4)}});
  EXPECT_EQ(Call(rq::kUnregisterBroker, {{"brokerName", "broker-a"},
                                         {"brokerAddr", "127.0.0.1:10911"},
                                         {"clusterName", "DefaultCluster"},
                                         {"brokerId", "0"}})
                .code,
            rc::kSuccess);
  EXPECT_EQ(Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).code, rc::kTopicNotExist);
}

// RocketMQ's onChannelDestroy: a broker whose registration connection closes (kill -9 closes its sockets)
// is removed at once, so a master restarted at the same epoch on another address is accepted rather than
// refused as a second master.
TEST_F(NameServerTest, ABrokerWhoseConnectionClosesIsRemovedAndItsRestartIsAccepted) {
  auto register_over = [&](net::RemotingClient& c, const std::string& addr) {
    model::RegisterBrokerBody body{{{"T", Topic("T", 4)}}, {1, 1700000000000}};
    RemotingCommand req = RemotingCommand::Request(rq::kRegisterBroker, 0);
    req.ext_fields = {{"brokerName", "broker-a"}, {"brokerAddr", addr}, {"clusterName", "DefaultCluster"},
                      {"haServerAddr", addr},     {"brokerId", "0"},    {"ferrymqEpoch", "1"}};
    req.body = model::EncodeRegisterBrokerBody(body);
    auto r = c.InvokeSync(addr_, req, kTimeout);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->code : -1;
  };
  auto master_of_t = [&]() -> std::string {
    auto route = model::DecodeTopicRouteData(Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).body);
    return route.ok() ? route->broker_datas[0].broker_addrs.at(0) : "";
  };
  {
    net::RemotingClient broker;
    ASSERT_TRUE(broker.Start().ok());
    ASSERT_EQ(register_over(broker, "127.0.0.1:10911"), rc::kSuccess);
    EXPECT_EQ(master_of_t(), "127.0.0.1:10911");
    // Same epoch, other address, while the first is connected: a second master, refused.
    EXPECT_EQ(Register("broker-a", "127.0.0.1:20911", 0, {{"T", Topic("T", 4)}}, 1, 1).code,
              rc::kSystemError);
    broker.Stop();  // the broker process is gone
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        return Call(rq::kGetRouteInfoByTopic, {{"topic", "T"}}).code == rc::kTopicNotExist;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(20)))
      << "the route of a disconnected broker stayed";
  net::RemotingClient restarted;
  ASSERT_TRUE(restarted.Start().ok());
  ASSERT_EQ(register_over(restarted, "127.0.0.1:20911"), rc::kSuccess);
  EXPECT_EQ(master_of_t(), "127.0.0.1:20911");
  // Registered again over a new connection: closing an older one removes nothing.
  net::RemotingClient second;
  ASSERT_TRUE(second.Start().ok());
  ASSERT_EQ(register_over(second, "127.0.0.1:20911"), rc::kSuccess);
  restarted.Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(master_of_t(), "127.0.0.1:20911");
  second.Stop();
}

TEST_F(NameServerTest, MissingHeaderFieldsAndBadBodiesGetClearErrors) {
  auto r = Call(rq::kGetRouteInfoByTopic, {});
  EXPECT_EQ(r.code, rc::kSystemError);
  EXPECT_EQ(r.remark, "the custom field <topic> is null");
  r = Call(rq::kRegisterBroker,
           {{"brokerName", "b"},
            {"brokerAddr", "a:1"},
            {"clusterName", "c"},
            {"haServerAddr", "h"},
            {"brokerId", "0"}},
           "{not json");
  EXPECT_EQ(r.code, rc::kSystemError);
  EXPECT_NE(r.remark->find("not valid JSON"), std::string::npos);
  r = Call(rq::kRegisterBroker,
           {{"brokerName", "b"},
            {"brokerAddr", "a:1"},
            {"clusterName", "c"},
            {"haServerAddr", "h"},
            {"brokerId", "0"},
            {"bodyCrc32", "12345"}},
           "{}");
  EXPECT_EQ(r.remark, "crc32 not match");
  r = Call(rq::kRegisterBroker,
           {{"brokerName", "b"},
            {"brokerAddr", "a:1"},
            {"clusterName", "c"},
            {"haServerAddr", "h"},
            {"brokerId", "master"}},
           "{}");
  EXPECT_EQ(r.code, rc::kSystemError);
  EXPECT_EQ(r.remark, "header field brokerId: 'master' is not a valid value")
      << "a bad number is not silently 0";
  EXPECT_EQ(Call(rq::kPutKvConfig, {{"namespace", "n"}, {"key", "k"}}).remark,
            "the custom field <value> is null");
  // A data version whose fields have the wrong types (it used to throw and end the process) or that is not
  // JSON reads as version 0: "changed", so the broker registers in full.
  const std::map<std::string, std::string> identity = {
      {"brokerName", "b"}, {"brokerAddr", "a:1"}, {"clusterName", "c"}, {"brokerId", "0"}};
  for (const char* body : {R"({"counter":"7","timestamp":{}})", "[1,2]", "\x00garbage"}) {
    r = Call(rq::kQueryDataVersion, identity, body);
    EXPECT_EQ(r.code, rc::kSuccess) << body;
    EXPECT_EQ(r.ext_fields["changed"], "true") << body;
  }
}

TEST_F(NameServerTest, KvConfigIsServedAndSurvivesARestart) {
  EXPECT_EQ(Call(rq::kGetKvConfig, {{"namespace", "ORDER_TOPIC_CONFIG"}, {"key", "T"}}).code,
            rc::kQueryNotFound);
  EXPECT_EQ(
      Call(rq::kPutKvConfig, {{"namespace", "ORDER_TOPIC_CONFIG"}, {"key", "T"}, {"value", "broker-a:4"}})
          .code,
      rc::kSuccess);
  client_.Stop();
  ns_->Stop();
  ns_ = std::make_unique<NameServer>(
      NameServerConfig{.listen_host = "127.0.0.1", .listen_port = 0, .kv_config_path = "/ns/kvConfig.json"},
      fs_, clock_);
  ASSERT_TRUE(ns_->Start().ok());
  addr_ = "127.0.0.1:" + std::to_string(ns_->port());
  ASSERT_TRUE(client_.Start().ok());
  auto r = Call(rq::kGetKvConfig, {{"namespace", "ORDER_TOPIC_CONFIG"}, {"key", "T"}});
  EXPECT_EQ(r.code, rc::kSuccess);
  EXPECT_EQ(r.ext_fields.at("value"), "broker-a:4");
}

}  // namespace
}  // namespace fmq::namesrv
