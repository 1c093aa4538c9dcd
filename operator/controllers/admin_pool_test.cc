#include "operator/controllers/admin_pool.h"

#include <gtest/gtest.h>

#include <future>

namespace fmq::op::controllers {
namespace {

// Admin clients connect lazily, so unreachable name-server addresses are fine here.
TEST(AdminPoolTest, OneClientPerNameServerListSharedByItsUsers) {
  AdminPool pool;
  auto a = pool.For("127.0.0.1:1;127.0.0.1:2", "ns/one");
  auto b = pool.For("127.0.0.1:1;127.0.0.1:2");  // a Topic reconciler of the same Cluster
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(pool.size(), 1u);
}

TEST(AdminPoolTest, ADeletedClusterLetsItsClientGo) {
  AdminPool pool;
  auto a = pool.For("127.0.0.1:1", "ns/one");
  ASSERT_TRUE(pool.For("127.0.0.1:2", "ns/two").ok());
  ASSERT_TRUE(a.ok());
  std::weak_ptr<client::Admin> weak = *a;
  a = Status::Aborted("dropped by the test");
  EXPECT_EQ(pool.size(), 2u);
  pool.Release("ns/one");
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_TRUE(weak.expired());  // stopped and destroyed: no threads left behind
  pool.Release("ns/unknown");   // nothing to do
  EXPECT_EQ(pool.size(), 1u);
  // Used again later (a Cluster of the same name recreated): a new client.
  auto again = pool.For("127.0.0.1:1", "ns/one");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(pool.size(), 2u);
}

TEST(AdminPoolTest, AChangedNameServerListReplacesTheOwnersClient) {
  AdminPool pool;
  ASSERT_TRUE(pool.For("127.0.0.1:1", "ns/one").ok());
  ASSERT_TRUE(pool.For("127.0.0.1:1;127.0.0.1:3", "ns/one").ok());  // name servers scaled 1 -> 2
  EXPECT_EQ(pool.size(), 1u);
  // A list two owners share stays while one of them still uses it.
  ASSERT_TRUE(pool.For("127.0.0.1:9", "ns/a").ok());
  ASSERT_TRUE(pool.For("127.0.0.1:9", "ns/b").ok());
  pool.Release("ns/a");
  EXPECT_EQ(pool.size(), 2u);
  pool.Release("ns/b");
  EXPECT_EQ(pool.size(), 1u);
}

TEST(AdminPoolTest, ACallInFlightKeepsItsClientUntilItIsDone) {
  AdminPool pool;
  auto held = pool.For("127.0.0.1:1", "ns/one");
  ASSERT_TRUE(held.ok());
  pool.Release("ns/one");
  EXPECT_EQ(pool.size(), 0u);
  // Still usable by the reconcile that holds it: the call fails to connect at once. (A client stopped under
  // its caller would leave this call hanging, and the reconcile worker with it.)
  auto call = std::async(std::launch::async, [&] { return (*held)->GetTopicList(); });
  ASSERT_EQ(call.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto list = call.get();
  EXPECT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("Connection refused"), std::string::npos)
      << list.status().ToString();
}

}  // namespace
}  // namespace fmq::op::controllers
