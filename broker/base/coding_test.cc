#include "broker/base/coding.h"

#include <gtest/gtest.h>

#include "broker/base/ids.h"

namespace fmq {
namespace {

TEST(CodingTest, WritesBigEndian) {
  std::string out;
  ByteWriter w(&out);
  w.PutI16(0x0102);
  w.PutI32(-626843481);  // RocketMQ message magic 0xDAA320A7
  w.PutI64(0x0102030405060708);
  EXPECT_EQ(out, std::string("\x01\x02\xda\xa3\x20\xa7\x01\x02\x03\x04\x05\x06\x07\x08", 14));
}

TEST(CodingTest, ReaderRoundTripsAndRefusesToReadPastEnd) {
  std::string out;
  ByteWriter w(&out);
  w.PutI32(-5);
  w.PutI64(int64_t{1} << 40);
  w.PutU8(7);
  ByteReader r(out);
  int32_t a;
  int64_t b;
  uint8_t c;
  ASSERT_TRUE(r.ReadI32(&a));
  ASSERT_TRUE(r.ReadI64(&b));
  ASSERT_TRUE(r.ReadU8(&c));
  EXPECT_EQ(a, -5);
  EXPECT_EQ(b, int64_t{1} << 40);
  EXPECT_EQ(c, 7);
  int32_t d;
  EXPECT_FALSE(r.ReadI32(&d));
  EXPECT_EQ(r.remaining(), 0u);
  std::string_view sv;
  EXPECT_FALSE(r.ReadBytes(1, &sv));
}

TEST(StrongIntTest, ArithmeticStaysInType) {
  PhysicalOffset a(100);
  PhysicalOffset b = a + 20;
  EXPECT_EQ(b - a, 20);
  EXPECT_LT(a, b);
  static_assert(!std::is_convertible_v<PhysicalOffset, QueueOffset>);
  static_assert(!std::is_convertible_v<int64_t, PhysicalOffset>);
}

}  // namespace
}  // namespace fmq
