#include "operator/model/group_roll.h"

#include <gtest/gtest.h>

namespace fmq::op::model {
namespace {

using Kind = RollDecision::Kind;

RollMember M(const std::string& pod, bool updated, bool ready = true) {
  return {pod, true, ready, false, updated};
}

const std::vector<std::string> kAllInSync = {"g-0", "g-1", "g-2"};
constexpr std::chrono::milliseconds kSettled{60'000};   // every name server Ready for a minute
constexpr std::chrono::milliseconds kServing{600'000};  // the master has served for ten minutes

TEST(GroupRollTest, SlavesRestartOneAtATimeThenASwitchoverThenTheOldMaster) {
  // Nothing updated yet: the highest-ordinal slave goes first.
  auto d = DecideGroupRoll({M("g-0", false), M("g-1", false), M("g-2", false)}, "g-0", kAllInSync, kSettled,
                           kServing);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.pod, "g-2");
  EXPECT_EQ(d.message, "restarting the slave g-2 (every member in sync with the master g-0)");

  // g-2 came back updated and in sync: g-1 next.
  d = DecideGroupRoll({M("g-0", false), M("g-1", false), M("g-2", true)}, "g-0", kAllInSync, kSettled,
                      kServing);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.pod, "g-1");

  // Only the master is left: hand over to an updated slave first (the lowest ordinal).
  d = DecideGroupRoll({M("g-0", false), M("g-1", true), M("g-2", true)}, "g-0", kAllInSync, kSettled,
                      kServing);
  EXPECT_EQ(d.kind, Kind::kSwitchover);
  EXPECT_EQ(d.pod, "g-1");
  EXPECT_EQ(d.message,
            "switching the master role from g-0 to the updated in-sync slave g-1 before g-0 restarts");

  // After the switchover the old master is a slave like the others.
  d = DecideGroupRoll({M("g-0", false), M("g-1", true), M("g-2", true)}, "g-1", kAllInSync, kSettled,
                      kServing);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.pod, "g-0");

  d = DecideGroupRoll({M("g-0", true), M("g-1", true), M("g-2", true)}, "g-1", kAllInSync, kSettled,
                      kServing);
  EXPECT_EQ(d.kind, Kind::kDone);
}

TEST(GroupRollTest, NothingMovesWhileAMemberIsAwayOutOfSyncOrWithoutAMaster) {
  auto d = DecideGroupRoll({M("g-0", false), M("g-1", false), M("g-2", true, false)}, "g-0", kAllInSync,
                           kSettled, kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message, "waiting for g-2 to be Ready");

  d = DecideGroupRoll({M("g-0", false), M("g-1", false), M("g-2", true)}, "g-0", {"g-0", "g-1"}, kSettled,
                      kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message, "waiting for g-2 to be in sync with the master g-0");

  d = DecideGroupRoll({M("g-0", false), M("g-1", false), M("g-2", false)}, "", {}, kSettled, kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message, "no master serves the group: the rolling update waits for it");

  RollMember gone{"g-1", false, false, false, false};
  d = DecideGroupRoll({M("g-0", false), gone, M("g-2", true)}, "g-0", kAllInSync, kSettled, kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message, "waiting for g-1 to be created");

  RollMember deleting = M("g-2", false);
  deleting.deleting = true;
  d = DecideGroupRoll({M("g-0", false), M("g-1", false), deleting}, "g-0", kAllInSync, kSettled, kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message, "waiting for g-2 to be deleted");
}

TEST(GroupRollTest, TwoReplicasRollTheSlaveThenSwitchOver) {
  auto d = DecideGroupRoll({M("g-0", false), M("g-1", false)}, "g-1", {"g-0", "g-1"}, kSettled, kServing);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.pod, "g-0") << "the master may be any pod; its slave goes first";
  d = DecideGroupRoll({M("g-0", true), M("g-1", false)}, "g-1", {"g-0", "g-1"}, kSettled, kServing);
  EXPECT_EQ(d.kind, Kind::kSwitchover);
  EXPECT_EQ(d.pod, "g-0");
}

TEST(GroupRollTest, TheSwitchoverWaitsUntilTheNameServersHaveBeenReadyLongEnoughForClientsToReachThem) {
  const std::vector<RollMember> only_master_left = {M("g-0", false), M("g-1", true), M("g-2", true)};
  auto d = DecideGroupRoll(only_master_left, "g-0", kAllInSync, std::chrono::milliseconds(-1), kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message, "waiting for every name server to be Ready before the switchover");
  d = DecideGroupRoll(only_master_left, "g-0", kAllInSync, std::chrono::milliseconds(12'000), kServing);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message,
            "waiting until every name server has been Ready for 30 s before the switchover (clients cache a "
            "name server's address that long)");
  d = DecideGroupRoll(only_master_left, "g-0", kAllInSync, kNameServerSettle, kServing);
  EXPECT_EQ(d.kind, Kind::kSwitchover);
  // Slaves restart meanwhile: clients do not need the name servers to keep writing to the master.
  d = DecideGroupRoll({M("g-0", false), M("g-1", false), M("g-2", false)}, "g-0", kAllInSync,
                      std::chrono::milliseconds(-1), kServing);
  EXPECT_EQ(d.kind, Kind::kRestart);
}

TEST(GroupRollTest, TheOldMasterRestartsOnlyOnceProducersCanHaveLearnedTheNewMasterFromTheirRouteRefresh) {
  // Just after the switchover producers still send to g-0's address: once its pod is gone, every such send
  // would wait out the client's timeout.
  const std::vector<RollMember> after_switchover = {M("g-0", false), M("g-1", true), M("g-2", true)};
  auto d = DecideGroupRoll(after_switchover, "g-1", kAllInSync, kSettled, std::chrono::milliseconds(2'000));
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.message,
            "waiting until the master g-1 has served for 35 s before restarting g-0 (producers send to the "
            "previous master until their next route refresh)");
  d = DecideGroupRoll(after_switchover, "g-1", kAllInSync, kSettled, kRouteRefresh);
  EXPECT_EQ(d.kind, Kind::kRestart);
  EXPECT_EQ(d.pod, "g-0");
  // Unknown (a record written before masterSince existed): no wait.
  d = DecideGroupRoll(after_switchover, "g-1", kAllInSync, kSettled, std::chrono::milliseconds(-1));
  EXPECT_EQ(d.kind, Kind::kRestart);
}

}  // namespace
}  // namespace fmq::op::model
