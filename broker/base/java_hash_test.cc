#include "broker/base/java_hash.h"

#include <gtest/gtest.h>

namespace fmq {
namespace {

TEST(JavaHashTest, MatchesStringHashCodeTestValues) {
  // Values from the protocol reference, section 6.5 and 6.7.
  EXPECT_EQ(JavaStringHashCode(""), 0);
  EXPECT_EQ(JavaStringHashCode("A"), 65);
  EXPECT_EQ(JavaStringHashCode("TagA"), 2598919);
  EXPECT_EQ(JavaStringHashCode("TagB"), 2598920);
  EXPECT_EQ(JavaStringHashCode("\xe4\xb8\xad\xe6\x96\x87"), 646394);  // "中文"
  EXPECT_EQ(JavaStringHashCode("T#KEY1"), -1855491935);
}

TEST(JavaHashTest, SupplementaryCharactersHashAsSurrogatePairs) {
  // U+1F600 is the surrogate pair D83D DE00 in UTF-16: 31*0xD83D + 0xDE00.
  EXPECT_EQ(JavaStringHashCode("\xf0\x9f\x98\x80"), 31 * 0xD83D + 0xDE00);
}

TEST(JavaHashTest, InvalidUtf8HashesAsReplacementCharacter) {
  EXPECT_EQ(JavaStringHashCode("\xff"), 0xFFFD);
  EXPECT_EQ(JavaStringHashCode("a\xc3"), 31 * 'a' + 0xFFFD);
}

}  // namespace
}  // namespace fmq
