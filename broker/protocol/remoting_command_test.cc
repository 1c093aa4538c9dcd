#include "broker/protocol/remoting_command.h"

#include <gtest/gtest.h>

#include <random>

#include "broker/base/coding.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/internal/json_header.h"

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

// The fast JSON codec must agree with the generic one on everything it accepts, and decline the rest.
void ExpectSameDecode(std::string_view header) {
  RemotingCommand fast, generic;
  const Status fs = DecodeJsonHeader(header, &fast);
  const Status gs = internal::DecodeJsonHeaderGeneric(header, &generic);
  ASSERT_EQ(fs.ok(), gs.ok()) << header;
  if (!fs.ok()) {
    EXPECT_EQ(fs.message(), gs.message()) << header;
    return;
  }
  EXPECT_EQ(fast.code, generic.code) << header;
  EXPECT_EQ(fast.language, generic.language) << header;
  EXPECT_EQ(fast.version, generic.version) << header;
  EXPECT_EQ(fast.opaque, generic.opaque) << header;
  EXPECT_EQ(fast.flag, generic.flag) << header;
  EXPECT_EQ(fast.remark, generic.remark) << header;
  EXPECT_EQ(fast.ext_fields, generic.ext_fields) << header;
}

TEST(JsonHeaderTest, TheFastDecoderReadsWhatJavaGoAndCppClientsSend) {
  const std::vector<std::string> headers = {
      // Java 4.9.7 SEND_MESSAGE_V2 (fastjson: alphabetical, no nulls; the properties' \u0001 and \u0002
      // separators are escaped)
      R"({"code":310,"extFields":{"a":"please_rename_unique_group_name","b":"TopicTest","c":"TBW102","d":"4",)"
      R"("e":"2","f":"0","g":"1700000000000","h":"0","i":"TAGS\u0001TagA\u0002UNIQ_KEY\u0001AC1100","j":"0",)"
      R"("k":"false","m":"false"},"flag":0,"language":"JAVA","opaque":42,"serializeTypeCurrentRPC":"JSON",)"
      R"("version":407})",
      // the reference send response (protocol reference 1.2)
      R"({"code":0,"extFields":{"msgId":"0A0A0A0100002A9F0000000000001A2B","queueId":"3","queueOffset":"117",)"
      R"("MSG_REGION":"DefaultRegion","TRACE_ON":"true"},"flag":1,"language":"JAVA","opaque":57,)"
      R"("serializeTypeCurrentRPC":"JSON","version":407})",
      // C++ client: numbers and booleans among the ext values, a null remark, another key order
      R"({"code":310,"language":"CPP","version":333,"opaque":7,"flag":0,"remark":null,)"
      R"("extFields":{"a":"g","e":3,"d":-8,"m":false,"Signature":"","OnsChannel":"ALIYUN"}})",
      // whitespace, escaped text, language as a number
      " {\n \"code\" : 11 , \"language\" : 9, \"remark\":\"a\\\"b\\\\c\\/d\\n\\r\\t\\b\\f\", \"extFields\" : "
      "{ } } ",
  };
  for (const auto& h : headers) {
    RemotingCommand cmd;
    EXPECT_TRUE(internal::DecodeJsonHeaderFast(h, &cmd)) << h;
    ExpectSameDecode(h);
  }
  RemotingCommand java;
  ASSERT_TRUE(internal::DecodeJsonHeaderFast(headers[0], &java));
  EXPECT_EQ(java.ext_fields.at("i"),
            "TAGS\x01"
            "TagA\x02"
            "UNIQ_KEY\x01"
            "AC1100");
}

TEST(JsonHeaderTest, TheFastDecoderDeclinesOrAgreesOnOddAndBrokenHeaders) {
  // clang-format off
  const std::vector<std::string> headers = {
      "", "{}", "[]", "null", "{", R"({"code":1)", R"({"code":1}x)", R"({"code":"1"})", R"({"code":1.0})",
      R"({"code":1e3})", R"({"code":01})", R"({"code":-0})", R"({"code":2147483648})",
      R"({"code":-2147483648})", R"({"code":99999999999999999999})", R"({"code":1,"code":2})",
      R"({"code":null})", R"({"code":true})", R"({"code":1,"extFields":[]})", R"({"code":1,"extFields":"x"})",
      R"({"code":1,"extFields":null})", R"({"code":1,"extFields":{"k":{"n":1}}})",
      R"({"code":1,"extFields":{"k":1.5}})", R"({"code":1,"extFields":{"k":"a","k":null}})",
      R"({"code":1,"extFields":{"k":"a"},"extFields":{"j":"b"}})", R"({"code":1,"language":"KLINGON"})",
      R"({"code":1,"language":12})", R"({"code":1,"language":13})", R"({"code":1,"language":-1})",
      R"({"code":1,"language":-0})", R"({"code":1,"language":null})", R"({"code":1,"remark":7})",
      R"({"code":1,"remark":true})", R"({"code":1,"remark":{"a":1}})", R"({"code":1,"remark":"\u00e9"})", R"({"code":1,"remark":"\u0041\u007f\u007F\u0080"})",
      R"({"code":1,"remark":"\ud83d\ude00"})", R"({"code":1,"remark":"\ud83d"})", R"({"code":1,"remark":"\u00G1"})",
      R"({"code":1,"remark":"\u004"})", R"({"code":1,"remark":"\u0041"})",
      "{\"code\":1,\"remark\":\"\xc3\xa9\"}", "{\"code\":1,\"remark\":\"\xff\"}",
      "{\"code\":1,\"remark\":\"a\tb\"}", R"({"code":1,"remark":"a\qb"})", R"({"code":1,"other":[1,2]})",
      R"({"code":1,"other":{"x":[]},"flag":3})", R"({"code":1,"version":-5,"opaque":-7,"flag":2147483647})",
      R"({"code":1,"opaque":1,})", R"({"code":1 "opaque":1})", R"({"code":tru})", R"({"code":nul})",
      R"({"code":-})", R"({"":1,"code":1})", " \r\n\t{\"code\":3}\n",
  };
  // clang-format on
  for (const auto& h : headers) ExpectSameDecode(h);
  std::mt19937 rng(3);
  const std::string base =
      R"({"code":310,"extFields":{"a":"g","b":"T","e":"2","i":"K\n","m":false},"flag":0,"language":"JAVA",)"
      R"("opaque":42,"remark":null,"version":407})";
  for (int i = 0; i < 5000; ++i) {
    std::string h = base;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
      const size_t at = rng() % h.size();
      switch (rng() % 3) {
        case 0:
          h[at] = " {}[]\":,0-19aenrtul.\\x"[rng() % 23];
          break;
        case 1:
          h.erase(at, 1);
          break;
        default:
          h.insert(at, 1, static_cast<char>(rng() % 128));
      }
    }
    ExpectSameDecode(h);
  }
}

TEST(JsonHeaderTest, TheFastEncoderWritesTheGenericCodecsBytes) {
  std::mt19937 rng(9);
  auto text = [&](size_t max) {
    std::string s(rng() % max, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 4 ? 'a' + rng() % 26 : rng() % 128);
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    RemotingCommand cmd = RemotingCommand::Request(static_cast<int32_t>(rng()), static_cast<int32_t>(rng()));
    cmd.flag = static_cast<int32_t>(rng() % 4);
    cmd.version = static_cast<int32_t>(rng());
    cmd.language = static_cast<LanguageCode>(rng() % 14);
    cmd.serialize_type = rng() % 2 ? SerializeType::kJson : SerializeType::kRocketMq;
    if (rng() % 2) cmd.remark = text(20);
    for (int k = static_cast<int>(rng() % 6); k > 0; --k) cmd.ext_fields[text(8)] = text(30);
    std::string fast;
    ASSERT_TRUE(internal::EncodeJsonHeaderFast(cmd, &fast));
    ASSERT_EQ(fast, internal::EncodeJsonHeaderGeneric(cmd));
    ExpectSameDecode(fast);
  }
  // Text outside ASCII is left to the generic codec (it validates UTF-8 and replaces bad bytes).
  RemotingCommand cmd = RemotingCommand::Request(1, 1);
  cmd.remark = "caf\xc3\xa9 \xff";
  std::string out = "keep";
  EXPECT_FALSE(internal::EncodeJsonHeaderFast(cmd, &out));
  EXPECT_EQ(out, "keep");
  EXPECT_EQ(EncodeJsonHeader(cmd), internal::EncodeJsonHeaderGeneric(cmd));
  const std::string frame = EncodeFrame(cmd);
  auto back = DecodeFrame(AsBytes(std::string_view(frame).substr(4)));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->remark, "caf\xc3\xa9 \xef\xbf\xbd");
}

}  // namespace
}  // namespace fmq::protocol
