#include "broker/acl/plain_acl_store.h"

#include <gtest/gtest.h>

#include "broker/io/memory_file_system.h"

namespace fmq::acl {
namespace {

constexpr char kPath[] = "/data/conf/plain_acl.yml";

AccountUpdate App(std::string secret = "orders-secret") {
  AccountUpdate u;
  u.access_key = "app-orders";
  u.secret_key = std::move(secret);
  u.topic_perms = std::vector<std::string>{"orders=PUB|SUB"};
  u.default_topic_perm = "DENY";
  return u;
}

TEST(PlainAclStoreTest, CreatesAMissingFileEmptyAndPersistsEveryEdit) {
  io::MemoryFileSystem fs;
  ManualClock clock(1'733'450'000'000);
  PlainAclStore store(fs, clock, kPath);
  ASSERT_TRUE(store.Load().ok());
  EXPECT_TRUE(fs.Exists(kPath));
  EXPECT_EQ(store.rules()->account_count(), 0u);

  ASSERT_TRUE(store.UpdateAccount(App()).ok());
  ASSERT_NE(store.rules()->Find("app-orders"), nullptr);
  EXPECT_EQ(store.file().data_version.counter, 1);
  EXPECT_EQ(store.file().data_version.timestamp, 1'733'450'000'000);

  // A partial update keeps what it does not name.
  AccountUpdate rotate;
  rotate.access_key = "app-orders";
  rotate.secret_key = "rotated-secret";
  ASSERT_TRUE(store.UpdateAccount(rotate).ok());
  EXPECT_EQ(store.rules()->Find("app-orders")->secret_key, "rotated-secret");
  EXPECT_EQ(store.rules()->Find("app-orders")->resource_perms.at("orders"), kPub | kSub);
  ASSERT_TRUE(store.UpdateGlobalWhiteAddresses({"10.0.0.*"}).ok());
  EXPECT_EQ(store.file().data_version.counter, 3);

  PlainAclStore reopened(fs, clock, kPath);
  ASSERT_TRUE(reopened.Load().ok());
  EXPECT_EQ(reopened.rules()->Find("app-orders")->secret_key, "rotated-secret");
  EXPECT_EQ(reopened.rules()->global_white_remote_addresses().size(), 1u);

  ASSERT_TRUE(store.DeleteAccount("app-orders").ok());
  EXPECT_EQ(store.rules()->Find("app-orders"), nullptr);
  EXPECT_EQ(store.DeleteAccount("app-orders").code(), StatusCode::kNotFound);
}

TEST(PlainAclStoreTest, SeedReplacesItsAccountsKeepsTheOthersAndWritesOnlyOnChange) {
  io::MemoryFileSystem fs;
  ManualClock clock(1'733'450'000'000);
  PlainAclStore store(fs, clock, kPath);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(store.UpdateAccount(App()).ok());  // an application's account, made by the admin codes
  PlainAclFile seed;
  PlainAccessConfig admin;
  admin.access_key = "ferrymq-operator";
  admin.secret_key = "operator-secret-1";
  admin.admin = true;
  seed.accounts.push_back(admin);
  ASSERT_TRUE(store.Seed(seed).ok());
  EXPECT_EQ(store.file().data_version.counter, 2);
  ASSERT_NE(store.rules()->Find("app-orders"), nullptr);
  ASSERT_NE(store.rules()->Find("ferrymq-operator"), nullptr);
  EXPECT_TRUE(store.rules()->Find("ferrymq-operator")->admin);

  ASSERT_TRUE(store.Seed(seed).ok());  // the same seed at the next start: nothing written
  EXPECT_EQ(store.file().data_version.counter, 2);

  seed.accounts[0].secret_key = "operator-secret-2";
  ASSERT_TRUE(store.Seed(seed).ok());
  EXPECT_EQ(store.rules()->Find("ferrymq-operator")->secret_key, "operator-secret-2");
  EXPECT_EQ(store.file().accounts.size(), 2u);

  seed.accounts[0].secret_key = "short";
  const std::string before = *io::ReadFileToString(fs, kPath);
  EXPECT_EQ(store.Seed(seed).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*io::ReadFileToString(fs, kPath), before);
}

TEST(PlainAclStoreTest, RefusesInvalidEditsAndChangesNothing) {
  io::MemoryFileSystem fs;
  PlainAclStore store(fs, SystemClock(), kPath);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(store.UpdateAccount(App()).ok());
  const std::string before = *io::ReadFileToString(fs, kPath);
  AccountUpdate bad = App("short");
  EXPECT_EQ(store.UpdateAccount(bad).code(), StatusCode::kInvalidArgument);
  bad = App();
  bad.topic_perms = std::vector<std::string>{"orders=WRITE"};
  EXPECT_EQ(store.UpdateAccount(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store.UpdateGlobalWhiteAddresses({"10.0.0"}).ok());
  EXPECT_EQ(*io::ReadFileToString(fs, kPath), before);
  EXPECT_EQ(store.rules()->Find("app-orders")->secret_key, "orders-secret");
}

TEST(PlainAclStoreTest, HotReloadAppliesAValidFileAndKeepsTheOldRulesOnABadOne) {
  io::MemoryFileSystem fs;
  PlainAclStore store(fs, SystemClock(), kPath);
  ASSERT_TRUE(store.Load().ok());
  auto unchanged = store.ReloadIfChanged();
  ASSERT_TRUE(unchanged.ok());
  EXPECT_FALSE(*unchanged);

  ASSERT_TRUE(
      io::WriteFileAtomically(fs, kPath, "accounts: [{accessKey: ops-admin, secretKey: admin-secret}]\n")
          .ok());
  auto applied = store.ReloadIfChanged();
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(*applied);
  ASSERT_NE(store.rules()->Find("ops-admin"), nullptr);

  ASSERT_TRUE(
      io::WriteFileAtomically(fs, kPath, "accounts: [{accessKey: short, secretKey: admin-secret}]\n").ok());
  auto bad = store.ReloadIfChanged();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(kPath), std::string::npos);
  EXPECT_NE(store.rules()->Find("ops-admin"), nullptr) << "the old rules stay";
  auto again = store.ReloadIfChanged();
  ASSERT_TRUE(again.ok()) << "the same bad text is reported once";
  EXPECT_FALSE(*again);
}

TEST(PlainAclStoreTest, AnInvalidFileFailsTheStartNamingIt) {
  io::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/data/conf").ok());
  ASSERT_TRUE(io::WriteFileAtomically(fs, kPath, "accounts: [{accessKey: x, secretKey: y}]\n").ok());
  PlainAclStore store(fs, SystemClock(), kPath);
  Status s = store.Load();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(kPath), std::string::npos);
}

}  // namespace
}  // namespace fmq::acl
