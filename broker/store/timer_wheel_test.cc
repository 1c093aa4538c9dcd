#include "broker/store/timer_wheel.h"

#include <gtest/gtest.h>

#include "broker/io/memory_file_system.h"

namespace fmq::store {
namespace {

TEST(TimerWheelTest, SlotsListTheirOffsetsInOrderAndClearForTheNextRound) {
  io::MemoryFileSystem fs;
  TimerWheel w(fs, "/t/links", 1000, 60, /*links_per_file=*/4);
  ASSERT_TRUE(w.Reset(10).ok());
  ASSERT_TRUE(w.Add(10, 5000).ok());
  ASSERT_TRUE(w.Add(11, 7000).ok());
  ASSERT_TRUE(w.Add(12, 5000).ok());
  ASSERT_TRUE(w.Add(13, 5000).ok());  // crosses into the next links file
  EXPECT_EQ(w.Entries(5000), (std::vector<int64_t>{10, 12, 13}));
  EXPECT_EQ(w.Entries(7000), (std::vector<int64_t>{11}));
  EXPECT_TRUE(w.Entries(6000).empty());
  // The same slot one window later holds nothing yet, and cannot be taken while this round is pending.
  EXPECT_TRUE(w.Entries(65000).empty());
  EXPECT_FALSE(w.CanTake(65000));
  EXPECT_EQ(w.pending(), 4);
  EXPECT_EQ(w.LowWater(), 10);
  w.Clear(5000);
  EXPECT_EQ(w.pending(), 1);
  EXPECT_EQ(w.LowWater(), 11);
  EXPECT_TRUE(w.CanTake(65000));
  ASSERT_TRUE(w.Add(14, 65000).ok());
  EXPECT_EQ(w.Entries(65000), (std::vector<int64_t>{14}));
  w.Clear(7000);
  w.Clear(65000);
  EXPECT_FALSE(w.LowWater().has_value());
}

TEST(TimerWheelTest, LinksFilesBelowTheLowWaterMarkAreDropped) {
  io::MemoryFileSystem fs;
  TimerWheel w(fs, "/t/links", 1000, 60, /*links_per_file=*/4);
  ASSERT_TRUE(w.Reset(0).ok());
  for (int64_t i = 0; i < 10; ++i) ASSERT_TRUE(w.Add(i, 1000 * (1 + i % 3)).ok());
  EXPECT_EQ(w.links_files(), 3u);
  ASSERT_TRUE(w.DropBelow(8).ok());
  EXPECT_EQ(w.links_files(), 1u);
  EXPECT_EQ(fs.ListDir("/t/links")->size(), 1u);
  // A reset starts over anywhere.
  ASSERT_TRUE(w.Reset(1000).ok());
  EXPECT_EQ(w.links_files(), 0u);
  EXPECT_EQ(w.next_offset(), 1000);
  ASSERT_TRUE(w.Add(1000, 3000).ok());
  EXPECT_EQ(w.Entries(3000), (std::vector<int64_t>{1000}));
}

TEST(TimerWheelTest, AMillionPendingTimersKeepTheSlotsAndLinksBounded) {
  io::MemoryFileSystem fs;
  TimerWheel w(fs, "/t/links", 1000, 3600);
  ASSERT_TRUE(w.Reset(0).ok());
  for (int64_t i = 0; i < 1'000'000; ++i) ASSERT_TRUE(w.Add(i, 1000 * (i % 3600)).ok());
  EXPECT_EQ(w.pending(), 1'000'000);
  EXPECT_EQ(w.links_files(), 1u);  // 8 MiB of links, no heap per timer
  auto slot = w.Entries(1000 * 17);
  ASSERT_EQ(slot.size(), 278u);
  EXPECT_EQ(slot.front(), 17);
  EXPECT_EQ(slot.back(), 17 + 3600 * 277);
}

}  // namespace
}  // namespace fmq::store
