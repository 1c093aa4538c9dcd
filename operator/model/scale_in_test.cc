#include "operator/model/scale_in.h"

#include <gtest/gtest.h>

#include "broker/base/time_codec.h"

namespace fmq::op::model {
namespace {

using Action = ScaleInDecision::Action;

constexpr int64_t kStart = 1'800'000'000'000;  // when the group started leaving

LeavingMember Member(const std::string& pod, const std::string& address, bool answered, int32_t permission) {
  LeavingMember m;
  m.pod = pod;
  m.address = address;
  m.answered = answered;
  m.permission = permission;
  return m;
}

LeavingMember Master(int64_t backlog, int32_t permission = kReadOnlyPermission) {
  LeavingMember m = Member("c-broker-2-0", "10.0.0.2:10911", true, permission);
  m.master = true;
  m.backlog = backlog;
  m.backlog_topics = backlog > 0 ? "T:" + std::to_string(backlog) : "";
  return m;
}

LeavingGroup Group(std::vector<LeavingMember> members, bool marked = true) {
  LeavingGroup g;
  g.index = 2;
  g.name = "c-broker-2";
  g.since = marked ? FormatRfc3339(kStart) : "";
  g.members = std::move(members);
  return g;
}

TEST(ScaleInTest, AGroupIsMarkedThenMadeReadOnlyOnEveryMemberThatStillTakesWrites) {
  ScaleInDecision d = DecideScaleIn(Group({Master(0, 6)}, /*marked=*/false), {}, kStart);
  EXPECT_EQ(d.action, Action::kMark);
  EXPECT_EQ(d.phase, "ReadOnly");

  LeavingMember slave = Member("c-broker-2-1", "10.0.0.3:10911", true, 6);
  LeavingMember down = Member("c-broker-2-2", "10.0.0.4:10911", false, 0);  // its ConfigMap covers a restart
  d = DecideScaleIn(Group({Master(0, 6), slave, down}), {}, kStart + 1000);
  EXPECT_EQ(d.action, Action::kMakeReadOnly);
  EXPECT_EQ(d.addresses, (std::vector<std::string>{"10.0.0.2:10911", "10.0.0.3:10911"}));
}

TEST(ScaleInTest, ABacklogKeepsTheGroupUntilConsumersDrainedItAndNothingIsInFlight) {
  ScaleInDecision d = DecideScaleIn(Group({Master(1234)}), {}, kStart + 3'600'000);
  EXPECT_EQ(d.action, Action::kWait);
  EXPECT_EQ(d.phase, "Draining");
  EXPECT_EQ(d.backlog, 1234);
  EXPECT_NE(d.message.find("1234 messages on c-broker-2 not consumed yet (T:1234)"), std::string::npos)
      << d.message;
  EXPECT_NE(d.message.find("ferrymq.io/force-scale-in"), std::string::npos);

  // Drained, but just turned read-only: a send that passed the permission check may still be stored.
  d = DecideScaleIn(Group({Master(0)}), {}, kStart + kScaleInSettle.count() - 1);
  EXPECT_EQ(d.action, Action::kWait);
  EXPECT_NE(d.message.find("settle"), std::string::npos);
  LeavingMember dispatching = Master(0);
  dispatching.dispatch_behind = 300;
  EXPECT_EQ(DecideScaleIn(Group({dispatching}), {}, kStart + 60'000).action, Action::kWait);

  d = DecideScaleIn(Group({Master(0)}), {}, kStart + kScaleInSettle.count());
  EXPECT_EQ(d.action, Action::kRemove);
  EXPECT_FALSE(d.discards);
  EXPECT_EQ(d.phase, "Removing");
}

TEST(ScaleInTest, AnUnknownBacklogIsNeverTakenAsZero) {
  LeavingMember slave = Member("c-broker-2-1", "10.0.0.3:10911", true, kReadOnlyPermission);
  slave.backlog = 0;  // a slave's count is not the group's
  LeavingMember silent_master = Master(0);
  silent_master.answered = false;
  ScaleInDecision d = DecideScaleIn(Group({silent_master, slave}), {}, kStart + 3'600'000);
  EXPECT_EQ(d.action, Action::kWait);
  EXPECT_EQ(d.backlog, -1);
  EXPECT_NE(d.message.find("backlog is unknown"), std::string::npos);
}

TEST(ScaleInTest, ForceAndExpiryRemoveWithABacklogAndSayWhatIsDiscarded) {
  ScaleInDecision d = DecideScaleIn(Group({Master(7)}), {.forced = true}, kStart + 1000);
  EXPECT_EQ(d.action, Action::kRemove);
  EXPECT_TRUE(d.discards);
  EXPECT_NE(d.message.find("7 messages not consumed are discarded"), std::string::npos) << d.message;

  ScaleInPolicy expire{.policy = "Expire", .file_reserved_ms = 3'600'000};
  EXPECT_EQ(DecideScaleIn(Group({Master(7)}), expire, kStart + 3'599'999).action, Action::kWait);
  d = DecideScaleIn(Group({Master(7)}), expire, kStart + 3'600'000);
  EXPECT_EQ(d.action, Action::kRemove);
  EXPECT_TRUE(d.discards);
  // Drain never expires.
  EXPECT_EQ(DecideScaleIn(Group({Master(7)}), {.file_reserved_ms = 1}, kStart + 3'600'000).action,
            Action::kWait);
}

TEST(ScaleInTest, GroupsAreRemovedHighestFirst) {
  LeavingGroup g = Group({Master(0)});
  g.higher_group_present = true;
  ScaleInDecision d = DecideScaleIn(g, {}, kStart + 60'000);
  EXPECT_EQ(d.action, Action::kWait);
  EXPECT_EQ(d.phase, "WaitingForHigherGroup");
  EXPECT_EQ(DecideScaleIn(g, {.forced = true}, kStart + 60'000).action, Action::kWait);
}

TEST(ScaleInTest, ACalledOffScaleInMakesTheMembersThatAnswerWritableAgain) {
  LeavingMember down = Member("c-broker-2-2", "10.0.0.4:10911", false, 0);
  EXPECT_EQ(MembersToMakeWritable({Master(5), Member("c-broker-2-1", "10.0.0.3:10911", true, 6), down}),
            std::vector<std::string>{"10.0.0.2:10911"});
  EXPECT_TRUE(MembersToMakeWritable({Master(5, 6), down}).empty());
}

TEST(ScaleInTest, GroupIndexAndRetentionAreReadStrictly) {
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker-12"), 12);
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker-0"), 0);
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker-01"), std::nullopt);
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker-1-ha"), std::nullopt);
  EXPECT_EQ(BrokerGroupIndex("c", "c-namesrv"), std::nullopt);
  EXPECT_EQ(BrokerGroupIndex("c", "cc-broker-1"), std::nullopt);
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker-"), std::nullopt);
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker--0"), std::nullopt);  // found by operator_json_fuzz
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker--3"), std::nullopt);
  EXPECT_EQ(BrokerGroupIndex("c", "c-broker-+3"), std::nullopt);
  EXPECT_EQ(FileReservedMillis("48"), 48LL * 3600 * 1000);
  EXPECT_EQ(FileReservedMillis(""), 72LL * 3600 * 1000);
  EXPECT_EQ(FileReservedMillis("2d"), 72LL * 3600 * 1000);
  EXPECT_EQ(FileReservedMillis("9223372036854775807"), 1'000'000LL * 3600 * 1000);
}

}  // namespace
}  // namespace fmq::op::model
