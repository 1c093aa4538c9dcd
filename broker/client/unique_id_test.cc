#include "broker/client/unique_id.h"

#include <gtest/gtest.h>

#include <set>

namespace fmq::client {
namespace {

TEST(UniqueIdTest, LayoutIsJavaMessageClientIdSetters) {
  ManualClock clock(1'700'000'000'000);
  UniqueIdGenerator gen({10, 1, 2, 3}, 0x1234, 0xCAFEBABE, &clock);
  const std::string id = gen.Next();
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id.substr(0, 8), "0A010203");   // ip
  EXPECT_EQ(id.substr(8, 4), "1234");       // pid
  EXPECT_EQ(id.substr(12, 8), "CAFEBABE");  // per-process random (Java: class loader hash)
  const int64_t since_month = 1'700'000'000'000 - UniqueIdGenerator::StartOfMonthMillis(1'700'000'000'000);
  char expect[9];
  std::snprintf(expect, sizeof expect, "%08X", static_cast<uint32_t>(since_month));
  EXPECT_EQ(id.substr(20, 8), expect);
  EXPECT_EQ(id.substr(28, 4), "0000");  // counter
  EXPECT_EQ(gen.Next().substr(28, 4), "0001");
}

TEST(UniqueIdTest, IdsAreUniqueAndUppercaseHex) {
  UniqueIdGenerator gen;
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(gen.Next());
  EXPECT_EQ(ids.size(), 10000u);
  for (char c : *ids.begin()) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << c;
}

TEST(UniqueIdTest, TimeFieldRestartsAtANewMonth) {
  const int64_t month = UniqueIdGenerator::StartOfMonthMillis(1'700'000'000'000);
  ManualClock clock(month + 5000);
  UniqueIdGenerator gen({127, 0, 0, 1}, 1, 1, &clock);
  EXPECT_EQ(gen.Next().substr(20, 8), "00001388");   // 5000 ms into the month
  clock.SetMillis(month + 40LL * 24 * 3600 * 1000);  // into the next month
  const int64_t next = UniqueIdGenerator::StartOfMonthMillis(clock.NowMillis());
  char expect[9];
  std::snprintf(expect, sizeof expect, "%08X", static_cast<uint32_t>(clock.NowMillis() - next));
  EXPECT_EQ(gen.Next().substr(20, 8), expect);
}

}  // namespace
}  // namespace fmq::client
