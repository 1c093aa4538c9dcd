#include "broker/base/strings.h"

#include <gtest/gtest.h>

namespace fmq {
namespace {

TEST(StringsTest, ValidUtf8AcceptsWellFormedTextAndPointsAtTheFirstBadByte) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x9a\xa2"));  // é, 中, 🚢
  size_t at = 0;
  EXPECT_FALSE(IsValidUtf8("ok\xfc", &at));
  EXPECT_EQ(at, 2u);
  EXPECT_FALSE(IsValidUtf8("\xc3", &at)) << "truncated";
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf")) << "overlong";
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80")) << "surrogate";
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80")) << "above U+10FFFF";
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8")) << "truncated three-byte form";
}

TEST(StringsTest, JoinStrings) { EXPECT_EQ(JoinStrings({"a", "b", "c"}, ", "), "a, b, c"); }

}  // namespace
}  // namespace fmq
