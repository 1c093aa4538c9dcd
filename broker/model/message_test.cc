#include "broker/model/message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>
#include <set>

#include "broker/base/coding.h"
#include "broker/base/crc32.h"

namespace fmq::model {
namespace {

using ::testing::HasSubstr;

// The test vector of protocol reference 4.1: the first record of a commit log.
constexpr uint8_t kGoldenRecord[] = {
    0x00, 0x00, 0x00, 0x64, 0xda, 0xa3, 0x20, 0xa7, 0x58, 0x93, 0x2a, 0xac, 0x00, 0x00, 0x00, 0x00,  // 0000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 0010
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  // 0020
    0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0xc3, 0x50, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b,  // 0030
    0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x2a, 0x9f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 0040
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x68, 0x69, 0x01, 0x54, 0x00, 0x06, 0x54, 0x41,  // 0050
    0x47, 0x53, 0x01, 0x41,                                                                          // 0060
};
// Positions of the variable fields in kGoldenRecord.
constexpr size_t kGoldenBodyLengthPos = 84;
constexpr size_t kGoldenTopicLengthPos = 90;
constexpr size_t kGoldenPropertiesLengthPos = 92;

StoredMessage GoldenMessage() {
  return StoredMessage{
      .body_crc = 0,  // computed by the encoder
      .queue_id = QueueId(0),
      .flag = 0,
      .queue_offset = QueueOffset(0),
      .physical_offset = PhysicalOffset(0),
      .sys_flag = 0,
      .born_timestamp = 1700000000000,
      .born_host = HostAddress::V4(10, 0, 0, 2, 50000),
      .store_timestamp = 1700000000123,
      .store_host = HostAddress::V4(10, 0, 0, 1, 10911),
      .reconsume_times = 0,
      .prepared_transaction_offset = PhysicalOffset(0),
      .body = "hi",
      .topic = "T",
      .properties =
          "TAGS\x01"
          "A",
  };
}

HostAddress V6Host(int32_t port) {
  Result<HostAddress> h = HostAddress::Parse("[2001:db8::1:2]:" + std::to_string(port));
  EXPECT_TRUE(h.ok()) << h.status();
  return *h;
}

// A message with every field set to a distinct non-zero value.
StoredMessage RichMessage(bool born_v6, bool store_v6) {
  StoredMessage m;
  m.queue_id = QueueId(7);
  m.flag = -3;
  m.queue_offset = QueueOffset(123456789012);
  m.physical_offset = PhysicalOffset(987654321098);
  m.sys_flag = sysflag::kCompressed | sysflag::kTransactionCommit | 0x300;
  m.born_timestamp = 1700000000001;
  m.born_host = born_v6 ? V6Host(40000) : HostAddress::V4(192, 168, 1, 20, 40000);
  m.store_timestamp = 1700000000999;
  m.store_host = store_v6 ? V6Host(10911) : HostAddress::V4(10, 1, 2, 3, 10911);
  m.reconsume_times = 4;
  m.prepared_transaction_offset = PhysicalOffset(4242);
  m.body = std::string("binary\0body\xff", 12);
  m.topic = "TopicTest";
  m.properties = EncodeProperties({{"KEYS", "k1 k2"}, {"TAGS", "TagA"}, {"UNIQ_KEY", "0A0000010000"}});
  return m;
}

std::string Encode(const StoredMessage& m, bool compute_crc = true) {
  std::string out;
  EncodeStoredMessage(m, compute_crc, &out);
  return out;
}

Result<StoredMessage> Decode(std::string_view bytes, bool check_crc = true) {
  return DecodeStoredMessage(AsBytes(bytes), check_crc);
}

std::string GoldenBytes() {
  return std::string(reinterpret_cast<const char*>(kGoldenRecord), sizeof(kGoldenRecord));
}

void ExpectSameMessage(const StoredMessage& got, const StoredMessage& want) {
  EXPECT_EQ(got.queue_id, want.queue_id);
  EXPECT_EQ(got.flag, want.flag);
  EXPECT_EQ(got.queue_offset, want.queue_offset);
  EXPECT_EQ(got.physical_offset, want.physical_offset);
  EXPECT_EQ(got.born_timestamp, want.born_timestamp);
  EXPECT_EQ(got.born_host, want.born_host);
  EXPECT_EQ(got.store_timestamp, want.store_timestamp);
  EXPECT_EQ(got.store_host, want.store_host);
  EXPECT_EQ(got.reconsume_times, want.reconsume_times);
  EXPECT_EQ(got.prepared_transaction_offset, want.prepared_transaction_offset);
  EXPECT_EQ(got.body, want.body);
  EXPECT_EQ(got.topic, want.topic);
  EXPECT_EQ(got.properties, want.properties);
}

void ExpectCorruption(const Result<StoredMessage>& r, std::string_view what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_TRUE(r.status().IsCorruption()) << what << ": " << r.status();
}

// ------------------------------------------------------------------------------------------------------------
// Golden record

TEST(StoredMessageTest, EncodesReferenceTestVectorByteForByte) {
  std::string out = Encode(GoldenMessage());
  EXPECT_EQ(out, GoldenBytes());
  EXPECT_EQ(GoldenMessage().EncodedSize(), sizeof(kGoldenRecord));
  EXPECT_EQ(RocketMqCrc32("hi"), 0x58932AAC);
}

TEST(StoredMessageTest, DecodesReferenceTestVectorIntoEveryField) {
  Result<StoredMessage> m = Decode(GoldenBytes());
  ASSERT_TRUE(m.ok()) << m.status();
  ExpectSameMessage(*m, GoldenMessage());
  EXPECT_EQ(m->body_crc, 0x58932AAC);
  EXPECT_EQ(m->sys_flag, 0);
  EXPECT_EQ(m->born_host.ToString(), "10.0.0.2:50000");
  EXPECT_EQ(m->store_host.ToString(), "10.0.0.1:10911");
  EXPECT_EQ(FindProperty(m->properties, prop::kTags), "A");
}

TEST(StoredMessageTest, ReferenceTestVectorHasReferenceOffsetMessageId) {
  StoredMessage m = GoldenMessage();
  EXPECT_EQ(CreateOffsetMessageId(m.store_host, m.physical_offset), "0A00000100002A9F0000000000000000");
}

TEST(StoredMessageTest, StoreTimestampPosIsWhereTheStoreTimestampIs) {
  for (bool born_v6 : {false, true}) {
    StoredMessage m = RichMessage(born_v6, false);
    std::string out = Encode(m);
    EXPECT_EQ(m.StoreTimestampPos(), born_v6 ? 68u : 56u);
    EXPECT_EQ(DecodeI64(reinterpret_cast<const uint8_t*>(out.data()) + m.StoreTimestampPos()),
              m.store_timestamp);
  }
}

// ------------------------------------------------------------------------------------------------------------
// Sizes, host families, append behaviour

TEST(StoredMessageTest, EncodedSizeEqualsTotalSizeForEveryHostFamilyCombination) {
  for (bool born_v6 : {false, true}) {
    for (bool store_v6 : {false, true}) {
      StoredMessage m = RichMessage(born_v6, store_v6);
      std::string out = Encode(m);
      const size_t expected = kFixedSizeV4 + (born_v6 ? 12 : 0) + (store_v6 ? 12 : 0) + m.body.size() +
                              m.topic.size() + m.properties.size();
      EXPECT_EQ(m.EncodedSize(), expected);
      EXPECT_EQ(StoredMessageSize(m.body.size(), m.topic.size(), m.properties.size(), born_v6, store_v6),
                expected);
      EXPECT_EQ(out.size(), expected);
      EXPECT_EQ(static_cast<size_t>(DecodeI32(reinterpret_cast<const uint8_t*>(out.data()))), expected);
    }
  }
}

TEST(StoredMessageTest, RoundTripsEveryHostFamilyCombination) {
  for (bool born_v6 : {false, true}) {
    for (bool store_v6 : {false, true}) {
      StoredMessage m = RichMessage(born_v6, store_v6);
      Result<StoredMessage> got = Decode(Encode(m));
      ASSERT_TRUE(got.ok()) << got.status();
      ExpectSameMessage(*got, m);
      EXPECT_EQ(got->born_host.v6, born_v6);
      EXPECT_EQ(got->store_host.v6, store_v6);
      EXPECT_EQ(got->body_crc, RocketMqCrc32(m.body));
      int32_t expected_flag =
          m.sys_flag | (born_v6 ? sysflag::kBornHostV6 : 0) | (store_v6 ? sysflag::kStoreHostV6 : 0);
      EXPECT_EQ(got->sys_flag, expected_flag);
    }
  }
}

TEST(StoredMessageTest, EncoderDerivesHostSysflagBitsFromAddresses) {
  StoredMessage m = GoldenMessage();
  m.sys_flag = sysflag::kBornHostV6 | sysflag::kStoreHostV6 | sysflag::kMultiTags;
  std::string out = Encode(m);
  EXPECT_EQ(DecodeI32(reinterpret_cast<const uint8_t*>(out.data()) + kSysFlagPos), sysflag::kMultiTags);

  m = RichMessage(true, false);
  m.sys_flag = sysflag::kStoreHostV6;
  out = Encode(m);
  EXPECT_EQ(DecodeI32(reinterpret_cast<const uint8_t*>(out.data()) + kSysFlagPos), sysflag::kBornHostV6);
}

TEST(StoredMessageTest, EncoderAppendsWithoutClearing) {
  std::string out = "xyz";
  EncodeStoredMessage(GoldenMessage(), true, &out);
  EncodeStoredMessage(RichMessage(true, true), true, &out);
  ASSERT_EQ(out.substr(0, 3), "xyz");
  EXPECT_EQ(out.substr(3, sizeof(kGoldenRecord)), GoldenBytes());

  // A record followed by more bytes decodes; the second record starts at TOTALSIZE.
  std::string_view rest = std::string_view(out).substr(3);
  Result<StoredMessage> first = Decode(rest);
  ASSERT_TRUE(first.ok()) << first.status();
  ExpectSameMessage(*first, GoldenMessage());
  Result<StoredMessage> second = Decode(rest.substr(sizeof(kGoldenRecord)));
  ASSERT_TRUE(second.ok()) << second.status();
  ExpectSameMessage(*second, RichMessage(true, true));
}

TEST(StoredMessageTest, EncoderWritesGivenCrcWhenNotComputing) {
  StoredMessage m = GoldenMessage();
  m.body_crc = 0x12345678;
  std::string out = Encode(m, /*compute_crc=*/false);
  EXPECT_EQ(DecodeI32(reinterpret_cast<const uint8_t*>(out.data()) + kBodyCrcPos), 0x12345678);
}

TEST(StoredMessageTest, RoundTripsLimitSizedTopicAndProperties) {
  StoredMessage m = GoldenMessage();
  m.topic = std::string(kMaxTopicLength, 't');
  m.properties = "K\x01" + std::string(kMaxPropertiesLength - 2, 'v');
  ASSERT_TRUE(ValidateForStore(m).ok());
  Result<StoredMessage> got = Decode(Encode(m));
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameMessage(*got, m);
}

TEST(StoredMessageTest, RoundTripsEmptyBodyAndProperties) {
  StoredMessage m = GoldenMessage();
  m.body.clear();
  m.properties.clear();
  std::string out = Encode(m);
  EXPECT_EQ(out.size(), kFixedSizeV4 + 1);
  Result<StoredMessage> got = Decode(out);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameMessage(*got, m);
  EXPECT_EQ(got->body_crc, 0);
}

// ------------------------------------------------------------------------------------------------------------
// ValidateForStore

TEST(ValidateForStoreTest, AcceptsReferenceMessage) { EXPECT_TRUE(ValidateForStore(GoldenMessage()).ok()); }

TEST(ValidateForStoreTest, RejectsEmptyTopic) {
  StoredMessage m = GoldenMessage();
  m.topic.clear();
  Status s = ValidateForStore(m);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("empty"));
}

TEST(ValidateForStoreTest, RejectsTopicOver127BytesNamingLimitAndLength) {
  StoredMessage m = GoldenMessage();
  m.topic = std::string(128, 't');
  Status s = ValidateForStore(m);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("128"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("127"));
}

TEST(ValidateForStoreTest, RejectsPropertiesOver32767BytesNamingLimitAndLength) {
  StoredMessage m = GoldenMessage();
  m.properties = std::string(32768, 'p');
  Status s = ValidateForStore(m);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("32768"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("32767"));
}

// ------------------------------------------------------------------------------------------------------------
// Decoder rejections

TEST(DecodeStoredMessageTest, RejectsEveryTruncationOfAValidRecord) {
  for (const std::string& record : {GoldenBytes(), Encode(RichMessage(true, true))}) {
    for (size_t n = 0; n < record.size(); ++n) {
      // Copy so that ASan sees the end of the buffer.
      std::string prefix = record.substr(0, n);
      ExpectCorruption(Decode(prefix), "prefix of " + std::to_string(n) + " bytes");
      ExpectCorruption(Decode(prefix, false), "prefix of " + std::to_string(n) + " bytes, no crc");
    }
  }
}

TEST(DecodeStoredMessageTest, RejectsWrongMagic) {
  std::string b = GoldenBytes();
  b[kMagicPos + 3] ^= 1;
  Result<StoredMessage> r = Decode(b);
  ExpectCorruption(r, "wrong magic");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("magic"));
}

TEST(DecodeStoredMessageTest, ReportsBlankMagicAsEndOfFileMarker) {
  std::string b(8, '\0');
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()), 4096);
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + 4, kBlankMagic);
  Result<StoredMessage> r = Decode(b);
  ExpectCorruption(r, "blank");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("end-of-file blank marker"));
}

TEST(DecodeStoredMessageTest, RejectsV2Records) {
  std::string b = GoldenBytes();
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kMagicPos, static_cast<int32_t>(0xDAA320AB));
  Result<StoredMessage> r = Decode(b);
  ExpectCorruption(r, "v2");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("V2"));
}

TEST(DecodeStoredMessageTest, BadCrcIsCorruptionOnlyWhenChecked) {
  std::string b = GoldenBytes();
  b[kBodyCrcPos + 3] ^= 1;
  Result<StoredMessage> r = Decode(b, /*check_crc=*/true);
  ExpectCorruption(r, "bad crc");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("CRC"));
  Result<StoredMessage> unchecked = Decode(b, /*check_crc=*/false);
  ASSERT_TRUE(unchecked.ok()) << unchecked.status();
  EXPECT_EQ(unchecked->body_crc, 0x58932AAC ^ 1);

  // A corrupted body is caught the same way.
  b = GoldenBytes();
  b[88] = 'H';
  ExpectCorruption(Decode(b, true), "bad body");
  EXPECT_TRUE(Decode(b, false).ok());
}

TEST(DecodeStoredMessageTest, RejectsTotalSizeBelowMinimumOrNegative) {
  for (int32_t size : {0, -1, 8, 91, std::numeric_limits<int32_t>::min()}) {
    std::string b = GoldenBytes();
    EncodeI32(reinterpret_cast<uint8_t*>(b.data()), size);
    ExpectCorruption(Decode(b), "total size " + std::to_string(size));
  }
}

TEST(DecodeStoredMessageTest, RejectsTotalSizeBeyondTheBuffer) {
  std::string b = GoldenBytes();
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()), 101);
  ExpectCorruption(Decode(b), "total size 101");
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()), std::numeric_limits<int32_t>::max());
  ExpectCorruption(Decode(b), "total size max");
}

TEST(DecodeStoredMessageTest, RejectsBodyLengthBeyondRecordNamingBothSizes) {
  std::string b = GoldenBytes();
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kGoldenBodyLengthPos, 70000);
  Result<StoredMessage> r = Decode(b);
  ExpectCorruption(r, "body length");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("body length 70000 exceeds record size 100"));

  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kGoldenBodyLengthPos, -1);
  r = Decode(b);
  ExpectCorruption(r, "negative body length");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("body length"));
}

TEST(DecodeStoredMessageTest, RejectsLengthsThatDoNotSumToTotalSize) {
  // One spare byte inside TOTALSIZE.
  std::string b = GoldenBytes() + "x";
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()), 101);
  ExpectCorruption(Decode(b), "spare byte");

  // Shorter body: the following lengths are read from the wrong places.
  b = GoldenBytes();
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kGoldenBodyLengthPos, 1);
  ExpectCorruption(Decode(b, false), "body length 1");

  // Properties length one short / one long.
  for (int16_t len : {5, 7}) {
    b = GoldenBytes();
    EncodeI16(reinterpret_cast<uint8_t*>(b.data()) + kGoldenPropertiesLengthPos, len);
    ExpectCorruption(Decode(b), "properties length " + std::to_string(len));
  }

  // The IPv6 born-host bit on an IPv4 record moves every later field.
  b = GoldenBytes();
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kSysFlagPos, sysflag::kBornHostV6);
  ExpectCorruption(Decode(b), "born host v6 bit");
  b = GoldenBytes();
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kSysFlagPos, sysflag::kBornHostV6 | sysflag::kStoreHostV6);
  ExpectCorruption(Decode(b), "both v6 bits");
}

TEST(DecodeStoredMessageTest, RejectsZeroAndNegativeTopicLength) {
  for (uint8_t len : {0x00, 0x80, 0xff}) {
    std::string b = GoldenBytes();
    b[kGoldenTopicLengthPos] = static_cast<char>(len);
    Result<StoredMessage> r = Decode(b);
    ExpectCorruption(r, "topic length " + std::to_string(len));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("topic length"));
  }
}

TEST(DecodeStoredMessageTest, RejectsNegativePropertiesLength) {
  std::string b = GoldenBytes();
  EncodeI16(reinterpret_cast<uint8_t*>(b.data()) + kGoldenPropertiesLengthPos, -6);
  Result<StoredMessage> r = Decode(b);
  ExpectCorruption(r, "negative properties length");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("properties length"));
}

TEST(DecodeStoredMessageTest, RandomMutationsNeverCrashAndFailAsCorruption) {
  std::mt19937 rng(12345);
  const std::string base[] = {GoldenBytes(), Encode(RichMessage(true, false)),
                              Encode(RichMessage(false, true))};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b = base[iter % 3];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    for (bool check_crc : {false, true}) {
      Result<StoredMessage> r = Decode(b, check_crc);
      if (!r.ok()) {
        EXPECT_TRUE(r.status().IsCorruption()) << r.status();
      } else {
        // Whatever decodes re-encodes to the same bytes (when the magic-derived host bits agree).
        EXPECT_EQ(Encode(*r, false), b.substr(0, r->EncodedSize()));
      }
    }
  }
  // Pure noise.
  for (int iter = 0; iter < 5000; ++iter) {
    std::string b(rng() % 200, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    if (b.size() >= 8 && iter % 2 == 0) {
      EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + kMagicPos, kMessageMagicV1);
      EncodeI32(reinterpret_cast<uint8_t*>(b.data()), static_cast<int32_t>(rng() % (b.size() + 1)));
    }
    Result<StoredMessage> r = Decode(b, false);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsCorruption()) << r.status();
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// HostAddress

TEST(HostAddressTest, ParsesIpv4AndIpv6) {
  Result<HostAddress> v4 = HostAddress::Parse("10.0.0.1:10911");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(*v4, HostAddress::V4(10, 0, 0, 1, 10911));
  EXPECT_EQ(v4->EncodedLength(), kHostV4Length);
  EXPECT_EQ(v4->ToString(), "10.0.0.1:10911");

  Result<HostAddress> v6 = HostAddress::Parse("[::1]:10911");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->port, 10911);
  EXPECT_EQ(v6->ip[15], 1);
  EXPECT_EQ(v6->EncodedLength(), kHostV6Length);
  EXPECT_EQ(v6->ToString(), "[::1]:10911");

  Result<HostAddress> full = HostAddress::Parse("[2001:DB8:0:0:0:0:0:2]:0");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->ToString(), "[2001:db8::2]:0");
  Result<HostAddress> max_port = HostAddress::Parse("255.255.255.255:65535");
  ASSERT_TRUE(max_port.ok()) << max_port.status();
  EXPECT_EQ(*max_port, HostAddress::V4(255, 255, 255, 255, 65535));
}

TEST(HostAddressTest, ToStringParsesBackToTheSameAddress) {
  for (const HostAddress& h : {HostAddress::V4(1, 2, 3, 4, 5), V6Host(80), GoldenMessage().born_host}) {
    Result<HostAddress> back = HostAddress::Parse(h.ToString());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, h);
  }
}

TEST(HostAddressTest, RejectsMalformedAddresses) {
  for (std::string_view bad : {"",
                               ":",
                               "10.0.0.1",
                               "10.0.0.1:",
                               "10.0.0.1:65536",
                               "10.0.0.1:123456",
                               "10.0.0.1:-1",
                               "10.0.0.1:+80",
                               "10.0.0.1:8a",
                               "10.0.0:80",
                               "10.0.0.256:80",
                               "host:80",
                               ":80",
                               "::1:80",
                               "[::1]",
                               "[::1]:",
                               "[::1]80",
                               "[::1:80",
                               "[]:80",
                               "[10.0.0.1]:80",
                               "[::g]:80",
                               "10.0.0.1 :80"}) {
    Result<HostAddress> r = HostAddress::Parse(bad);
    EXPECT_FALSE(r.ok()) << "\"" << bad << "\" parsed";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// Properties

TEST(PropertiesTest, EncodesWithoutTrailingSeparator) {
  EXPECT_EQ(EncodeProperties({}), "");
  EXPECT_EQ(EncodeProperties({{"TAGS", "A"}}),
            "TAGS\x01"
            "A");
  EXPECT_EQ(EncodeProperties({{"KEYS", "k"}, {"TAGS", "A"}}),
            "KEYS\x01k\x02TAGS\x01"
            "A");
}

TEST(PropertiesTest, RoundTrips) {
  std::map<std::string, std::string> props = {
      {"KEYS", "k1 k2"}, {"TAGS", "TagA"}, {"UNIQ_KEY", "7F0000010000"}, {"WAIT", "true"}, {"中文", "值"}};
  EXPECT_EQ(DecodeProperties(EncodeProperties(props)), props);
}

TEST(PropertiesTest, ToleratesTrailingSeparatorEmptyValuesAndMissingNameValueSeparator) {
  using Map = std::map<std::string, std::string>;
  EXPECT_EQ(DecodeProperties("TAGS\x01"
                             "A\x02"),
            (Map{{"TAGS", "A"}}));
  EXPECT_EQ(DecodeProperties("K\x01\x02TAGS\x01"
                             "A"),
            (Map{{"TAGS", "A"}}));
  EXPECT_EQ(DecodeProperties("JUNK\x02TAGS\x01"
                             "A"),
            (Map{{"TAGS", "A"}}));
  EXPECT_EQ(DecodeProperties("\x01V\x02TAGS\x01"
                             "A"),
            (Map{{"TAGS", "A"}}));
  EXPECT_EQ(DecodeProperties("\x02\x02"
                             "A\x01"
                             "B\x02\x02"),
            (Map{{"A", "B"}}));
  EXPECT_EQ(DecodeProperties(""), Map{});
  EXPECT_EQ(DecodeProperties("\x02"), Map{});
  EXPECT_EQ(DecodeProperties("\x01"), Map{});
}

TEST(PropertiesTest, SplitsAtFirstNameValueSeparatorAndLastDuplicateWins) {
  using Map = std::map<std::string, std::string>;
  // Java 4.9.1+ keeps everything after the first 0x01 as the value.
  EXPECT_EQ(DecodeProperties("K\x01"
                             "a\x01"
                             "b"),
            (Map{{"K",
                  "a\x01"
                  "b"}}));
  EXPECT_EQ(DecodeProperties("K\x01"
                             "1\x02K\x01"
                             "2"),
            (Map{{"K", "2"}}));
  // An empty later value is skipped, so it does not erase the earlier one.
  EXPECT_EQ(DecodeProperties("K\x01"
                             "1\x02K\x01"),
            (Map{{"K", "1"}}));
  EXPECT_EQ(FindProperty("K\x01"
                         "1\x02K\x01"
                         "2",
                         "K"),
            "2");
  EXPECT_EQ(FindProperty("K\x01"
                         "1\x02K\x01",
                         "K"),
            "1");
}

TEST(PropertiesTest, FindPropertyFindsValuesAndMissesAbsentOrEmptyOnes) {
  const std::string text =
      "KEYS\x01k1 k2\x02TAGS\x01TagA\x02"
      "EMPTY\x01\x02UNIQ_KEY\x01u";
  EXPECT_EQ(FindProperty(text, "KEYS"), "k1 k2");
  EXPECT_EQ(FindProperty(text, "TAGS"), "TagA");
  EXPECT_EQ(FindProperty(text, "UNIQ_KEY"), "u");
  EXPECT_EQ(FindProperty(text, "EMPTY"), std::nullopt);
  EXPECT_EQ(FindProperty(text, "TAG"), std::nullopt);
  EXPECT_EQ(FindProperty(text, "TAGSX"), std::nullopt);
  EXPECT_EQ(FindProperty(text, ""), std::nullopt);
  EXPECT_EQ(FindProperty("", "TAGS"), std::nullopt);
}

TEST(PropertiesTest, FindPropertyAgreesWithDecodePropertiesOnRandomInputs) {
  std::mt19937 rng(4242);
  constexpr char kAlphabet[] = {'K', 'V', 'a', '\x01', '\x02', '\x01', '\x02'};
  const std::vector<std::string> probes = {"", "K", "V", "a", "KV", "Ka", "aa", "KK", "VK", "\x01", "K\x01"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 25, '\0');
    for (char& c : text) c = kAlphabet[rng() % sizeof(kAlphabet)];
    const std::map<std::string, std::string> decoded = DecodeProperties(text);
    for (const auto& [name, value] : decoded) {
      EXPECT_FALSE(name.empty());
      EXPECT_FALSE(value.empty());
      EXPECT_EQ(FindProperty(text, name), std::optional<std::string_view>(value)) << "text=" << text;
    }
    for (const std::string& name : probes) {
      auto it = decoded.find(name);
      std::optional<std::string_view> want;
      if (it != decoded.end()) want = it->second;
      EXPECT_EQ(FindProperty(text, name), want) << "name=" << name << " text=" << text;
    }
  }
}

TEST(PropertiesTest, WithPropertyReplacesAppendsAndRemovesKeepingTheRestInOrder) {
  const std::string text =
      "KEYS\x01k1\x02"
      "DELAY\x01"
      "3\x02TAGS\x01T";
  EXPECT_EQ(WithProperty(text, "DELAY", std::nullopt), "KEYS\x01k1\x02TAGS\x01T");
  EXPECT_EQ(WithProperty(text, "DELAY", "5"),
            "KEYS\x01k1\x02TAGS\x01T\x02"
            "DELAY\x01"
            "5");
  EXPECT_EQ(WithProperty(text, "REAL_TOPIC", "t"), text + "\x02REAL_TOPIC\x01t");
  EXPECT_EQ(WithProperty("", "A", "b"),
            "A\x01"
            "b");
  EXPECT_EQ(WithProperty("A\x01"
                         "b",
                         "A", std::nullopt),
            "");
  // A trailing separator (Java < 4.9.1) and a duplicate name are cleaned up.
  EXPECT_EQ(WithProperty("A\x01"
                         "1\x02"
                         "B\x01"
                         "2\x02"
                         "A\x01"
                         "3\x02",
                         "A", "4"),
            "B\x01"
            "2\x02"
            "A\x01"
            "4");
}

TEST(PropertiesTest, WithPropertyAgreesWithDecodePropertiesOnRandomInputs) {
  std::mt19937 rng(777);
  constexpr char kAlphabet[] = {'K', 'V', 'a', '\x01', '\x02'};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 20, '\0');
    for (char& c : text) c = kAlphabet[rng() % sizeof(kAlphabet)];
    std::map<std::string, std::string> want = DecodeProperties(text);
    want["K"] = "new";
    EXPECT_EQ(DecodeProperties(WithProperty(text, "K", "new")), want) << "text=" << text;
    want.erase("K");
    EXPECT_EQ(DecodeProperties(WithProperty(text, "K", std::nullopt)), want) << "text=" << text;
  }
}

// ------------------------------------------------------------------------------------------------------------
// Offset message id

TEST(OffsetMessageIdTest, MatchesReferenceExample) {
  EXPECT_EQ(CreateOffsetMessageId(HostAddress::V4(10, 10, 10, 1, 10911), PhysicalOffset(6699)),
            "0A0A0A0100002A9F0000000000001A2B");
  Result<OffsetMessageId> id = DecodeOffsetMessageId("0A0A0A0100002A9F0000000000001A2B");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->store_host, HostAddress::V4(10, 10, 10, 1, 10911));
  EXPECT_EQ(id->offset, PhysicalOffset(6699));
}

TEST(OffsetMessageIdTest, RoundTripsIpv4AndIpv6) {
  for (const HostAddress& host : {HostAddress::V4(192, 168, 0, 254, 65535), V6Host(10911)}) {
    for (int64_t offset : {int64_t{0}, int64_t{1} << 40, std::numeric_limits<int64_t>::max()}) {
      std::string id = CreateOffsetMessageId(host, PhysicalOffset(offset));
      EXPECT_EQ(id.size(), host.v6 ? 56u : 32u);
      Result<OffsetMessageId> back = DecodeOffsetMessageId(id);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->store_host, host);
      EXPECT_EQ(back->offset, PhysicalOffset(offset));
    }
  }
}

TEST(OffsetMessageIdTest, IsUppercaseAndAcceptsLowercase) {
  std::string id =
      CreateOffsetMessageId(HostAddress::V4(0xab, 0xcd, 0xef, 0x12, 0xabcd), PhysicalOffset(0xfe));
  EXPECT_EQ(id, "ABCDEF120000ABCD00000000000000FE");
  Result<OffsetMessageId> lower = DecodeOffsetMessageId("abcdef120000abcd00000000000000fe");
  ASSERT_TRUE(lower.ok()) << lower.status();
  EXPECT_EQ(CreateOffsetMessageId(lower->store_host, lower->offset), id);
}

TEST(OffsetMessageIdTest, RejectsBadLengthsAndNonHex) {
  const std::string good = "0A0A0A0100002A9F0000000000001A2B";
  for (const std::string& bad : std::vector<std::string>{
           std::string(), good.substr(0, 31), good + "0", std::string(55, '0'), std::string(57, '0'),
           "0A0A0A0100002A9F0000000000001A2G", "0A0A0A0100002A9F0000000000001A2 ",
           "0x0A0A0100002A9F0000000000001A2B", "-A0A0A0100002A9F0000000000001A2B", std::string(56, 'z')}) {
    Result<OffsetMessageId> r = DecodeOffsetMessageId(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// Tags hash code

TEST(TagsHashCodeTest, MatchesJavaStringHashCode) {
  EXPECT_EQ(TagsHashCode(""), 0);
  EXPECT_EQ(TagsHashCode("A"), 65);
  EXPECT_EQ(TagsHashCode("TagA"), 2598919);
  EXPECT_EQ(TagsHashCode("TagB"), 2598920);
  EXPECT_EQ(TagsHashCode("\xe4\xb8\xad\xe6\x96\x87"), 646394);  // "中文"
}

TEST(TagsHashCodeTest, NegativeHashCodesAreSignExtended) {
  EXPECT_EQ(TagsHashCode("T#KEY1"), int64_t{-1855491935});
}

// ------------------------------------------------------------------------------------------------------------
// Batch body

std::vector<BatchEntry> SampleBatch() {
  return {
      {.flag = 7,
       .body = "hi",
       .properties = "A\x01"
                     "B"},
      {.flag = 0, .body = "", .properties = ""},
      {.flag = -1, .body = std::string("\0\x01\x02\xff", 4), .properties = EncodeProperties({{"TAGS", "x"}})},
  };
}

TEST(BatchBodyTest, EncodesJavaClientLayout) {
  std::string out = EncodeBatchBody({{.flag = 7,
                                      .body = "hi",
                                      .properties = "A\x01"
                                                    "B"}});
  const uint8_t expected[] = {0x00, 0x00, 0x00, 0x1b,  // TOTALSIZE 27 = 20 + 2 + 2 + 3
                              0x00, 0x00, 0x00, 0x00,  // MAGICCODE
                              0x00, 0x00, 0x00, 0x00,  // BODYCRC
                              0x00, 0x00, 0x00, 0x07,  // FLAG
                              0x00, 0x00, 0x00, 0x02, 'h', 'i', 0x00, 0x03, 'A', 0x01, 'B'};
  EXPECT_EQ(out, std::string(reinterpret_cast<const char*>(expected), sizeof(expected)));
}

TEST(BatchBodyTest, RoundTrips) {
  std::vector<BatchEntry> entries = SampleBatch();
  Result<std::vector<BatchEntry>> got = DecodeBatchBody(AsBytes(EncodeBatchBody(entries)));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ((*got)[i].flag, entries[i].flag);
    EXPECT_EQ((*got)[i].body, entries[i].body);
    EXPECT_EQ((*got)[i].properties, entries[i].properties);
  }
}

TEST(BatchBodyTest, IgnoresEntryMagicAndCrcAsJavaBrokerDoes) {
  std::string b = EncodeBatchBody(SampleBatch());
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + 4, 0x12345678);
  EncodeI32(reinterpret_cast<uint8_t*>(b.data()) + 8, -1);
  Result<std::vector<BatchEntry>> got = DecodeBatchBody(AsBytes(b));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 3u);
}

TEST(BatchBodyTest, RejectsEmptyBatch) {
  Result<std::vector<BatchEntry>> r = DecodeBatchBody({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("empty batch"));
}

TEST(BatchBodyTest, RejectsEveryTruncationThatIsNotAnEntryBoundary) {
  const std::vector<BatchEntry> entries = SampleBatch();
  const std::string full = EncodeBatchBody(entries);
  std::set<size_t> boundaries;
  size_t pos = 0;
  for (const BatchEntry& e : entries) {
    pos += 22 + e.body.size() + e.properties.size();
    boundaries.insert(pos);
  }
  for (size_t n = 1; n < full.size(); ++n) {
    std::string prefix = full.substr(0, n);
    Result<std::vector<BatchEntry>> r = DecodeBatchBody(AsBytes(prefix));
    if (boundaries.count(n)) {
      EXPECT_TRUE(r.ok()) << n;
      continue;
    }
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << n;
  }
}

TEST(BatchBodyTest, RejectsMalformedEntriesNamingTheEntryIndex) {
  const std::string first = EncodeBatchBody({SampleBatch()[0]});  // 27 bytes
  auto decode_second = [&](auto mutate) {
    std::string b = first + first;
    mutate(reinterpret_cast<uint8_t*>(b.data()) + first.size(), &b);
    return DecodeBatchBody(AsBytes(b));
  };
  struct Case {
    const char* name;
    std::function<void(uint8_t*, std::string*)> mutate;
    const char* message;
  };
  const Case cases[] = {
      {"total size below minimum", [](uint8_t* p, std::string*) { EncodeI32(p, 21); },
       "below the minimum 22"},
      {"negative total size", [](uint8_t* p, std::string*) { EncodeI32(p, -27); }, "total size -27"},
      {"total size beyond body", [](uint8_t* p, std::string*) { EncodeI32(p, 28); },
       "exceeds the 27 bytes left"},
      {"total size with spare bytes",
       [](uint8_t* p, std::string* b) {
         EncodeI32(p, 28);
         b->push_back('x');
       },
       "fields end at byte 27"},
      {"body length beyond entry", [](uint8_t* p, std::string*) { EncodeI32(p + 16, 8); }, "body length 8"},
      {"body length leaves no room for properties length",
       [](uint8_t* p, std::string*) { EncodeI32(p + 16, 6); }, "body length 6"},
      {"negative body length", [](uint8_t* p, std::string*) { EncodeI32(p + 16, -1); },
       "negative body length"},
      {"properties length beyond entry", [](uint8_t* p, std::string*) { EncodeI16(p + 22, 4); },
       "properties length 4"},
      {"negative properties length", [](uint8_t* p, std::string*) { EncodeI16(p + 22, -3); },
       "negative properties length"},
      {"properties shorter than entry", [](uint8_t* p, std::string*) { EncodeI16(p + 22, 2); },
       "fields end at byte 26"},
  };
  for (const Case& c : cases) {
    Result<std::vector<BatchEntry>> r = decode_second(c.mutate);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("batch entry 1 at byte 27")) << c.name;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message)) << c.name;
  }
}

TEST(BatchBodyTest, RandomInputsNeverCrash) {
  std::mt19937 rng(99);
  const std::string base = EncodeBatchBody(SampleBatch());
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] = static_cast<char>(rng());
    if (rng() % 3 == 0) b.resize(rng() % (b.size() + 1));
    Result<std::vector<BatchEntry>> r = DecodeBatchBody(AsBytes(b));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
    } else {
      EXPECT_EQ(EncodeBatchBody(*r).size(), b.size());
    }
  }
}

}  // namespace
}  // namespace fmq::model
