#include "broker/base/time_codec.h"

#include <gtest/gtest.h>

namespace fmq {
namespace {

TEST(TimeCodecTest, FormatsUtcAtSecondAndMicrosecondPrecision) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1714557600123), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59Z");  // floors toward the past
  EXPECT_EQ(FormatRfc3339Micros(1714557600123456), "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(FormatRfc3339Micros(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeCodecTest, ParsesFractionsOffsetsAndLeapDays) {
  EXPECT_EQ(*ParseRfc3339Micros("2024-05-01T10:00:00.123456Z"), 1714557600123456);
  EXPECT_EQ(*ParseRfc3339Micros("2024-05-01T10:00:00Z"), 1714557600000000);
  EXPECT_EQ(*ParseRfc3339Micros("2024-05-01t10:00:00z"), 1714557600000000);
  EXPECT_EQ(*ParseRfc3339Micros("2024-05-01T12:00:00.5+02:00"), 1714557600500000);
  EXPECT_EQ(*ParseRfc3339Micros("2024-05-01T08:30:00-01:30"), 1714557600000000);
  EXPECT_EQ(*ParseRfc3339Micros("2024-05-01T10:00:00.1234567891Z"), 1714557600123456);  // past 6 ignored
  EXPECT_EQ(*ParseRfc3339Micros("2024-02-29T00:00:00Z"), 1709164800000000);
  EXPECT_EQ(*ParseRfc3339Micros(FormatRfc3339Micros(1700000000654321)), 1700000000654321);
}

TEST(TimeCodecTest, RefusesAnythingElseNamingTheText) {
  for (const char* bad : {"", "2024-05-01 10:00:00Z", "2024-05-01T10:00:00", "2024-13-01T10:00:00Z",
                          "2024-05-01T24:00:00Z", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00Zjunk",
                          "2024-05-01T10:00:00+0200", "yesterday", "1714557600000"}) {
    auto r = ParseRfc3339Micros(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), std::string("not an RFC 3339 time: '") + bad + "'");
  }
}

}  // namespace
TEST(TimeCodecTest, DurationsInMillisecondsSecondsMinutesAndHours) {
  EXPECT_EQ(*ParseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseDuration("15s"), std::chrono::seconds(15));
  EXPECT_EQ(*ParseDuration("15"), std::chrono::seconds(15));
  EXPECT_EQ(*ParseDuration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::hours(1));
  for (const char* bad : {"", "s", "-1s", "1d", "1.5s", "10 s"}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find("not a duration"), std::string_view::npos) << d.status();
  }
}

}  // namespace fmq
