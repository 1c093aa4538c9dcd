#include "broker/protocol/remoting_command.h"

#include <gtest/gtest.h>

#include <random>

#include "broker/base/coding.h"
#include "broker/protocol/codes.h"

namespace fmq::protocol {
namespace {

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

TEST(RemotingCommandTest, EncodesTheReferenceHeartbeatResponseFrameByteForByte) {
  // Protocol reference 1.2: a JSON heartbeat response without body is a 96-byte header behind 00000064
  // 00000060.
  RemotingCommand req = RemotingCommand::Request(request_code::kHeartBeat, 12);
  RemotingCommand resp = RemotingCommand::ResponseTo(req, response_code::kSuccess);
  const std::string header =
      R"({"code":0,"flag":1,"language":"JAVA","opaque":12,"serializeTypeCurrentRPC":"JSON","version":407})";
  ASSERT_EQ(header.size(), 96u);
  EXPECT_EQ(EncodeFrame(resp), std::string("\x00\x00\x00\x64\x00\x00\x00\x60", 8) + header);
}

TEST(RemotingCommandTest, EncodesAndDecodesTheReferenceBinaryHeader) {
  // Protocol reference 1.5: GET_CONSUMER_LIST_BY_GROUP from a Java 4.9.7 client, opaque 13,
  // consumerGroup=cg1.
  const std::string expected_header =
      std::string("\x00\x26\x00\x01\x97\x00\x00\x00\x0d\x00\x00\x00\x00", 13) +
      std::string("\x00\x00\x00\x00\x00\x00\x00\x16\x00\x0d", 10) + "consumerGroup" +
      std::string("\x00\x00\x00\x03", 4) + "cg1";
  ASSERT_EQ(expected_header.size(), 43u);
  RemotingCommand cmd = RemotingCommand::Request(request_code::kGetConsumerListByGroup, 13);
  cmd.serialize_type = SerializeType::kRocketMq;
  cmd.ext_fields["consumerGroup"] = "cg1";
  const std::string frame = EncodeFrame(cmd);
  EXPECT_EQ(Hex(frame), Hex(std::string("\x00\x00\x00\x2f\x01\x00\x00\x2b", 8) + expected_header));

  auto decoded = DecodeFrame(AsBytes(std::string_view(frame).substr(4)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->code, 38);
  EXPECT_EQ(decoded->language, LanguageCode::kJava);
  EXPECT_EQ(decoded->version, 407);
  EXPECT_EQ(decoded->opaque, 13);
  EXPECT_EQ(decoded->flag, 0);
  EXPECT_FALSE(decoded->remark.has_value());
  EXPECT_EQ(decoded->ext_fields.at("consumerGroup"), "cg1");
  EXPECT_EQ(decoded->serialize_type, SerializeType::kRocketMq);
}

TEST(RemotingCommandTest, JsonRoundTripKeepsEveryFieldAndTheBody) {
  RemotingCommand cmd = RemotingCommand::Request(request_code::kSendMessageV2, -5);
  cmd.language = LanguageCode::kGo;
  cmd.version = 317;
  cmd.flag = kFlagOneway;
  cmd.remark = "hello";
  cmd.ext_fields = {{"a", "producer"}, {"b", "TopicTest"}, {"e", "3"}};
  cmd.body = std::string("\x00\x01\xffpayload", 10);
  const std::string frame = EncodeFrame(cmd);
  auto d = DecodeFrame(AsBytes(std::string_view(frame).substr(4)));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->code, cmd.code);
  EXPECT_EQ(d->language, LanguageCode::kGo);
  EXPECT_EQ(d->version, 317);
  EXPECT_EQ(d->opaque, -5);
  EXPECT_TRUE(d->IsOneway());
  EXPECT_EQ(d->remark, "hello");
  EXPECT_EQ(d->ext_fields, cmd.ext_fields);
  EXPECT_EQ(d->body, cmd.body);
}

TEST(RemotingCommandTest, AcceptsCppClientsNumericExtValuesAndWritesStrings) {
  // C++ 2.x sends some ext values as JSON numbers (protocol reference 1.7) and empty ACL keys.
  RemotingCommand cmd;
  ASSERT_TRUE(
      DecodeJsonHeader(R"({"code":310,"language":"CPP","version":333,"opaque":7,"flag":0,"remark":null,)"
                       R"("extFields":{"a":"g","e":3,"d":8,"m":false,"Signature":"","OnsChannel":"ALIYUN"}})",
                       &cmd)
          .ok());
  EXPECT_EQ(cmd.language, LanguageCode::kCpp);
  EXPECT_EQ(cmd.ext_fields.at("e"), "3");
  EXPECT_EQ(cmd.ext_fields.at("m"), "false");
  EXPECT_EQ(cmd.ext_fields.at("Signature"), "");
  EXPECT_FALSE(cmd.remark.has_value());
  // Responses carry every ext value as a JSON string (C++ and Go ignore or reject numbers).
  RemotingCommand resp = RemotingCommand::ResponseTo(cmd, 0);
  resp.ext_fields["queueId"] = "3";
  EXPECT_NE(EncodeJsonHeader(resp).find(R"("queueId":"3")"), std::string::npos);
}

TEST(RemotingCommandTest, ResponsesKeepTheRequestsOpaqueAndSerializeType) {
  RemotingCommand req = RemotingCommand::Request(request_code::kPullMessage, 99);
  req.serialize_type = SerializeType::kRocketMq;
  RemotingCommand resp = RemotingCommand::ResponseTo(req, response_code::kPullNotFound, "no new message");
  EXPECT_EQ(resp.opaque, 99);
  EXPECT_TRUE(resp.IsResponse());
  EXPECT_EQ(resp.serialize_type, SerializeType::kRocketMq);
  EXPECT_EQ(resp.version, kCurrentVersion);
  EXPECT_EQ(resp.remark, "no new message");
  EXPECT_EQ(ResponseCodeName(resp.code), "PULL_NOT_FOUND");
  EXPECT_EQ(RequestCodeName(request_code::kGetRouteInfoByTopic), "GET_ROUTEINFO_BY_TOPIC");
  EXPECT_EQ(RequestCodeName(12345), "");
}

TEST(FrameDecoderTest, SplitsFramesFedOneByteAtATime) {
  std::string stream;
  for (int i = 0; i < 5; ++i) {
    RemotingCommand c = RemotingCommand::Request(request_code::kHeartBeat, i);
    c.serialize_type = i % 2 ? SerializeType::kRocketMq : SerializeType::kJson;
    c.body = std::string(i * 100, 'b');
    stream += EncodeFrame(c);
  }
  FrameDecoder dec;
  std::vector<RemotingCommand> got;
  for (char ch : stream) {
    dec.Append(AsBytes(std::string_view(&ch, 1)));
    while (true) {
      auto next = dec.Next();
      ASSERT_TRUE(next.ok()) << next.status();
      if (!next->has_value()) break;
      got.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].opaque, i);
    EXPECT_EQ(got[i].body.size(), static_cast<size_t>(i * 100));
  }
  EXPECT_EQ(dec.buffered(), 0u);
}

TEST(FrameDecoderTest, RejectsHttpRandomBytesAndOversizedPrefixesWithAReason) {
  {
    FrameDecoder dec;
    dec.Append(AsBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = dec.Next();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("not a RocketMQ remoting stream"), std::string_view::npos)
        << r.status();
    EXPECT_FALSE(dec.Next().ok()) << "errors are final";
  }
  {
    FrameDecoder dec;
    uint8_t prefix[4];
    EncodeI32(prefix, 16 * 1024 * 1024);  // one byte more than the largest frame
    dec.Append(prefix);
    EXPECT_FALSE(dec.Next().ok());
  }
  {
    FrameDecoder dec;  // a plausible length with a header that is not JSON
    std::string f("\x00\x00\x00\x0c\x00\x00\x00\x08notjson!", 16);
    dec.Append(AsBytes(f));
    auto r = dec.Next();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("JSON header does not parse"), std::string_view::npos);
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(static_cast<size_t>(rng() % 64), '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    FrameDecoder dec;
    dec.Append(AsBytes(junk));
    for (int k = 0; k < 4; ++k) {
      auto r = dec.Next();
      if (!r.ok() || !r->has_value()) break;
    }
  }
}

TEST(FrameDecoderTest, ATruncatedFrameWaitsForTheRest) {
  RemotingCommand c = RemotingCommand::Request(request_code::kSendMessage, 1);
  c.body = "xyz";
  std::string f = EncodeFrame(c);
  FrameDecoder dec;
  dec.Append(AsBytes(std::string_view(f).substr(0, f.size() - 1)));
  auto r = dec.Next();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  dec.Append(AsBytes(std::string_view(f).substr(f.size() - 1)));
  r = dec.Next();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->body, "xyz");
}

TEST(RemotingCommandTest, BinaryHeaderRejectsOverrunsAndDropsEmptyKeysLikeJava) {
  RemotingCommand cmd;
  std::string h = EncodeRocketMqHeader(RemotingCommand::Request(34, 1));
  for (size_t n = 0; n < h.size(); ++n) {
    EXPECT_FALSE(DecodeRocketMqHeader(AsBytes(std::string_view(h).substr(0, n)), &cmd).ok()) << n;
  }
  RemotingCommand withEmpty = RemotingCommand::Request(34, 1);
  withEmpty.ext_fields = {{"k", ""}, {"x", "y"}};
  ASSERT_TRUE(DecodeRocketMqHeader(AsBytes(EncodeRocketMqHeader(withEmpty)), &cmd).ok());
  EXPECT_EQ(cmd.ext_fields.size(), 1u);
  EXPECT_EQ(cmd.ext_fields.at("x"), "y");
}

}  // namespace
}  // namespace fmq::protocol
