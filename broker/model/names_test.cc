#include "broker/model/names.h"

#include <gtest/gtest.h>

namespace fmq::model {
namespace {

TEST(NamesTest, AcceptsRocketMqTopicCharacters) {
  EXPECT_TRUE(ValidateTopicName("TopicTest").ok());
  EXPECT_TRUE(ValidateTopicName("%RETRY%group_a-1").ok());
  EXPECT_TRUE(ValidateTopicName(std::string(127, 'a')).ok());
}

TEST(NamesTest, RejectsEmptyLongAndBadCharactersWithReasons) {
  EXPECT_EQ(ValidateTopicName("").message(), "topic name is empty");
  EXPECT_NE(ValidateTopicName(std::string(128, 'a')).message().find("limit is 127"), std::string_view::npos);
  Status s = ValidateTopicName("a b");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("' ' at position 1"), std::string_view::npos) << s;
  EXPECT_FALSE(ValidateTopicName("t\xc3\xa9").ok());
  EXPECT_FALSE(ValidateGroupName("g/1").ok());
}

}  // namespace
}  // namespace fmq::model
