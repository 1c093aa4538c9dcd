#include "broker/model/delay.h"

#include <gtest/gtest.h>

namespace fmq::model {
namespace {

TEST(DelayLevelsTest, DefaultTableIsRocketMqs) {
  DelayLevels levels;
  ASSERT_EQ(levels.max_level(), 18);
  EXPECT_EQ(levels.DelayMs(1), 1000);
  EXPECT_EQ(levels.DelayMs(3), 10'000);
  EXPECT_EQ(levels.DelayMs(5), 60'000);
  EXPECT_EQ(levels.DelayMs(16), 30 * 60'000);
  EXPECT_EQ(levels.DelayMs(18), 2 * 3'600'000);
  EXPECT_EQ(levels.ToString(), kDefaultMessageDelayLevel);
}

TEST(DelayLevelsTest, ParsesEveryUnitAndClampsAboveTheLastLevel) {
  auto levels = DelayLevels::Parse("0s 2s 3m 1h 2d");
  ASSERT_TRUE(levels.ok()) << levels.status();
  EXPECT_EQ(levels->max_level(), 5);
  EXPECT_EQ(levels->DelayMs(1), 0);
  EXPECT_EQ(levels->DelayMs(2), 2000);
  EXPECT_EQ(levels->DelayMs(3), 180'000);
  EXPECT_EQ(levels->DelayMs(4), 3'600'000);
  EXPECT_EQ(levels->DelayMs(5), 2 * 86'400'000LL);
  EXPECT_EQ(levels->Clamp(5), 5);
  EXPECT_EQ(levels->Clamp(99), 5);
  EXPECT_EQ(levels->DeliverTimestamp(2, 1000), 3000);
  // A level the table lacks (it shrank since the message was stored): one second, as RocketMQ.
  EXPECT_EQ(levels->DeliverTimestamp(9, 1000), 2000);
}

TEST(DelayLevelsTest, RefusesMalformedTablesNamingTheEntry) {
  for (const char* bad :
       {"", " ", "1s  2s", "1s ", "1x", "s", "-1s", "1.5s", "9999999999999999999d", "1s,2s"}) {
    auto levels = DelayLevels::Parse(bad);
    ASSERT_FALSE(levels.ok()) << bad;
    EXPECT_NE(levels.status().message().find("messageDelayLevel"), std::string_view::npos) << bad;
  }
  EXPECT_NE(DelayLevels::Parse("1s 2q").status().message().find("level 2 '2q'"), std::string_view::npos);
}

TEST(DelayLevelsTest, DelayPropertyMustBeAnInteger) {
  EXPECT_EQ(ParseDelayLevelProperty("3").value(), 3);
  EXPECT_EQ(ParseDelayLevelProperty("-1").value(), -1);
  EXPECT_EQ(ParseDelayLevelProperty("0").value(), 0);
  for (const char* bad : {"", "x", "3 ", "1e3", "99999999999"})
    EXPECT_FALSE(ParseDelayLevelProperty(bad).ok()) << bad;
}

TEST(DelayOffsetTableTest, RoundTripsAndReadsFastjson) {
  const std::map<int32_t, int64_t> table = {{1, 12}, {3, 0}, {18, 7}};
  auto back = DecodeDelayOffsetTable(EncodeDelayOffsetTable(table));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, table);
  // What an Apache broker writes to delayOffset.json and answers GET_ALL_DELAY_OFFSET with.
  auto apache = DecodeDelayOffsetTable(R"({"offsetTable":{1:5,2:0,17:3}})");
  ASSERT_TRUE(apache.ok()) << apache.status();
  EXPECT_EQ(*apache, (std::map<int32_t, int64_t>{{1, 5}, {2, 0}, {17, 3}}));
  EXPECT_EQ(DecodeDelayOffsetTable(R"({"offsetTable":{}})").value().size(), 0u);
}

TEST(DelayOffsetTableTest, RefusesWhatIsNotATable) {
  for (const char* bad :
       {"", "[]", R"({"offsetTable":[]})", R"({"offsetTable":{"x":1}})", R"({"offsetTable":{"0":1}})",
        R"({"offsetTable":{"1":-1}})", R"({"offsetTable":{"1":"a"}})"}) {
    EXPECT_FALSE(DecodeDelayOffsetTable(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace fmq::model
