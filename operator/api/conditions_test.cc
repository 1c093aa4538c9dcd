#include "operator/api/conditions.h"

#include <gtest/gtest.h>

namespace fmq::op::api {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point At(int64_t secs) { return system_clock::time_point(seconds(secs)); }

TEST(ConditionsTest, FormatsAndParsesRfc3339InUtc) {
  EXPECT_EQ(FormatTime(At(1795335600)), "2026-11-22T08:20:00Z");
  auto t = ParseTime("2026-11-22T08:20:00Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, At(1795335600));
  auto frac = ParseTime("2026-11-22T08:20:00.123456Z");
  ASSERT_TRUE(frac.ok());
  EXPECT_EQ(*frac, At(1795335600));
  auto offset = ParseTime("2026-11-22T09:20:00+01:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, At(1795335600));
  EXPECT_FALSE(ParseTime("2026-11-22 08:20:00").ok());
  EXPECT_FALSE(ParseTime("2026-11-22T08:20:00").ok());
  EXPECT_FALSE(ParseTime("2026-13-22T08:20:00Z").ok());
  EXPECT_FALSE(ParseTime("2026-11-22T08:20:00Zjunk").ok());
}

TEST(ConditionsTest, TransitionTimeMovesOnlyWhenStatusChanges) {
  std::vector<Condition> cs;
  EXPECT_TRUE(SetCondition(&cs, {"Ready", "False", "Reconciling", "starting", "", 1}, At(100)));
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].last_transition_time, FormatTime(At(100)));

  // Same status, new reason and generation: changed, but the transition time stays.
  EXPECT_TRUE(SetCondition(&cs, {"Ready", "False", "PodsNotReady", "0/1 ready", "", 2}, At(200)));
  EXPECT_EQ(cs[0].last_transition_time, FormatTime(At(100)));
  EXPECT_EQ(cs[0].reason, "PodsNotReady");
  EXPECT_EQ(cs[0].observed_generation, 2);

  // Identical: no change reported (so the status write can be skipped).
  EXPECT_FALSE(SetCondition(&cs, {"Ready", "False", "PodsNotReady", "0/1 ready", "", 2}, At(300)));

  EXPECT_TRUE(SetCondition(&cs, {"Ready", "True", "Ready", "", "", 2}, At(400)));
  EXPECT_EQ(cs[0].last_transition_time, FormatTime(At(400)));
  EXPECT_TRUE(IsConditionTrue(cs, "Ready"));

  EXPECT_TRUE(SetCondition(&cs, {"Degraded", "False", "Healthy", "", "", 2}, At(500)));
  EXPECT_EQ(cs.size(), 2u);
  EXPECT_FALSE(IsConditionTrue(cs, "Degraded"));
  EXPECT_EQ(FindCondition(cs, "Missing"), nullptr);
}

TEST(ConditionsTest, JsonRoundTripKeepsEveryField) {
  std::vector<Condition> cs = {{"Ready", "True", "Synced", "ok", "2026-11-22T08:20:00Z", 7},
                               {"Progressing", "False", "Complete", "", "2026-11-22T08:21:00Z", 7}};
  nlohmann::json j = ConditionsToJson(cs);
  EXPECT_EQ(j[0]["observedGeneration"], 7);
  EXPECT_EQ(j[1]["lastTransitionTime"], "2026-11-22T08:21:00Z");
  EXPECT_EQ(ConditionsFromJson(j), cs);
}

TEST(ConditionsTest, ReadsHandWrittenConditionsWithoutCrashing) {
  auto j = nlohmann::json::parse(
      R"([{"type":"Ready"},{"status":"True"},7,{"type":"X","observedGeneration":"a"}])");
  auto cs = ConditionsFromJson(j);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].status, "Unknown");
  EXPECT_EQ(cs[1].observed_generation, 0);
  EXPECT_TRUE(ConditionsFromJson(nlohmann::json("x")).empty());
}

}  // namespace
}  // namespace fmq::op::api
