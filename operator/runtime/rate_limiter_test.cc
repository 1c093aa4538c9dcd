#include "operator/runtime/rate_limiter.h"

#include <gtest/gtest.h>

namespace fmq::op::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiterTest, ItemExponentialDoublesPerFailureUpToTheCapAndForgets) {
  ItemExponentialRateLimiter l(milliseconds(5), seconds(1000));
  EXPECT_EQ(l.When("a"), milliseconds(5));
  EXPECT_EQ(l.When("a"), milliseconds(10));
  EXPECT_EQ(l.When("a"), milliseconds(20));
  EXPECT_EQ(l.When("b"), milliseconds(5));  // per item
  EXPECT_EQ(l.NumRequeues("a"), 3);
  for (int i = 0; i < 30; ++i) l.When("a");
  EXPECT_EQ(l.When("a"), seconds(1000));
  for (int i = 0; i < 100; ++i) l.When("a");
  EXPECT_EQ(l.When("a"), seconds(1000));  // no overflow past the cap
  l.Forget("a");
  EXPECT_EQ(l.NumRequeues("a"), 0);
  EXPECT_EQ(l.When("a"), milliseconds(5));
}

TEST(RateLimiterTest, BucketAllowsTheBurstThenPacesAtQps) {
  ManualClock clock;
  BucketRateLimiter l(10, 100, &clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(l.When("x"), Duration(0)) << i;
  // The burst is spent: reservations queue 100 ms apart.
  EXPECT_EQ(l.When("x"), milliseconds(100));
  EXPECT_EQ(l.When("x"), milliseconds(200));
  // Time refills the bucket.
  clock.AdvanceMillis(1000);  // +10 tokens, 2 already reserved
  for (int i = 0; i < 8; ++i) ASSERT_EQ(l.When("x"), Duration(0)) << i;
  EXPECT_EQ(l.When("x"), milliseconds(100));
  clock.AdvanceMillis(1'000'000);  // never more than the burst saved up
  for (int i = 0; i < 100; ++i) ASSERT_EQ(l.When("x"), Duration(0)) << i;
  EXPECT_GT(l.When("x"), Duration(0));
}

TEST(RateLimiterTest, DefaultIsTheMaxOfPerItemAndBucket) {
  ManualClock clock;
  auto l = DefaultControllerRateLimiter(&clock);
  EXPECT_EQ(l->When("a"), milliseconds(5));
  EXPECT_EQ(l->When("a"), milliseconds(10));
  // 98 more distinct failures drain the bucket; then the bucket's delay dominates a fresh item's 5 ms.
  for (int i = 0; i < 98; ++i) l->When("k" + std::to_string(i));
  EXPECT_EQ(l->When("fresh"), milliseconds(100));
  EXPECT_EQ(l->NumRequeues("a"), 2);
  l->Forget("a");
  EXPECT_EQ(l->NumRequeues("a"), 0);
}

TEST(BackoffTest, GrowsWithJitterAndResets) {
  Backoff b(milliseconds(800), milliseconds(30'000));
  auto d1 = b.Next();
  EXPECT_GE(d1, milliseconds(400));
  EXPECT_LE(d1, milliseconds(800));
  auto d2 = b.Next();
  EXPECT_GE(d2, milliseconds(800));
  EXPECT_LE(d2, milliseconds(1600));
  for (int i = 0; i < 10; ++i) b.Next();
  auto capped = b.Next();
  EXPECT_GE(capped, milliseconds(15'000));
  EXPECT_LE(capped, milliseconds(30'000));
  b.Reset();
  EXPECT_LE(b.Next(), milliseconds(800));
  auto j = Jitter(milliseconds(1000), 0.2);
  EXPECT_GE(j, milliseconds(800));
  EXPECT_LE(j, milliseconds(1000));
}

}  // namespace
}  // namespace fmq::op::runtime
