#include "broker/ha/replica_tracker.h"

#include <gtest/gtest.h>

namespace fmq::ha {
namespace {

ReplicationConfig Config(int min_in_sync, BelowMinInSyncPolicy policy) {
  ReplicationConfig c;
  c.role = BrokerRole::kSyncMaster;
  c.min_in_sync_replicas = min_in_sync;
  c.when_below_min_in_sync = policy;
  c.ha_max_time_slave_not_catchup_ms = 15'000;
  c.ha_slave_fallbehind_max = 1'000'000;
  return c;
}

TEST(ReplicaTrackerTest, ConfirmIsTheLowestAckOfTheInSyncSlavesAndNeverMovesBack) {
  ReplicaTracker t(Config(2, BelowMinInSyncPolicy::kReject), /*sync=*/true, 0);
  int64_t now = 1'000'000;
  t.Update(1000, 1000, now);
  EXPECT_FALSE(t.AcceptsWrites()) << "no slave in sync: reject";
  t.Connected(1, "s1", 1, true, now);
  t.Connected(2, "s2", 2, true, now);
  t.Reported(1, 1000, 1000, now);
  t.Reported(2, 600, 1000, now);
  EXPECT_EQ(t.Snapshot().in_sync_copies, 2) << "s2 has not reached the log end of any sampled moment";
  EXPECT_EQ(t.Update(1000, 1000, now + 10), 1000);
  t.Reported(2, 1000, 1000, now + 20);
  EXPECT_EQ(t.Snapshot().in_sync_copies, 3);
  EXPECT_EQ(t.Update(2000, 2000, now + 30), 1000);
  t.Reported(1, 2000, 2000, now + 40);
  EXPECT_EQ(t.confirm_offset(), 1000) << "s2 has not acknowledged 2000 yet";
  t.Reported(2, 1500, 2000, now + 50);
  EXPECT_EQ(t.confirm_offset(), 1500);
  // s2 leaves: confirm is s1's ack (still at least 2 copies), and never goes back.
  t.Disconnected(2);
  EXPECT_EQ(t.Update(2000, 2000, now + 60), 2000);
  t.Disconnected(1);
  EXPECT_EQ(t.Update(3000, 3000, now + 70), 2000) << "below minInSyncReplicas with reject: frozen";
  EXPECT_FALSE(t.AcceptsWrites());
  EXPECT_TRUE(t.Snapshot().below_min);
  EXPECT_FALSE(t.Snapshot().degraded);
}

TEST(ReplicaTrackerTest, ASlaveThatStopsCatchingUpLeavesAfterTheWindowAndRejoinsWhenCaughtUp) {
  ReplicaTracker t(Config(2, BelowMinInSyncPolicy::kReject), true, 0);
  int64_t now = 5'000'000;
  t.Connected(1, "s1", 1, true, now);
  t.Update(100, 100, now);
  t.Reported(1, 100, 100, now);
  EXPECT_TRUE(t.AcceptsWrites());
  // The log grows every 100 ms; the slave keeps acknowledging 100 (frozen copy, still connected).
  for (int i = 1; i <= 160; ++i) {
    t.Update(100 + i * 10, 100 + i * 10, now + i * 100);
    t.Reported(1, 100, 100 + i * 10, now + i * 100);
  }
  EXPECT_FALSE(t.Snapshot().replicas[0].in_sync) << "not caught up for 16 s > 15 s";
  EXPECT_FALSE(t.AcceptsWrites());
  // A slave that trails by a few ms under load stays in sync: it holds what the master had 200 ms ago.
  const int64_t later = now + 20'000;
  t.Update(5000, 5000, later);
  t.Update(6000, 6000, later + 100);
  t.Update(7000, 7000, later + 200);
  t.Reported(1, 6000, 7000, later + 250);
  EXPECT_TRUE(t.Snapshot().replicas[0].in_sync);
  EXPECT_EQ(t.confirm_offset(), 6000);
}

TEST(ReplicaTrackerTest, DegradeAcknowledgesWithWhoeverIsInSyncAndSaysSo) {
  ReplicaTracker t(Config(3, BelowMinInSyncPolicy::kDegrade), true, 0);
  int64_t now = 1'000;
  t.Connected(1, "s1", 1, true, now);
  t.Update(500, 500, now);
  t.Reported(1, 400, 500, now);
  EXPECT_TRUE(t.AcceptsWrites());
  auto snap = t.Snapshot();
  EXPECT_TRUE(snap.below_min);
  EXPECT_TRUE(snap.degraded);
  t.Reported(1, 500, 500, now + 1);
  EXPECT_EQ(t.Update(500, 500, now + 2), 500);
  t.Disconnected(1);
  EXPECT_EQ(t.Update(900, 800, now + 3), 800) << "nobody in sync: the master's durable end";
}

TEST(ReplicaTrackerTest, AnAsyncMasterIsUnboundedAndASlaveTooFarBehindIsNotInSync) {
  ReplicaTracker async(Config(2, BelowMinInSyncPolicy::kReject), /*sync=*/false, 0);
  EXPECT_EQ(async.Update(10, 10, 1), INT64_MAX);
  EXPECT_TRUE(async.AcceptsWrites());
  ReplicaTracker t(Config(2, BelowMinInSyncPolicy::kReject), true, 0);
  t.Connected(1, "s1", 1, true, 1);
  t.Update(0, 0, 1);
  t.Update(2'000'000, 2'000'000, 2);
  t.Reported(1, 0, 2'000'000, 3);  // caught up with the 0 sample, but 2 MB behind
  EXPECT_FALSE(t.Snapshot().replicas[0].in_sync);
}

}  // namespace
}  // namespace fmq::ha
