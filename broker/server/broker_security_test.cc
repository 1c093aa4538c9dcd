// ACL and TLS on a broker and its name server as clients see them: both in this test (in-memory files, real
// sockets), one plain_acl.yml, requests signed as the Java AclClientRPCHook signs them (or not at all).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>

#include "broker/acl/signature.h"
#include "broker/base/coding.h"
#include "broker/base/poll.h"
#include "broker/io/memory_file_system.h"
#include "broker/model/message.h"
#include "broker/namesrv/name_server.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/broker_controller.h"
#include "broker/server/server_test_util.h"
#include "tests/testing/test_pki.h"

namespace fmq::server {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

constexpr char kAclPath[] = "/store/conf/plain_acl.yml";
constexpr char kAclFile[] = R"(accounts:
  - accessKey: broker-inner
    secretKey: broker-inner-secret
    admin: true
  - accessKey: ops-admin
    secretKey: ops-admin-secret
    admin: true
  - accessKey: app-orders
    secretKey: orders-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms: [orders=PUB|SUB]
    groupPerms: [orders-consumer=SUB]
)";

net::ClientConfig Signing(std::string ak, std::string sk) {
  net::ClientConfig c;
  c.request_signer = [ak, sk](RemotingCommand& r) { acl::SignRequest(r.ext_fields, r.body, ak, sk); };
  return c;
}

class BrokerAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDirs("/store/conf").ok());
    ASSERT_TRUE(io::WriteFileAtomically(fs_, kAclPath, kAclFile).ok());
    namesrv::NameServerConfig nc;
    nc.listen_host = "127.0.0.1";
    nc.listen_port = 0;
    nc.acl_enable = true;
    nc.acl_config_file = kAclPath;
    ns_ = std::make_unique<namesrv::NameServer>(nc, fs_, SystemClock());
    ASSERT_TRUE(ns_->Start().ok());
    ns_addr_ = "127.0.0.1:" + std::to_string(ns_->port());
    BrokerConfig bc = testing::TestBrokerConfig(ns_addr_);
    bc.acl_enable = true;
    bc.inner_access_key = "broker-inner";
    bc.inner_secret_key = "broker-inner-secret";
    broker_ =
        std::make_unique<BrokerController>(bc, testing::TestStoreConfig("C1", "b1"), fs_, SystemClock());
    ASSERT_TRUE(broker_->Start().ok());
    addr_ = broker_->address();
    for (auto* c : {&anonymous_, &app_, &admin_, &wrong_}) ASSERT_TRUE(c->Start().ok());
  }
  void TearDown() override {
    for (auto* c : {&anonymous_, &app_, &admin_, &wrong_}) c->Stop();
    broker_->Stop();
    ns_->Stop();
  }

  RemotingCommand Send(net::RemotingClient& via, const std::string& topic, const std::string& body) {
    std::map<std::string, std::string> ext;
    protocol::SendMessageRequestHeader::V1().Encode(testing::SendHeader(topic, 0, {}), &ext);
    return testing::Call(via, addr_, rq::kSendMessage, ext, body);
  }
  int64_t MaxOffset(const std::string& topic) {
    RemotingCommand r = testing::Call(admin_, addr_, rq::kGetMaxOffset, {{"topic", topic}, {"queueId", "0"}});
    return r.code == rc::kSuccess ? std::stoll(r.ext_fields["offset"]) : -1;
  }
  // The body of the topic's first message (queue 0, offset 0), read by the admin.
  std::string FirstBody(const std::string& topic) {
    RemotingCommand r = testing::Call(admin_, addr_, rq::kPullMessage,
                                      {{"consumerGroup", "check"},
                                       {"topic", topic},
                                       {"queueId", "0"},
                                       {"queueOffset", "0"},
                                       {"maxMsgNums", "1"},
                                       {"sysFlag", std::to_string(protocol::pull_sys_flag::kSubscription)},
                                       {"subscription", "*"},
                                       {"commitOffset", "0"},
                                       {"suspendTimeoutMillis", "0"},
                                       {"subVersion", "0"}});
    if (r.code != rc::kSuccess) return "pull answered " + std::to_string(r.code);
    auto m = model::DecodeStoredMessage(AsBytes(r.body), /*check_crc=*/true);
    return m.ok() ? m->body : m.status().ToString();
  }
  RemotingCommand CreateTopic(net::RemotingClient& via, const std::string& topic) {
    return testing::Call(via, addr_, rq::kUpdateAndCreateTopic,
                         {{"topic", topic},
                          {"defaultTopic", "TBW102"},
                          {"readQueueNums", "1"},
                          {"writeQueueNums", "1"},
                          {"perm", "6"},
                          {"topicFilterType", "SINGLE_TAG"},
                          {"order", "false"}});
  }

  io::MemoryFileSystem fs_;
  std::unique_ptr<namesrv::NameServer> ns_;
  std::unique_ptr<BrokerController> broker_;
  std::string ns_addr_, addr_;
  net::RemotingClient anonymous_;
  net::RemotingClient app_{Signing("app-orders", "orders-secret")};
  net::RemotingClient admin_{Signing("ops-admin", "ops-admin-secret")};
  net::RemotingClient wrong_{Signing("app-orders", "not-the-secret")};
};

TEST_F(BrokerAclTest, RefusedSendsAnswerNoPermissionAndStoreNothing) {
  ASSERT_EQ(CreateTopic(admin_, "orders").code, rc::kSuccess);
  ASSERT_EQ(CreateTopic(admin_, "payments").code, rc::kSuccess);

  RemotingCommand r = Send(anonymous_, "orders", "unsigned");
  EXPECT_EQ(r.code, rc::kNoPermission);
  EXPECT_EQ(r.remark.value_or(""), "No accessKey is configured");
  r = Send(wrong_, "orders", "bad secret");
  EXPECT_EQ(r.code, rc::kNoPermission);
  EXPECT_EQ(r.remark.value_or(""), "Check signature failed for accessKey=app-orders");
  r = Send(app_, "payments", "not permitted");
  EXPECT_EQ(r.code, rc::kNoPermission);
  EXPECT_EQ(r.remark.value_or(""), "No default permission for topic:payments");
  EXPECT_EQ(Send(app_, "orders", "permitted").code, rc::kSuccess);
  EXPECT_EQ(Send(admin_, "payments", "by the admin").code, rc::kSuccess);
  // The permitted sends are the first and only messages of their topics: nothing refused was stored.
  ASSERT_TRUE(PollUntil([&] { return MaxOffset("orders") == 1 && MaxOffset("payments") == 1; },
                        std::chrono::seconds(10)));
  EXPECT_EQ(FirstBody("orders"), "permitted");
  EXPECT_EQ(FirstBody("payments"), "by the admin");

  r = CreateTopic(app_, "sneaky");
  EXPECT_EQ(r.code, rc::kNoPermission);
  EXPECT_EQ(r.remark.value_or(""),
            "Need admin permission for request code=17, but accessKey=app-orders is not");
  // Unknown codes are authenticated first, as on Apache's broker.
  EXPECT_EQ(testing::Call(anonymous_, addr_, 9999, {}).code, rc::kNoPermission);
  EXPECT_EQ(testing::Call(app_, addr_, 9999, {}).code, rc::kRequestCodeNotSupported);
}

TEST_F(BrokerAclTest, TheNameServerTakesTheBrokersSignedRegistrationAndRefusesUnsignedWrites) {
  RemotingCommand route = testing::Call(anonymous_, ns_addr_, rq::kGetBrokerClusterInfo, {});
  ASSERT_EQ(route.code, rc::kSuccess) << "reads stay open";
  EXPECT_NE(route.body.find("b1"), std::string::npos) << "the broker registered with its inner account";
  RemotingCommand r = testing::Call(anonymous_, ns_addr_, rq::kWipeWritePermOfBroker, {{"brokerName", "b1"}});
  EXPECT_EQ(r.code, rc::kNoPermission);
  r = testing::Call(app_, ns_addr_, rq::kPutKvConfig, {{"namespace", "n"}, {"key", "k"}, {"value", "v"}});
  EXPECT_EQ(r.code, rc::kNoPermission);
  EXPECT_EQ(r.remark.value_or(""),
            "Need admin permission for request code=100, but accessKey=app-orders is not");
  EXPECT_EQ(
      testing::Call(admin_, ns_addr_, rq::kPutKvConfig, {{"namespace", "n"}, {"key", "k"}, {"value", "v"}})
          .code,
      rc::kSuccess);
  RemotingCommand config = testing::Call(admin_, addr_, rq::kGetBrokerConfig, {});
  ASSERT_EQ(config.code, rc::kSuccess);
  EXPECT_NE(config.body.find("innerAccessKey=broker-inner"), std::string::npos);
  EXPECT_EQ(config.body.find("broker-inner-secret"), std::string::npos)
      << "the broker's secret never leaves it";
}

TEST_F(BrokerAclTest, AclAdminRequestsCreateRotateAndRevokeAccountsAtOnce) {
  ASSERT_EQ(CreateTopic(admin_, "orders").code, rc::kSuccess);
  RemotingCommand r = testing::Call(admin_, addr_, rq::kUpdateAndCreateAclConfig,
                                    {{"accessKey", "app-billing"},
                                     {"secretKey", "billing-secret-1"},
                                     {"defaultTopicPerm", "DENY"},
                                     {"topicPerms", "orders=PUB"},
                                     {"admin", "false"}});
  ASSERT_EQ(r.code, rc::kSuccess) << r.remark.value_or("");
  net::RemotingClient billing(Signing("app-billing", "billing-secret-1"));
  ASSERT_TRUE(billing.Start().ok());
  EXPECT_EQ(Send(billing, "orders", "m1").code, rc::kSuccess);

  // The account list carries secrets: admins only.
  EXPECT_EQ(testing::Call(app_, addr_, rq::kGetBrokerClusterAclConfig, {}).code, rc::kNoPermission);
  r = testing::Call(admin_, addr_, rq::kGetBrokerClusterAclConfig, {});
  ASSERT_EQ(r.code, rc::kSuccess);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["plainAccessConfigs"].size(), 4u);
  r = testing::Call(admin_, addr_, rq::kGetBrokerClusterAclInfo, {});
  ASSERT_EQ(r.code, rc::kSuccess);
  EXPECT_EQ(nlohmann::json::parse(r.ext_fields["version"])["counter"], 1);
  EXPECT_EQ(r.ext_fields["brokerName"], "b1");

  // Rotation: the new secret works at once, the old one no longer does.
  r = testing::Call(admin_, addr_, rq::kUpdateAndCreateAclConfig,
                    {{"accessKey", "app-billing"}, {"secretKey", "billing-secret-2"}});
  ASSERT_EQ(r.code, rc::kSuccess);
  EXPECT_EQ(Send(billing, "orders", "old secret").code, rc::kNoPermission);
  net::RemotingClient rotated(Signing("app-billing", "billing-secret-2"));
  ASSERT_TRUE(rotated.Start().ok());
  EXPECT_EQ(Send(rotated, "orders", "new secret").code, rc::kSuccess) << "the topic permissions were kept";

  r = testing::Call(
      admin_, addr_, rq::kUpdateAndCreateAclConfig,
      {{"accessKey", "app-billing"}, {"secretKey", "billing-secret-2"}, {"topicPerms", "orders=READ"}});
  EXPECT_EQ(r.code, rc::kUpdateAndCreateAclConfigFailed);
  EXPECT_NE(r.remark.value_or("").find("orders=READ"), std::string::npos);

  ASSERT_EQ(testing::Call(admin_, addr_, rq::kDeleteAclConfig, {{"accessKey", "app-billing"}}).code,
            rc::kSuccess);
  r = Send(rotated, "orders", "revoked");
  EXPECT_EQ(r.code, rc::kNoPermission);
  EXPECT_EQ(r.remark.value_or(""), "No acl config for app-billing");
  EXPECT_EQ(testing::Call(admin_, addr_, rq::kDeleteAclConfig, {{"accessKey", "app-billing"}}).code,
            rc::kDeleteAclConfigFailed);
  EXPECT_TRUE(PollUntil([&] { return MaxOffset("orders") == 2; }, std::chrono::seconds(10)));
  rotated.Stop();
  billing.Stop();
}

TEST_F(BrokerAclTest, AnEditedFileIsReloadedWithoutARestart) {
  ASSERT_EQ(CreateTopic(admin_, "orders").code, rc::kSuccess);
  net::RemotingClient late(Signing("app-late", "late-secret"));
  ASSERT_TRUE(late.Start().ok());
  EXPECT_EQ(Send(late, "orders", "before").code, rc::kNoPermission);
  ASSERT_TRUE(io::WriteFileAtomically(
                  fs_, kAclPath,
                  std::string(kAclFile) +
                      "  - {accessKey: app-late, secretKey: late-secret, defaultTopicPerm: PUB}\n")
                  .ok());
  EXPECT_TRUE(PollUntil([&] { return Send(late, "orders", "after").code == rc::kSuccess; },
                        std::chrono::seconds(10)));
  late.Stop();
}

// TLS: a name server and a broker in enforcing mode; the broker registers over TLS (tls.enable), a TLS client
// produces, a plaintext client is refused on both ports; a slave replicates over TLS, a plaintext one cannot.
TEST(BrokerTlsTest, EnforcingPortsServeTlsClientsAndRefusePlaintext) {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("fmq-broker-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  testing_pki::TestCa ca("broker-tls-test-ca");
  auto server = ca.Issue({.cn = "broker", .server = true, .sans = "IP:127.0.0.1"});
  ASSERT_TRUE(testing_pki::WriteSecretFile(dir + "/ca.pem", ca.cert_pem()));
  ASSERT_TRUE(testing_pki::WriteSecretFile(dir + "/server.pem", server.cert_pem));
  ASSERT_TRUE(testing_pki::WriteSecretFile(dir + "/server.key", server.key_pem));
  net::TlsSettings tls;
  tls.server_mode = net::TlsMode::kEnforcing;
  tls.server = net::TlsFiles{.cert_path = dir + "/server.pem", .key_path = dir + "/server.key"};
  tls.client_enable = true;
  tls.client = net::TlsFiles{.trust_cert_path = dir + "/ca.pem"};

  io::MemoryFileSystem fs;
  namesrv::NameServerConfig nc;
  nc.listen_host = "127.0.0.1";
  nc.listen_port = 0;
  nc.tls = tls;
  namesrv::NameServer ns(nc, fs, SystemClock());
  ASSERT_TRUE(ns.Start().ok());
  const std::string ns_addr = "127.0.0.1:" + std::to_string(ns.port());
  BrokerConfig bc = testing::TestBrokerConfig(ns_addr);
  bc.tls = tls;
  BrokerController broker(bc, testing::TestStoreConfig("C1", "b1"), fs, SystemClock());
  ASSERT_TRUE(broker.Start().ok());

  net::ClientConfig tls_config;
  auto source = net::TlsContextSource::Create(tls.client, /*client=*/true);
  ASSERT_TRUE(source.ok()) << source.status();
  tls_config.tls = *source;
  net::RemotingClient tls_client(tls_config), plain_client;
  ASSERT_TRUE(tls_client.Start().ok());
  ASSERT_TRUE(plain_client.Start().ok());
  EXPECT_TRUE(PollUntil(
      [&] {
        RemotingCommand info = testing::Call(tls_client, ns_addr, rq::kGetBrokerClusterInfo, {});
        return info.body.find("b1") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << "the broker registered over TLS";
  std::map<std::string, std::string> ext;
  protocol::SendMessageRequestHeader::V1().Encode(testing::SendHeader("tls_topic", 0, {}), &ext);
  RemotingCommand req = RemotingCommand::Request(rq::kSendMessage, 0);
  req.ext_fields = ext;
  req.body = "over TLS";
  auto sent = tls_client.InvokeSync(broker.address(), req, std::chrono::seconds(10));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->code, rc::kSuccess);
  for (const std::string& addr : {ns_addr, broker.address()}) {
    auto refused = plain_client.InvokeSync(addr, RemotingCommand::Request(rq::kGetBrokerClusterInfo, 0),
                                           std::chrono::seconds(10));
    EXPECT_FALSE(refused.ok()) << addr << " answered a plaintext client";
  }

  // Replication over TLS: a slave with tls.enable copies the message; one without it copies nothing.
  auto start_slave = [&](io::MemoryFileSystem& slave_fs, bool tls_enable) {
    BrokerConfig sc = bc;
    sc.broker_id = 1;
    sc.replication.role = ha::BrokerRole::kSlave;
    sc.replication.ha_master_address = "127.0.0.1:" + std::to_string(broker.ha_port());
    sc.tls.client_enable = tls_enable;
    auto slave =
        std::make_unique<BrokerController>(sc, testing::TestStoreConfig("C1", "b1"), slave_fs, SystemClock());
    EXPECT_TRUE(slave->Start().ok());
    return slave;
  };
  auto max_offset = [&](const std::string& addr) {
    RemotingCommand req = RemotingCommand::Request(rq::kGetMaxOffset, 0);
    req.ext_fields = {{"topic", "tls_topic"}, {"queueId", "0"}};
    auto r = tls_client.InvokeSync(addr, req, std::chrono::seconds(10));
    return r.ok() && r->code == rc::kSuccess ? std::stoll(r->ext_fields["offset"]) : -1;
  };
  io::MemoryFileSystem tls_slave_fs, plain_slave_fs;
  auto tls_slave = start_slave(tls_slave_fs, true);
  auto plain_slave = start_slave(plain_slave_fs, false);
  EXPECT_TRUE(PollUntil([&] { return max_offset(tls_slave->address()) == 1; }, std::chrono::seconds(20)))
      << "the TLS slave copies the master";
  EXPECT_NE(max_offset(plain_slave->address()), 1)
      << "the master's enforcing HA port refuses a plaintext slave";
  tls_slave->Stop();
  plain_slave->Stop();
  tls_client.Stop();
  plain_client.Stop();
  broker.Stop();
  ns.Stop();
  std::filesystem::remove_all(dir);
}

TEST(BrokerAclConfigTest, AnInnerKeyWithoutItsSecretIsRefusedAtStart) {
  io::MemoryFileSystem fs;
  BrokerConfig bc;
  bc.listen_host = "127.0.0.1";
  bc.listen_port = 0;
  bc.inner_access_key = "broker-inner";
  BrokerController broker(bc, testing::TestStoreConfig("C1", "b1"), fs, SystemClock());
  Status s = broker.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "innerAccessKey and innerSecretKey go together: set both or neither");
  broker.Stop();
}

// The operator's way (docs/security.md): the name server reads the seed file itself; the broker writes its
// accounts into its own ACL file (keeping the application accounts there) and signs with the inner account's
// secret from it, so no config file holds a secret.
TEST(BrokerAclConfigTest, ASeedFileAddsItsAccountsAndGivesTheInnerAccountItsSecret) {
  io::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/seed").ok());
  ASSERT_TRUE(io::WriteFileAtomically(fs, "/seed/plain_acl.yml", R"(accounts:
- accessKey: ferrymq-operator
  secretKey: operator-secret-0123
  admin: true
- accessKey: ferrymq-broker
  secretKey: broker-secret-0123
  admin: true
)")
                  .ok());
  ASSERT_TRUE(fs.CreateDirs("/store/conf").ok());
  ASSERT_TRUE(io::WriteFileAtomically(fs, kAclPath, kAclFile).ok());  // accounts made earlier by admins
  namesrv::NameServerConfig nc;
  nc.listen_host = "127.0.0.1";
  nc.listen_port = 0;
  nc.acl_enable = true;
  nc.acl_config_file = "/seed/plain_acl.yml";
  namesrv::NameServer ns(nc, fs, SystemClock());
  ASSERT_TRUE(ns.Start().ok());
  const std::string ns_addr = "127.0.0.1:" + std::to_string(ns.port());

  BrokerConfig bc = testing::TestBrokerConfig(ns_addr);
  bc.acl_enable = true;
  bc.acl_seed_file = "/seed/plain_acl.yml";
  bc.inner_access_key = "ferrymq-broker";
  BrokerController broker(bc, testing::TestStoreConfig("C1", "b1"), fs, SystemClock());
  ASSERT_TRUE(broker.Start().ok());
  const std::string acl = *io::ReadFileToString(fs, kAclPath);
  for (const char* key : {"ferrymq-operator", "ferrymq-broker", "app-orders", "ops-admin"}) {
    EXPECT_NE(acl.find(key), std::string::npos) << key << "\n" << acl;
  }
  // Registered: the name server took the broker's signature made with the seeded secret.
  net::RemotingClient operator_client(Signing("ferrymq-operator", "operator-secret-0123"));
  ASSERT_TRUE(operator_client.Start().ok());
  EXPECT_TRUE(PollUntil(
      [&] {
        RemotingCommand info = testing::Call(operator_client, ns_addr, rq::kGetBrokerClusterInfo, {});
        return info.code == rc::kSuccess && info.body.find("b1") != std::string::npos;
      },
      std::chrono::seconds(10)));
  // The operator's seeded account is an admin on the broker.
  RemotingCommand conf = testing::Call(operator_client, broker.address(), rq::kGetBrokerClusterAclConfig, {});
  EXPECT_EQ(conf.code, rc::kSuccess) << conf.remark.value_or("");
  EXPECT_EQ(broker.config().inner_secret_key, "broker-secret-0123");
  operator_client.Stop();
  broker.Stop();
  ns.Stop();

  BrokerConfig missing = testing::TestBrokerConfig(ns_addr);
  missing.acl_enable = true;
  missing.acl_seed_file = "/seed/plain_acl.yml";
  missing.inner_access_key = "someone-else";
  BrokerController refused(missing, testing::TestStoreConfig("C1", "b2"), fs, SystemClock());
  Status s = refused.Start();
  EXPECT_EQ(
      s.message(),
      "aclSeedFile /seed/plain_acl.yml has no account with accessKey someone-else (innerAccessKey) to take "
      "innerSecretKey from");
  refused.Stop();
}

}  // namespace
}  // namespace fmq::server
