#include "broker/model/trace.h"

#include <gtest/gtest.h>

namespace fmq::model {
namespace {

std::string Record(std::initializer_list<std::string> fields) {
  std::string out;
  for (const auto& f : fields) {
    if (!out.empty()) out += '\x01';
    out += f;
  }
  return out + '\x02';
}

// The layout TraceDataEncoder.encoderFromContextBean (rocketmq-client 4.9.7) writes: one trace message body
// holds records of several messages, each ending with 0x02.
TEST(TraceTest, DecodesTheRecordsTheJavaClientWrites) {
  const std::string body =
      Record({"Pub", "1700000000000", "DefaultRegion", "pg", "T", "ID1", "TagA", "k1", "127.0.0.1:10911", "5",
              "3", "0", "OFF1", "true"}) +
      Record({"SubBefore", "1700000000100", "DefaultRegion", "cg", "req-1", "ID1", "0", "k1"}) +
      Record({"SubAfter", "req-1", "ID1", "7", "true", "k1", "0", "1700000000107", "cg"}) +
      Record({"EndTransaction", "1700000000200", "DefaultRegion", "pg", "T", "ID2", "", "", "127.0.0.1:10911",
              "1", "tx-9", "COMMIT_MESSAGE", "false"});
  auto r = DecodeTraceBody(body);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].type, "Pub");
  EXPECT_EQ(r[0].timestamp, 1700000000000);
  EXPECT_EQ(r[0].group, "pg");
  EXPECT_EQ(r[0].topic, "T");
  EXPECT_EQ(r[0].msg_id, "ID1");
  EXPECT_EQ(r[0].offset_msg_id, "OFF1");
  EXPECT_EQ(r[0].store_host, "127.0.0.1:10911");
  EXPECT_EQ(r[0].cost_ms, 3);
  EXPECT_EQ(r[0].body_length, 5);
  EXPECT_TRUE(r[0].success);
  EXPECT_EQ(r[1].type, "SubBefore");
  EXPECT_EQ(r[1].request_id, "req-1");
  EXPECT_EQ(r[1].group, "cg");
  EXPECT_EQ(r[2].type, "SubAfter");
  EXPECT_EQ(r[2].cost_ms, 7);
  EXPECT_EQ(r[2].timestamp, 1700000000107);
  EXPECT_EQ(r[2].group, "cg");
  EXPECT_EQ(r[3].transaction_id, "tx-9");
  EXPECT_EQ(r[3].transaction_state, "COMMIT_MESSAGE");
}

TEST(TraceTest, MalformedRecordsAreSkipped) {
  EXPECT_TRUE(DecodeTraceBody("").empty());
  EXPECT_TRUE(DecodeTraceBody("garbage").empty());
  EXPECT_TRUE(DecodeTraceBody(Record({"Pub", "x", "r", "g"})).empty());
  EXPECT_TRUE(DecodeTraceBody(Record({"SubAfter", "req", "ID", "notanumber", "true", "k"})).empty());
  auto ok = DecodeTraceBody(Record({"Bogus", "1"}) + Record({"SubAfter", "req", "ID", "1", "false", "k"}));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_FALSE(ok[0].success);
  EXPECT_EQ(ok[0].timestamp, 0);  // a cloud-channel SubAfter has no time
}

}  // namespace
}  // namespace fmq::model
