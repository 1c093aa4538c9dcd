#include "broker/base/crc32.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <random>
#include <string>

namespace fmq {
namespace {

TEST(Crc32Test, MatchesJavaCrc32KnownValues) {
  EXPECT_EQ(JavaCrc32(""), 0u);
  EXPECT_EQ(JavaCrc32("123456789"), 0xCBF43926u);
  // Protocol reference 4.1 test vector: CRC32("hi") = 0xD8932AAC, stored masked.
  EXPECT_EQ(JavaCrc32("hi"), 0xD8932AACu);
  EXPECT_EQ(RocketMqCrc32("hi"), 0x58932AAC);
}

TEST(Crc32Test, AgreesWithZlibOnRandomInputsAndSplits) {
  std::mt19937 rng(7);
  for (int len : {1, 7, 64, 1000, 1024, 4097, 65536}) {
    std::string data(len, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    uint32_t z = crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    EXPECT_EQ(JavaCrc32(data), z) << len;
    size_t cut = len / 3;
    EXPECT_EQ(Crc32Update(Crc32Update(0, data.data(), cut), data.data() + cut, len - cut), z) << len;
    EXPECT_GE(RocketMqCrc32(data), 0);
  }
}

}  // namespace
}  // namespace fmq
