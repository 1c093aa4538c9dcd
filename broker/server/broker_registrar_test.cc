#include "broker/server/broker_registrar.h"

#include <gtest/gtest.h>

#include "broker/io/memory_file_system.h"
#include "broker/namesrv/name_server.h"

namespace fmq::server {
namespace {

class BrokerRegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = std::make_unique<namesrv::NameServer>(
        namesrv::NameServerConfig{.listen_host = "127.0.0.1", .listen_port = 0, .kv_config_path = ""}, mem_,
        clock_);
    ASSERT_TRUE(ns_->Start().ok());
    ns_addr_ = "127.0.0.1:" + std::to_string(ns_->port());
    ASSERT_TRUE(client_.Start().ok());
    ASSERT_TRUE(topics_.Load().ok());
    model::TopicConfig t;
    t.topic_name = "Orders";
    t.read_queue_nums = t.write_queue_nums = 4;
    ASSERT_TRUE(topics_.Upsert(t).ok());
  }
  void TearDown() override {
    client_.Stop();
    ns_->Stop();
  }

  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  BrokerConfig broker_;
  TopicConfigManager topics_{mem_, "/b/config/topics.json", broker_, clock_};
  std::unique_ptr<namesrv::NameServer> ns_;
  net::RemotingClient client_;
  std::string ns_addr_;
};

TEST_F(BrokerRegistrarTest, RegistersTopicsWithTheNameServerAndUnregistersAtStop) {
  BrokerRegistrar master(
      {.name_servers = {ns_addr_}, .broker_addr = "127.0.0.1:10911", .ha_server_addr = "127.0.0.1:10912"},
      broker_, topics_, client_);
  ASSERT_TRUE(master.RegisterNow().ok());
  auto route = ns_->routes().PickupTopicRouteData("Orders");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 4);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), "127.0.0.1:10911");
  EXPECT_TRUE(ns_->routes().PickupTopicRouteData("TBW102").has_value()) << "system topics travel too";

  BrokerConfig slave_cfg = broker_;
  slave_cfg.broker_id = 1;
  BrokerRegistrar slave(
      {.name_servers = {ns_addr_}, .broker_addr = "127.0.0.2:10911", .ha_server_addr = "127.0.0.2:10912"},
      slave_cfg, topics_, client_);
  ASSERT_TRUE(slave.RegisterNow().ok());
  EXPECT_EQ(slave.master_addr(), "127.0.0.1:10911");

  master.UnregisterAll();
  slave.UnregisterAll();
  EXPECT_FALSE(ns_->routes().PickupTopicRouteData("Orders").has_value());
}

TEST_F(BrokerRegistrarTest, NoReachableNameServerIsAnErrorNamingIt) {
  BrokerRegistrar r({.name_servers = {"127.0.0.1:1"},
                     .broker_addr = "127.0.0.1:10911",
                     .ha_server_addr = "",
                     .period = std::chrono::seconds(30),
                     .timeout = std::chrono::seconds(2)},
                    broker_, topics_, client_);
  Status s = r.RegisterNow();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("register with name server 127.0.0.1:1"), std::string_view::npos) << s;
}

TEST_F(BrokerRegistrarTest, ANameServerThatAppearsOrForgetsTheBrokerIsRegisteredWithAtTheNextCheck) {
  // "names.test" stands for a headless Service: first one name server, then a second one.
  auto second = std::make_unique<namesrv::NameServer>(
      namesrv::NameServerConfig{.listen_host = "127.0.0.1", .listen_port = 0, .kv_config_path = ""}, mem_,
      clock_);
  ASSERT_TRUE(second->Start().ok());
  const std::string second_addr = "127.0.0.1:" + std::to_string(second->port());
  std::vector<std::string> names = {ns_addr_};
  std::vector<std::string> asked;
  BrokerRegistrar r({.name_servers = {"names.test:9876"},
                     .broker_addr = "127.0.0.1:10911",
                     .ha_server_addr = "127.0.0.1:10912",
                     .resolve = [&](const std::string& entry) -> Result<std::vector<std::string>> {
                       asked.push_back(entry);
                       return names;
                     }},
                    broker_, topics_, client_);
  ASSERT_TRUE(r.RegisterNow().ok());
  EXPECT_EQ(asked, std::vector<std::string>{"names.test:9876"});
  EXPECT_TRUE(ns_->routes().PickupTopicRouteData("Orders").has_value());
  EXPECT_EQ(r.CheckNow(), 0) << "both sides agree: nothing to send";

  names.push_back(second_addr);
  EXPECT_EQ(r.CheckNow(), 1);
  EXPECT_EQ(r.name_server_addresses(), (std::vector<std::string>{ns_addr_, second_addr}));
  EXPECT_TRUE(second->routes().PickupTopicRouteData("Orders").has_value()) << "the new name server routes";
  EXPECT_EQ(r.CheckNow(), 0);

  // The first name server restarted and lost its tables: QUERY_DATA_VERSION says so, the broker registers.
  ns_->routes().RemoveBroker("127.0.0.1:10911");
  ASSERT_FALSE(ns_->routes().PickupTopicRouteData("Orders").has_value());
  EXPECT_EQ(r.CheckNow(), 1);
  EXPECT_TRUE(ns_->routes().PickupTopicRouteData("Orders").has_value());

  // A resolution that fails keeps the last addresses.
  BrokerRegistrar flaky({.name_servers = {"names.test:9876"},
                         .broker_addr = "127.0.0.1:10913",
                         .ha_server_addr = "",
                         .resolve = [&](const std::string& entry) -> Result<std::vector<std::string>> {
                           if (names.empty()) return Status::Unavailable("cannot resolve " + entry);
                           return names;
                         }},
                        broker_, topics_, client_);
  ASSERT_TRUE(flaky.RegisterNow().ok());
  names.clear();
  EXPECT_EQ(flaky.CheckNow(), 0);
  EXPECT_EQ(flaky.name_server_addresses(), (std::vector<std::string>{ns_addr_, second_addr}));
  second->Stop();
}

TEST(ResolveAddressesTest, NamesResolveToEveryAddressAndLiteralsToThemselves) {
  auto literal = net::ResolveAddresses("127.0.0.1:9876");
  ASSERT_TRUE(literal.ok()) << literal.status();
  EXPECT_EQ(*literal, std::vector<std::string>{"127.0.0.1:9876"});
  auto local = net::ResolveAddresses("localhost:9876");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_FALSE(local->empty());
  EXPECT_EQ(net::ResolveAddresses("no-port").status().code(), StatusCode::kInvalidArgument);
  auto bad = net::ResolveAddresses("name.invalid:9876");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cannot resolve name.invalid:9876"), std::string_view::npos);
}

}  // namespace
}  // namespace fmq::server
