#include "broker/acl/signature.h"

#include <gtest/gtest.h>

namespace fmq::acl {
namespace {

// Ext fields and signatures printed by Apache's own AclClientRPCHook (rocketmq-acl 4.9.7) for a
// SEND_MESSAGE_V2 with a UTF-8 body and a header-less GET_ROUTEINFO_BY_TOPIC, credentials
// RocketMQUser / 12345678secret.
std::map<std::string, std::string> JavaSendV2Fields() {
  return {{"a", "pg"},
          {"b", "TopicA"},
          {"c", "TBW102"},
          {"d", "4"},
          {"e", "1"},
          {"f", "0"},
          {"g", "1733450000000"},
          {"h", "0"},
          {"i", std::string("TAGS\x01tagA\x02")},
          {"j", "0"},
          {"k", "false"},
          {"m", "false"}};
}
constexpr std::string_view kJavaBody = "hello ferry \xc3\xa9";

TEST(SignatureTest, SignsAsTheJavaClientDoes) {
  auto ext = JavaSendV2Fields();
  SignRequest(ext, kJavaBody, "RocketMQUser", "12345678secret");
  EXPECT_EQ(ext.at("AccessKey"), "RocketMQUser");
  EXPECT_EQ(ext.at("Signature"), "DojoOkl2TVP2D8IJvf1hZhrIE3I=");

  std::map<std::string, std::string> route;
  SignRequest(route, "", "RocketMQUser", "12345678secret");
  EXPECT_EQ(route.at("Signature"), "rc/J4WSNgZPTV0QieEpTi3FsW+s=");
}

TEST(SignatureTest, BrokerContentLeavesOutSignatureAndUniqueKeyQuery) {
  auto ext = JavaSendV2Fields();
  SignRequest(ext, kJavaBody, "RocketMQUser", "12345678secret");
  ext["_UNIQUE_KEY_QUERY"] = "true";  // left out by Apache's broker
  EXPECT_EQ(Sign(ServerSignatureContent(ext, kJavaBody), "12345678secret"), "DojoOkl2TVP2D8IJvf1hZhrIE3I=");
  EXPECT_NE(Sign(ClientSignatureContent(ext, kJavaBody), "12345678secret"), "DojoOkl2TVP2D8IJvf1hZhrIE3I=");
  EXPECT_NE(Sign(ServerSignatureContent(ext, "hello ferry e"), "12345678secret"),
            "DojoOkl2TVP2D8IJvf1hZhrIE3I=");
}

TEST(SignatureTest, ComparesWholeSignatures) {
  EXPECT_TRUE(SignaturesEqual("abc=", "abc="));
  EXPECT_FALSE(SignaturesEqual("abc=", "abd="));
  EXPECT_FALSE(SignaturesEqual("abc=", "abc"));
  EXPECT_FALSE(SignaturesEqual("", "a"));
}

}  // namespace
}  // namespace fmq::acl
