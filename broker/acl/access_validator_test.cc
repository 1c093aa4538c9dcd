#include "broker/acl/access_validator.h"

#include <gtest/gtest.h>

#include "broker/acl/signature.h"
#include "broker/model/admin_body.h"
#include "broker/model/heartbeat.h"
#include "broker/protocol/codes.h"

namespace fmq::acl {
namespace {

namespace rq = protocol::request_code;
using protocol::RemotingCommand;

AclRules Rules() {
  auto f = ParsePlainAcl(R"(
globalWhiteRemoteAddresses: [10.9.9.*]
accounts:
  - accessKey: app-orders
    secretKey: orders-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms: [orders=PUB|SUB, audit=PUB, reports=SUB, blocked=DENY]
    groupPerms: [orders-consumer=SUB]
  - accessKey: ops-admin
    secretKey: admin-secret
    admin: true
  - accessKey: trusted-host
    secretKey: trusted-secret
    whiteRemoteAddress: 10.1.1.1
)");
  EXPECT_TRUE(f.ok());
  auto r = AclRules::Compile(*f);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

RemotingCommand Req(int32_t code, std::map<std::string, std::string> ext, std::string body = "") {
  RemotingCommand r = RemotingCommand::Request(code, 1);
  r.ext_fields = std::move(ext);
  r.body = std::move(body);
  return r;
}

RemotingCommand Signed(RemotingCommand r, std::string_view ak, std::string_view sk) {
  SignRequest(r.ext_fields, r.body, ak, sk);
  return r;
}

Status Check(const RemotingCommand& r, std::string_view ip = "10.0.0.5", Endpoint e = Endpoint::kBroker) {
  static const AclRules rules = Rules();
  return Authorize(rules, e, ip, r);
}

RemotingCommand SendV2(std::string topic, std::string group = "pg") {
  return Req(rq::kSendMessageV2, {{"a", group}, {"b", topic}, {"e", "0"}}, "body");
}

TEST(AccessValidatorTest, RefusesMissingUnknownAndBadlySignedRequestsWithApachesMessages) {
  Status s = Check(SendV2("orders"));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "No accessKey is configured");

  s = Check(Signed(SendV2("orders"), "stranger-key", "whatever-secret"));
  EXPECT_EQ(s.message(), "No acl config for stranger-key");

  s = Check(Signed(SendV2("orders"), "app-orders", "wrong-secret"));
  EXPECT_EQ(s.message(), "Check signature failed for accessKey=app-orders");

  RemotingCommand tampered = Signed(SendV2("orders"), "app-orders", "orders-secret");
  tampered.body = "other body";
  EXPECT_EQ(Check(tampered).message(), "Check signature failed for accessKey=app-orders");

  RemotingCommand unsigned_with_key = SendV2("orders");
  unsigned_with_key.ext_fields["AccessKey"] = "app-orders";
  EXPECT_EQ(Check(unsigned_with_key).message(), "Check signature failed for accessKey=app-orders");

  EXPECT_TRUE(Check(Signed(SendV2("orders"), "app-orders", "orders-secret")).ok());
}

TEST(AccessValidatorTest, TopicAndGroupPermissionsDecideSendsPullsAndOffsets) {
  auto app = [](RemotingCommand r) { return Check(Signed(std::move(r), "app-orders", "orders-secret")); };
  EXPECT_TRUE(app(SendV2("audit")).ok());
  EXPECT_EQ(app(SendV2("reports")).message(), "No default permission for topic:reports");
  EXPECT_EQ(app(SendV2("blocked")).message(), "No default permission for topic:blocked");
  EXPECT_EQ(app(SendV2("unlisted")).message(), "No default permission for topic:unlisted");
  EXPECT_EQ(app(Req(rq::kSendMessage, {{"topic", "reports"}})).message(),
            "No default permission for topic:reports");
  EXPECT_EQ(app(Req(rq::kSendBatchMessage, {{"b", "reports"}})).message(),
            "No default permission for topic:reports")
      << "a batch needs PUB like a single send (Apache 4.9 checked nothing)";

  // A send to a retry topic needs SUB on that topic's group.
  EXPECT_TRUE(app(SendV2("%RETRY%orders-consumer", "CLIENT_INNER_PRODUCER")).ok());
  EXPECT_EQ(app(SendV2("%RETRY%someone-else", "CLIENT_INNER_PRODUCER")).message(),
            "No default permission for group:someone-else");

  EXPECT_TRUE(app(Req(rq::kPullMessage, {{"topic", "reports"}, {"consumerGroup", "orders-consumer"}})).ok());
  EXPECT_EQ(app(Req(rq::kPullMessage, {{"topic", "audit"}, {"consumerGroup", "orders-consumer"}})).message(),
            "No default permission for topic:audit");
  EXPECT_EQ(app(Req(rq::kPullMessage, {{"topic", "reports"}, {"consumerGroup", "other"}})).message(),
            "No default permission for group:other");
  EXPECT_TRUE(app(Req(rq::kConsumerSendMsgBack, {{"group", "orders-consumer"}})).ok());
  EXPECT_FALSE(app(Req(rq::kConsumerSendMsgBack, {{"group", "other"}})).ok());
  EXPECT_TRUE(
      app(Req(rq::kUpdateConsumerOffset, {{"consumerGroup", "orders-consumer"}, {"topic", "orders"}})).ok());
  EXPECT_FALSE(app(Req(rq::kQueryConsumerOffset, {{"consumerGroup", "other"}, {"topic", "orders"}})).ok());
  EXPECT_FALSE(app(Req(rq::kQueryMessage, {{"topic", "audit"}})).ok());
  EXPECT_TRUE(app(Req(rq::kGetConsumerListByGroup, {{"consumerGroup", "orders-consumer"}})).ok());
  EXPECT_TRUE(app(Req(rq::kUnregisterClient, {{"clientID", "c1"}, {"producerGroup", "pg"}})).ok());
  // Codes without resources need only a valid signature.
  EXPECT_TRUE(app(Req(rq::kGetMaxOffset, {{"topic", "anything"}, {"queueId", "0"}})).ok());
}

TEST(AccessValidatorTest, HeartbeatsAndLocksNeedTheirGroupsAndTopics) {
  auto app = [](RemotingCommand r) { return Check(Signed(std::move(r), "app-orders", "orders-secret")); };
  model::HeartbeatData hb;
  hb.client_id = "c1";
  hb.producer_groups = {"any-producer-group"};
  EXPECT_TRUE(app(Req(rq::kHeartBeat, {}, model::EncodeHeartbeat(hb))).ok())
      << "producer groups need nothing";
  model::ConsumerData c;
  c.group_name = "orders-consumer";
  model::SubscriptionData sub;
  sub.topic = "orders";
  c.subscriptions.push_back(sub);
  hb.consumers.push_back(c);
  EXPECT_TRUE(app(Req(rq::kHeartBeat, {}, model::EncodeHeartbeat(hb))).ok());
  sub.topic = "audit";
  hb.consumers[0].subscriptions.push_back(sub);
  EXPECT_EQ(app(Req(rq::kHeartBeat, {}, model::EncodeHeartbeat(hb))).message(),
            "No default permission for topic:audit");
  EXPECT_EQ(app(Req(rq::kHeartBeat, {}, "{not json")).code(), StatusCode::kPermissionDenied);

  model::LockBatchRequest lock;
  lock.consumer_group = "orders-consumer";
  lock.client_id = "c1";
  lock.mq_set.insert({.topic = "orders", .broker_name = "b", .queue_id = 0});
  EXPECT_TRUE(app(Req(rq::kLockBatchMq, {}, model::EncodeLockBatchRequest(lock))).ok());
  lock.mq_set.insert({.topic = "audit", .broker_name = "b", .queue_id = 0});
  EXPECT_FALSE(app(Req(rq::kUnlockBatchMq, {}, model::EncodeLockBatchRequest(lock))).ok());
}

TEST(AccessValidatorTest, AdminCodesNeedAnAdminAccount) {
  for (int32_t code :
       {rq::kUpdateAndCreateTopic, rq::kDeleteTopicInBroker, rq::kUpdateBrokerConfig, rq::kGetBrokerConfig,
        rq::kUpdateAndCreateSubscriptionGroup, rq::kDeleteSubscriptionGroup, rq::kUpdateAndCreateAclConfig,
        rq::kDeleteAclConfig, rq::kGetBrokerClusterAclConfig, rq::kGetBrokerClusterAclInfo,
        rq::kUpdateGlobalWhiteAddrsConfig, rq::kInvokeBrokerToResetOffset, rq::kHaPromote}) {
    Status s = Check(Signed(Req(code, {{"topic", "orders"}}), "app-orders", "orders-secret"));
    EXPECT_EQ(s.message(), "Need admin permission for request code=" + std::to_string(code) +
                               ", but accessKey=app-orders is not");
    EXPECT_TRUE(Check(Signed(Req(code, {{"topic", "orders"}}), "ops-admin", "admin-secret")).ok()) << code;
  }
  // An admin without explicit entries passes every resource check.
  EXPECT_TRUE(Check(Signed(SendV2("anything"), "ops-admin", "admin-secret")).ok());
}

TEST(AccessValidatorTest, WhiteAddressesAndTheTraceTopicPassAsInApache) {
  EXPECT_TRUE(Check(SendV2("orders"), "10.9.9.3").ok()) << "global white list: no signature needed";
  RemotingCommand keyed = SendV2("blocked");
  keyed.ext_fields["AccessKey"] = "trusted-host";
  EXPECT_TRUE(Check(keyed, "10.1.1.1").ok()) << "the account's white address skips signature and perms";
  EXPECT_FALSE(Check(keyed, "10.1.1.2").ok());
  EXPECT_TRUE(Check(Signed(SendV2("RMQ_SYS_TRACE_TOPIC"), "app-orders", "orders-secret")).ok());
}

TEST(AccessValidatorTest, NameServerReadsAreOpenAndWritesNeedAnAdmin) {
  EXPECT_TRUE(
      Check(Req(rq::kGetRouteInfoByTopic, {{"topic", "orders"}}), "10.0.0.5", Endpoint::kNameServer).ok());
  EXPECT_TRUE(Check(Req(rq::kGetBrokerClusterInfo, {}), "10.0.0.5", Endpoint::kNameServer).ok());
  for (int32_t code :
       {rq::kRegisterBroker, rq::kUnregisterBroker, rq::kDeleteTopicInNamesrv, rq::kPutKvConfig,
        rq::kDeleteKvConfig, rq::kWipeWritePermOfBroker, rq::kAddWritePermOfBroker}) {
    EXPECT_EQ(Check(Req(code, {}), "10.0.0.5", Endpoint::kNameServer).message(),
              "No accessKey is configured");
    EXPECT_FALSE(
        Check(Signed(Req(code, {}), "app-orders", "orders-secret"), "10.0.0.5", Endpoint::kNameServer).ok());
    EXPECT_TRUE(
        Check(Signed(Req(code, {}), "ops-admin", "admin-secret"), "10.0.0.5", Endpoint::kNameServer).ok());
  }
}

TEST(AccessValidatorTest, HostOfCutsThePort) {
  EXPECT_EQ(HostOf("10.0.0.1:10911"), "10.0.0.1");
  EXPECT_EQ(HostOf("[::1]:10911"), "::1");
  EXPECT_EQ(HostOf("::ffff:10.0.0.1:5000"), "::ffff:10.0.0.1");
  EXPECT_EQ(HostOf("nohost"), "nohost");
}

}  // namespace
}  // namespace fmq::acl
