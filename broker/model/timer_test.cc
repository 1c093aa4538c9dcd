#include "broker/model/timer.h"

#include <gtest/gtest.h>

#include "broker/model/delay.h"
#include "broker/model/message.h"

namespace fmq::model {
namespace {

std::string Props(std::map<std::string, std::string> m) { return EncodeProperties(m); }

TEST(TimerTest, DeliverTimeComesFromDelaySecThenDelayMsThenDeliverMs) {
  EXPECT_FALSE(TimerDeliverMs(Props({{"TAGS", "a"}}), 1000)->has_value());
  EXPECT_EQ(**TimerDeliverMs(Props({{"TIMER_DELIVER_MS", "5000"}}), 1000), 5000);
  EXPECT_EQ(**TimerDeliverMs(Props({{"TIMER_DELAY_MS", "250"}}), 1000), 1250);
  EXPECT_EQ(**TimerDeliverMs(Props({{"TIMER_DELAY_SEC", "3"}}), 1000), 4000);
  EXPECT_EQ(**TimerDeliverMs(Props({{"TIMER_DELAY_SEC", "3"}, {"TIMER_DELIVER_MS", "9"}}), 1000), 4000);
  EXPECT_EQ(**TimerDeliverMs(Props({{"TIMER_DELIVER_MS", "-5"}}), 1000), -5);  // in the past: at once
}

TEST(TimerTest, MalformedTimesAreRefusedNamingTheProperty) {
  auto bad = TimerDeliverMs(Props({{"TIMER_DELIVER_MS", "soon"}}), 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("TIMER_DELIVER_MS"), std::string_view::npos);
  EXPECT_FALSE(TimerDeliverMs(Props({{"TIMER_DELAY_SEC", "99999999999999999"}}), 0).ok());
  EXPECT_FALSE(TimerDeliverMs(Props({{"TIMER_DELAY_MS", "1.5"}}), 0).ok());
}

TEST(TimerTest, SlotTimesRoundUpSoNothingIsEarly) {
  EXPECT_EQ(TimerSlotMs(5000, 1000), 5000);
  EXPECT_EQ(TimerSlotMs(5001, 1000), 6000);
  EXPECT_EQ(TimerSlotMs(5999, 1000), 6000);
  EXPECT_EQ(TimerSlotMs(0, 1000), 0);
  EXPECT_EQ(TimerSlotMs(150, 100), 200);
}

TEST(TimerTest, TheTimerTopicsQueueEntryHoldsTheSlotTime) {
  DelayLevels levels;
  EXPECT_EQ(ConsumeQueueTagsCode(kTimerTopic, Props({{"TIMER_OUT_MS", "123000"}}), 5, levels), 123000);
  EXPECT_EQ(ConsumeQueueTagsCode(kTimerTopic, Props({{"TIMER_OUT_MS", "x"}}), 5, levels), 5);
  EXPECT_EQ(ConsumeQueueTagsCode(kTimerTopic, Props({}), 7, levels), 7);
}

}  // namespace
}  // namespace fmq::model
