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

TEST(NamesTest, SystemTopicsAndGroupsAreRocketMqsOwn) {
  for (const char* t : {"TBW102", "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRACE_TOPIC", "rmq_sys_wheel_timer",
                        "OFFSET_MOVED_EVENT", "SELF_TEST_TOPIC", "C1", "broker-a", "C1_REPLY_TOPIC"}) {
    EXPECT_TRUE(IsSystemTopic(t, "C1", "broker-a")) << t;
  }
  for (const char* t : {"orders", "C2", "broker-b", "C1_REPLY", "X_REPLY_TOPIC", "%RETRY%g"}) {
    EXPECT_FALSE(IsSystemTopic(t, "C1", "broker-a")) << t;
  }
  EXPECT_TRUE(IsSendForbiddenTopic("RMQ_SYS_TRANS_HALF_TOPIC"));
  EXPECT_FALSE(IsSendForbiddenTopic("TBW102"));
  EXPECT_TRUE(IsSystemGroup("CID_RMQ_SYS_TRANS"));
  EXPECT_TRUE(IsSystemGroup("TOOLS_CONSUMER"));
  EXPECT_FALSE(IsSystemGroup("billing"));
}

}  // namespace
}  // namespace fmq::model
