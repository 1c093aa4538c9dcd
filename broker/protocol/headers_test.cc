#include "broker/protocol/headers.h"

#include <gtest/gtest.h>

#include "broker/protocol/codes.h"

namespace fmq::protocol {
namespace {

TEST(HeadersTest, DecodesSendHeadersUnderV1AndV2Names) {
  RemotingCommand v2 = RemotingCommand::Request(request_code::kSendMessageV2, 1);
  // As a Java 4.9 producer sends them (values as text; C++ numbers arrive converted to text by the JSON
  // codec).
  v2.ext_fields = {{"a", "pg"},
                   {"b", "TopicTest"},
                   {"c", "TBW102"},
                   {"d", "4"},
                   {"e", "3"},
                   {"f", "0"},
                   {"g", "1700000000000"},
                   {"h", "0"},
                   {"i",
                    "TAGS\x01"
                    "A"},
                   {"j", "0"},
                   {"k", "false"},
                   {"m", "false"},
                   {"n", "broker-a"}};
  auto h = SendMessageRequestHeader::FromCommand(v2);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->producer_group, "pg");
  EXPECT_EQ(h->topic, "TopicTest");
  EXPECT_EQ(h->default_topic_queue_nums, 4);
  EXPECT_EQ(h->queue_id, 3);
  EXPECT_EQ(h->born_timestamp, 1700000000000);
  EXPECT_EQ(h->properties,
            "TAGS\x01"
            "A");
  EXPECT_EQ(h->batch, false);
  EXPECT_FALSE(h->max_reconsume_times.has_value());

  RemotingCommand v1 = RemotingCommand::Request(request_code::kSendMessage, 2);
  SendMessageRequestHeader::V1().Encode(*h, &v1.ext_fields);
  EXPECT_EQ(v1.ext_fields.at("producerGroup"), "pg");
  EXPECT_EQ(v1.ext_fields.at("bornTimestamp"), "1700000000000");
  EXPECT_EQ(v1.ext_fields.count("maxReconsumeTimes"), 0u) << "empty optionals are omitted";
  auto back = SendMessageRequestHeader::FromCommand(v1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->topic, "TopicTest");
  EXPECT_EQ(back->queue_id, 3);
}

TEST(HeadersTest, AMissingRequiredFieldOrABadNumberIsAnErrorNamingIt) {
  RemotingCommand cmd = RemotingCommand::Request(request_code::kSendMessageV2, 1);
  cmd.ext_fields = {{"a", "pg"}};
  EXPECT_EQ(SendMessageRequestHeader::FromCommand(cmd).status().message(), "the custom field <b> is null");
  PullMessageRequestHeader p;
  std::map<std::string, std::string> ext = {{"consumerGroup", "g"}, {"topic", "t"}, {"queueId", "x1"}};
  Status s = PullMessageRequestHeader::Spec().Decode(ext, &p);
  EXPECT_EQ(s.message(), "header field queueId: 'x1' is not a valid value");
}

TEST(HeadersTest, ResponseHeadersAlwaysCarryEveryRequiredField) {
  PullMessageResponseHeader r{0, 42, 0, 42};
  std::map<std::string, std::string> ext;
  PullMessageResponseHeader::Spec().Encode(r, &ext);
  EXPECT_EQ(ext, (std::map<std::string, std::string>{{"suggestWhichBrokerId", "0"},
                                                     {"nextBeginOffset", "42"},
                                                     {"minOffset", "0"},
                                                     {"maxOffset", "42"}}));
}

}  // namespace
}  // namespace fmq::protocol
