#include "broker/acl/plain_acl.h"

#include <gtest/gtest.h>

namespace fmq::acl {
namespace {

// Apache's distribution file (distribution/conf/plain_acl.yml, 4.9.7), unchanged.
constexpr std::string_view kApacheSample = R"(globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: 12345678
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true
)";

TEST(PlainAclTest, ReadsApachesSampleFile) {
  auto file = ParsePlainAcl(kApacheSample);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->global_white_remote_addresses, (std::vector<std::string>{"10.10.103.*", "192.168.0.*"}));
  ASSERT_EQ(file->accounts.size(), 2u);
  const PlainAccessConfig& a = file->accounts[0];
  EXPECT_EQ(a.access_key, "RocketMQ");
  EXPECT_EQ(a.secret_key, "12345678") << "a number in YAML is the key's text";
  EXPECT_FALSE(a.admin);
  EXPECT_EQ(a.topic_perms.size(), 3u);
  EXPECT_TRUE(file->accounts[1].admin);

  auto rules = AclRules::Compile(*file);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const Account* acc = rules->Find("RocketMQ");
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->default_topic_perm, kDeny);
  EXPECT_EQ(acc->default_group_perm, kSub);
  EXPECT_EQ(acc->resource_perms.at("topicB"), kPub | kSub);
  EXPECT_EQ(acc->resource_perms.at("%RETRY%groupA"), kDeny) << "groups are keyed by their retry topic";
  EXPECT_TRUE(rules->Find("rocketmq2")->white_remote_address.Matches("192.168.1.7"));
  EXPECT_EQ(rules->Find("nobody12"), nullptr);
}

TEST(PlainAclTest, EncodesAndReadsBackTheSameFile) {
  PlainAclFile f;
  f.global_white_remote_addresses = {"10.0.0.*"};
  PlainAccessConfig a;
  a.access_key = "app-orders";
  a.secret_key = "s3cr3t: with # yaml chars";
  a.default_topic_perm = "DENY";
  a.default_group_perm = "SUB";
  a.topic_perms = {"orders=PUB|SUB"};
  a.group_perms = {"orders-consumer=SUB"};
  f.accounts.push_back(a);
  f.data_version = {1733450000000, 7};
  auto back = ParsePlainAcl(EncodePlainAcl(f));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->accounts.size(), 1u);
  EXPECT_EQ(back->accounts[0].secret_key, a.secret_key);
  EXPECT_EQ(back->accounts[0].topic_perms, a.topic_perms);
  EXPECT_EQ(back->accounts[0].group_perms, a.group_perms);
  EXPECT_EQ(back->global_white_remote_addresses, f.global_white_remote_addresses);
  EXPECT_EQ(back->data_version.counter, 7);
  EXPECT_EQ(back->data_version.timestamp, 1733450000000);
}

TEST(PlainAclTest, EmptyFileIsAnEmptyConfig) {
  for (std::string_view text : {"", "\n", "# nothing\n"}) {
    auto f = ParsePlainAcl(text);
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(f->accounts.empty());
  }
}

TEST(PlainAclTest, RefusesBadFilesWithAClearErrorThatNeverShowsASecret) {
  struct Case {
    std::string_view yaml;
    std::string_view says;
  };
  for (const Case& c : std::vector<Case>{
           {"accounts: [{accessKey: short, secretKey: verysecret1}]", "accessKey \"short\" is too short"},
           {"accounts: [{accessKey: longenough, secretKey: tiny}]",
            "the secretKey of accessKey \"longenough\""},
           {"accounts: [{accessKey: longenough, secretKey: verysecret1, topicPerms: [noequals]}]",
            "\"noequals\" is not name=PERM"},
           {"accounts: [{accessKey: longenough, secretKey: verysecret1, whiteRemoteAddress: 10.0.0}]",
            "address pattern \"10.0.0\""},
           {"globalWhiteRemoteAddresses: [300.1.1.1]", "address pattern \"300.1.1.1\""},
       }) {
    auto f = ParsePlainAcl(c.yaml);
    ASSERT_TRUE(f.ok()) << c.yaml;
    auto rules = AclRules::Compile(*f);
    ASSERT_FALSE(rules.ok()) << c.yaml;
    EXPECT_NE(rules.status().message().find(c.says), std::string::npos) << rules.status().ToString();
    EXPECT_EQ(rules.status().message().find("verysecret1"), std::string::npos);
  }
  for (std::string_view bad :
       {"accounts: {a: b}", "[1, 2]", "accounts: [[1]]", "accounts: [{accessKey: [a]}]",
        "dataVersion: [{counter: x}]", "a: [unclosed"}) {
    EXPECT_FALSE(ParsePlainAcl(bad).ok()) << bad;
  }
}

TEST(PlainAclTest, ValidateAccountIsStrictAboutPermissionNames) {
  PlainAccessConfig a;
  a.access_key = "app-orders";
  a.secret_key = "0123456789";
  a.topic_perms = {"orders=pub"};
  Status s = ValidateAccount(a);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("orders=pub"), std::string::npos);
  a.topic_perms = {"orders=PUB"};
  a.default_group_perm = "READ";
  EXPECT_FALSE(ValidateAccount(a).ok());
  a.default_group_perm = "SUB";
  EXPECT_TRUE(ValidateAccount(a).ok());
  a.secret_key = "bad\xfe\xffsecret";
  EXPECT_FALSE(ValidateAccount(a).ok()) << "the file it is written to must stay UTF-8";
}

TEST(PlainAclTest, ARepeatedKeyKeepsItsFirstAccount) {
  auto f = ParsePlainAcl(
      "accounts:\n"
      "  - {accessKey: app-orders, secretKey: first-secret, admin: true}\n"
      "  - {accessKey: app-orders, secretKey: second-secret}\n");
  ASSERT_TRUE(f.ok());
  std::vector<std::string> dups;
  auto rules = AclRules::Compile(*f, &dups);
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->Find("app-orders")->secret_key, "first-secret");
  EXPECT_EQ(dups, std::vector<std::string>{"app-orders"});
}

TEST(PlainAclTest, SplitListDropsBlanks) {
  EXPECT_EQ(SplitList("a=PUB, b=SUB,,"), (std::vector<std::string>{"a=PUB", "b=SUB"}));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace fmq::acl
