#include "broker/server/backlog.h"

#include <gtest/gtest.h>

namespace fmq::server {
namespace {

TEST(BacklogTest, AQueueCountsFromItsSlowestConsumerGroupOrWholeWhenNoGroupHasOffsets) {
  BacklogInput in;
  in.queues["T"] = {{0, 10}, {0, 4}};
  in.queues["Orphan"] = {{3, 8}};  // nobody consumed it: 5 from the queue's minimum
  in.consumed["T"]["fast"] = {{0, 10}, {1, 4}};
  in.consumed["T"]["slow"] = {{0, 7}};  // no offset on queue 1: all of queue 1 counts
  Backlog b = ComputeBacklog(in);
  EXPECT_EQ(b.total, 3 + 4 + 5);
  ASSERT_EQ(b.by_topic.size(), 2u);
  EXPECT_EQ(b.by_topic[0], (std::pair<std::string, int64_t>{"T", 7}));
  EXPECT_EQ(b.by_topic[1], (std::pair<std::string, int64_t>{"Orphan", 5}));
  EXPECT_EQ(DescribeBacklog(b), "T:7,Orphan:5");
  EXPECT_EQ(DescribeBacklog(b, 1), "T:7");
}

TEST(BacklogTest, ExpiredMessagesAndIgnoredTopicsDoNotCountAndDrainedQueuesAreZero) {
  BacklogInput in;
  in.queues["T"] = {{50, 60}};
  in.consumed["T"]["g"] = {{0, 20}};  // retention removed 20..50: only 50..60 are still there to lose
  in.queues["TBW102"] = {{0, 9}};
  in.ignored = {"TBW102"};
  in.queues["Done"] = {{0, 5}};
  in.consumed["Done"]["g"] = {{0, 5}};
  Backlog b = ComputeBacklog(in);
  EXPECT_EQ(b.total, 10);
  EXPECT_EQ(DescribeBacklog(b), "T:10");
  EXPECT_EQ(DescribeBacklog(ComputeBacklog(BacklogInput{})), "");
}

TEST(BacklogTest, TimerRecordsCountAsPendingNotAsTheirQueue) {
  BacklogInput in;
  in.queues["rmq_sys_wheel_timer"] = {{0, 100}};  // rolled records repeat entries: the queue overcounts
  in.timer_pending = 3;
  EXPECT_EQ(ComputeBacklog(in).total, 3);
  in.timer_pending = 0;
  EXPECT_EQ(ComputeBacklog(in).total, 0);
}

}  // namespace
}  // namespace fmq::server
