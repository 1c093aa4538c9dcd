#include "broker/ha/ha_protocol.h"

#include <gtest/gtest.h>

#include "broker/base/coding.h"

namespace fmq::ha {
namespace {

TEST(HaProtocolTest, ClassicReportAndFrameAreRocketMqBytes) {
  uint8_t report[kReportSize];
  EncodeReport(0x0102030405060708, report);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(report), 8),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  uint8_t header[kClassicHeaderSize];
  EncodeClassicHeader(1073741824, 32768, header);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(header), 12),
            std::string("\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00\x80\x00", 12));
  auto h = DecodeFrameHeader(header, /*ferry=*/false, 1 << 20);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->offset, 1073741824);
  EXPECT_EQ(h->size, 32768);
}

TEST(HaProtocolTest, FramesOutsideTheLimitsAreRefused) {
  uint8_t header[kFerryHeaderSize];
  EncodeFerryHeader(100, 1 << 21, 50, header);
  EXPECT_FALSE(DecodeFrameHeader(header, true, 1 << 20).ok());
  EncodeFerryHeader(-5, 10, 50, header);
  EXPECT_FALSE(DecodeFrameHeader(header, true, 1 << 20).ok());
  EncodeFerryHeader(5, 10, -1, header);
  EXPECT_FALSE(DecodeFrameHeader(header, true, 1 << 20).ok());
  EncodeFerryHeader(5, 10, 7, header);
  auto ok = DecodeFrameHeader(header, true, 1 << 20);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->confirm, 7);
}

TEST(HaProtocolTest, HellosRoundTripAndStartWithTheMagic) {
  SlaveHello s;
  s.cluster = "C";
  s.broker_name = "broker-a";
  s.broker_id = 2;
  s.address = "10.0.0.3:10911";
  s.epochs = {{Epoch(1), PhysicalOffset(0)}, {Epoch(4), PhysicalOffset(8192)}};
  s.min_offset = 0;
  s.max_offset = 9000;
  s.known_epoch = 4;
  EXPECT_LT(kFerryHelloMagic, 0) << "never an offset";
  const std::string greeting = EncodeGreeting();
  EXPECT_EQ(DecodeI64(reinterpret_cast<const uint8_t*>(greeting.data())), kFerryHelloMagic);
  EXPECT_EQ(greeting.substr(12), R"({"ferrymq":1})");
  const std::string wire = EncodeHelloRequest(s);
  const int32_t len = DecodeI32(reinterpret_cast<const uint8_t*>(wire.data()));
  ASSERT_EQ(static_cast<size_t>(len), wire.size() - 4);
  auto back = DecodeSlaveHello(std::string_view(wire).substr(4));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->broker_name, "broker-a");
  EXPECT_EQ(back->epochs, s.epochs);
  EXPECT_EQ(back->known_epoch, 4);

  MasterHello m;
  m.ok = true;
  m.epoch = 4;
  m.epochs = s.epochs;
  m.max_offset = 9500;
  m.confirm_offset = 9400;
  m.role = "SYNC_MASTER";
  m.min_in_sync_replicas = 2;
  auto mb = DecodeMasterHello(EncodeMasterHello(m));
  ASSERT_TRUE(mb.ok()) << mb.status();
  EXPECT_TRUE(mb->ok);
  EXPECT_EQ(mb->confirm_offset, 9400);
  EXPECT_EQ(mb->role, "SYNC_MASTER");
}

TEST(HaProtocolTest, MalformedHellosAreErrorsNamingTheField) {
  for (
      std::string_view bad :
      {"", "[]", "{", "null", R"({"version":1})",
       R"({"version":1,"cluster":"c","brokerName":"b","brokerId":1,"epochs":[{"epoch":0,"startOffset":0}],"minOffset":0,"maxOffset":0,"knownEpoch":0})",
       R"({"version":1,"cluster":"c","brokerName":"b","brokerId":1,"epochs":[],"minOffset":9,"maxOffset":1,"knownEpoch":0})",
       R"({"version":1.5,"cluster":"c","brokerName":"b","brokerId":1,"epochs":[],"minOffset":0,"maxOffset":1,"knownEpoch":0})",
       R"({"version":1,"cluster":7,"brokerName":"b","brokerId":1,"epochs":[],"minOffset":0,"maxOffset":1,"knownEpoch":0})"}) {
    auto r = DecodeSlaveHello(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = DecodeSlaveHello(R"({"version":1,"cluster":7})");
  EXPECT_NE(r.status().message().find("cluster"), std::string_view::npos) << r.status();
  EXPECT_FALSE(DecodeMasterHello(R"({"ok":"yes"})").ok());
}

}  // namespace
}  // namespace fmq::ha
