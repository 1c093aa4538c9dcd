#include "broker/cli/ferryctl.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "broker/client/client_test_util.h"
#include "broker/model/heartbeat.h"
#include "broker/model/message.h"
#include "broker/model/route.h"

namespace fmq::cli {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using client::testing::Reply;
using client::testing::ScriptedServer;
using protocol::RemotingCommand;

struct CtlRun {
  int code;
  std::string out, err;
};

class FerryctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namesrv_.On(rq::kGetRouteInfoByTopic, [this](const RemotingCommand& req) {
      if (req.ext_fields.at("topic") != "T") return Reply(rc::kTopicNotExist, "", {}, "No topic route info");
      model::TopicRouteData r;
      r.queue_datas = {{"broker-a", 2, 2, 6, 0}};
      r.broker_datas = {{"c1", "broker-a", {{0, broker_.addr()}}}};
      return Reply(rc::kSuccess, model::EncodeTopicRouteData(r));
    });
    namesrv_.On(rq::kGetBrokerClusterInfo, [this](const RemotingCommand&) {
      model::ClusterInfo info;
      info.broker_addr_table["broker-a"] = {"c1", "broker-a", {{0, broker_.addr()}}};
      info.cluster_addr_table["c1"] = {"broker-a"};
      return Reply(rc::kSuccess, model::EncodeClusterInfo(info));
    });
  }

  CtlRun Ctl(std::vector<std::string> args) {
    std::ostringstream out, err;
    int code = RunFerryctl(args, namesrv_.addr(), out, err);
    return {code, out.str(), err.str()};
  }

  std::string Record(int64_t offset, const std::string& body) {
    model::StoredMessage m;
    m.topic = "T";
    m.queue_offset = QueueOffset(offset);
    m.physical_offset = PhysicalOffset(offset * 100);
    m.born_host = model::HostAddress::V4(10, 0, 0, 1, 1);
    m.store_host = model::HostAddress::V4(127, 0, 0, 1, broker_.port());
    m.properties =
        model::EncodeProperties({{"TAGS", "tg"}, {"KEYS", "k"}, {"UNIQ_KEY", "ID" + std::to_string(offset)}});
    m.body = body;
    std::string out;
    model::EncodeStoredMessage(m, true, &out);
    return out;
  }

  ScriptedServer namesrv_, broker_;
};

TEST_F(FerryctlTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Ctl({}).code, kExitUsage);
  EXPECT_EQ(Ctl({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(Ctl({"topic", "create"}).code, kExitUsage);
  EXPECT_EQ(Ctl({"send", "T", "x", "--count", "zero"}).code, kExitUsage);
  EXPECT_EQ(Ctl({"send", "T", "x", "--bogus"}).code, kExitUsage);
  EXPECT_EQ(Ctl({"-o", "yaml", "topic", "list"}).code, kExitUsage);
  auto help = Ctl({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("usage: ferryctl"), std::string::npos);
}

TEST_F(FerryctlTest, SendPrintsMsgIdQueueAndOffset) {
  broker_.On(rq::kSendMessageV2, [](const RemotingCommand& req) {
    return Reply(rc::kSuccess, "",
                 {{"msgId", "7F00000100002A9F0000000000000064"},
                  {"queueId", req.ext_fields.at("e")},
                  {"queueOffset", "41"}});
  });
  auto r = Ctl({"send", "T", "hello", "--tag", "TagA", "--key", "order-1", "--count", "2"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("offsetMsgId=7F00000100002A9F0000000000000064"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" offset=41"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("queue=broker-a:"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  auto reqs = broker_.Requests(rq::kSendMessageV2);
  ASSERT_EQ(reqs.size(), 2u);
  auto props = model::DecodeProperties(reqs[0].ext_fields.at("i"));
  EXPECT_EQ(props["TAGS"], "TagA");
  EXPECT_EQ(props["KEYS"], "order-1");
  EXPECT_EQ(reqs[0].body, "hello");

  auto j = Ctl({"-o", "json", "send", "T", "hello"});
  ASSERT_EQ(j.code, kExitOk) << j.err;
  auto parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["queueOffset"], 41);
  EXPECT_EQ(parsed["msgId"].get<std::string>().size(), 32u);
}

TEST_F(FerryctlTest, SendToATopicWithoutRouteFailsWithTheJavaMessage) {
  auto r = Ctl({"send", "Nope", "x"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("No route info of this topic: Nope"), std::string::npos) << r.err;
}

TEST_F(FerryctlTest, TopicCreateUsesTheOnlyClusterAndQueueCount) {
  broker_.On(rq::kUpdateAndCreateTopic, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  auto r = Ctl({"topic", "create", "Orders", "-q", "4"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("cluster c1"), std::string::npos) << r.out;
  auto reqs = broker_.Requests(rq::kUpdateAndCreateTopic);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].ext_fields.at("topic"), "Orders");
  EXPECT_EQ(reqs[0].ext_fields.at("writeQueueNums"), "4");
  EXPECT_EQ(Ctl({"topic", "create", "Orders", "-c", "other"}).code, kExitFailed);
}

TEST_F(FerryctlTest, ConsumeWithoutGroupReadsFromTheEndAndStopsAfterCount) {
  broker_.On(rq::kGetMaxOffset, [](const RemotingCommand&) {
    return Reply(rc::kSuccess, "", {{"offset", "5"}});
  });
  broker_.On(rq::kPullMessage, [this](const RemotingCommand& req) {
    if (req.ext_fields.at("queueId") == "1" && req.ext_fields.at("queueOffset") == "5") {
      return Reply(
          rc::kSuccess, Record(5, "first") + Record(6, "second"),
          {{"suggestWhichBrokerId", "0"}, {"nextBeginOffset", "7"}, {"minOffset", "0"}, {"maxOffset", "7"}});
    }
    return Reply(rc::kPullNotFound, "",
                 {{"suggestWhichBrokerId", "0"},
                  {"nextBeginOffset", req.ext_fields.at("queueOffset")},
                  {"minOffset", "0"},
                  {"maxOffset", "7"}});
  });
  auto r = Ctl({"consume", "T", "--count", "2", "--timeout", "20"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("offset=5 msgId=ID5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("offset=6 msgId=ID6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tags=tg keys=k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("body=second"), std::string::npos) << r.out;
  EXPECT_EQ(broker_.Count(rq::kUpdateConsumerOffset), 0u);  // nothing committed without --group
}

TEST_F(FerryctlTest, ConsumeInAGroupCommitsOnlyWhatItPrinted) {
  auto client_id = std::make_shared<std::string>();
  auto mu = std::make_shared<std::mutex>();
  broker_.On(rq::kHeartBeat, [client_id, mu](const RemotingCommand& req) {
    auto hb = model::DecodeHeartbeat(req.body);
    std::lock_guard<std::mutex> lock(*mu);
    if (hb.ok()) *client_id = hb->client_id;
    return Reply(rc::kSuccess);
  });
  broker_.On(rq::kGetConsumerListByGroup, [client_id, mu](const RemotingCommand&) {
    std::lock_guard<std::mutex> lock(*mu);
    return Reply(rc::kSuccess, "{\"consumerIdList\":[\"" + *client_id + "\"]}");
  });
  broker_.On(rq::kQueryConsumerOffset, [](const RemotingCommand&) { return Reply(rc::kQueryNotFound); });
  for (int32_t code : {rq::kUpdateConsumerOffset, rq::kUnregisterClient, rq::kConsumerSendMsgBack}) {
    broker_.On(code, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  }
  broker_.On(rq::kPullMessage, [this](const RemotingCommand& req) {
    if (req.ext_fields.at("topic") == "T" && req.ext_fields.at("queueId") == "1" &&
        req.ext_fields.at("queueOffset") == "0") {
      return Reply(
          rc::kSuccess, Record(0, "first") + Record(1, "second"),
          {{"suggestWhichBrokerId", "0"}, {"nextBeginOffset", "2"}, {"minOffset", "0"}, {"maxOffset", "2"}});
    }
    return Reply(client::testing::kNoAnswer);  // long polling
  });
  auto r = Ctl({"consume", "T", "--group", "g1", "--from-beginning", "--count", "1", "--timeout", "30"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("body=first"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("body=second"), std::string::npos) << r.out;
  // The second message is neither sent back nor committed: the group resumes at offset 1.
  EXPECT_EQ(broker_.Count(rq::kConsumerSendMsgBack), 0u);
  std::string committed;
  for (const auto& req : broker_.Requests(rq::kUpdateConsumerOffset)) {
    if (req.ext_fields.at("queueId") == "1") committed = req.ext_fields.at("commitOffset");
  }
  EXPECT_EQ(committed, "1");
}

TEST_F(FerryctlTest, MessageGetAsJson) {
  const std::string rec = Record(3, "payload");
  broker_.On(rq::kViewMessageById, [rec](const RemotingCommand&) { return Reply(rc::kSuccess, rec); });
  const std::string id =
      model::CreateOffsetMessageId(model::HostAddress::V4(127, 0, 0, 1, broker_.port()), PhysicalOffset(300));
  auto r = Ctl({"message", "get", id, "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["body"], "payload");
  EXPECT_EQ(j["msgId"], "ID3");
  EXPECT_EQ(j["offsetMsgId"], id);
  EXPECT_EQ(Ctl({"message", "get", "zz"}).code, kExitFailed);
}

TEST_F(FerryctlTest, MessageTracePrintsSentStoredAndConsumed) {
  // The stored message, and a trace message whose body holds the records Java clients write.
  const std::string offset_id =
      model::CreateOffsetMessageId(model::HostAddress::V4(127, 0, 0, 1, broker_.port()), PhysicalOffset(300));
  model::StoredMessage stored;
  stored.topic = "T";
  stored.physical_offset = PhysicalOffset(300);
  stored.store_timestamp = 1700000000003;
  stored.store_host = model::HostAddress::V4(127, 0, 0, 1, broker_.port());
  stored.properties = model::EncodeProperties({{"UNIQ_KEY", "ID3"}});
  std::string rec;
  model::EncodeStoredMessage(stored, true, &rec);
  auto field = [](std::initializer_list<std::string> f) {
    std::string out;
    for (const auto& s : f) out += (out.empty() ? "" : "\x01") + s;
    return out + "\x02";
  };
  model::StoredMessage trace;
  trace.topic = "T";
  trace.store_host = model::HostAddress::V4(127, 0, 0, 1, broker_.port());
  trace.properties = model::EncodeProperties({{"KEYS", "ID3"}});
  trace.body =
      field({"Pub", "1700000000000", "r", "pg", "T", "ID3", "tg", "k", "127.0.0.1:1", "7", "4", "0",
             offset_id, "true"}) +
      field({"SubBefore", "1700000000500", "r", "cg", "req1", "ID3", "0", "k"}) +
      field({"SubAfter", "req1", "ID3", "12", "true", "k", "0", "1700000000512", "cg"}) +
      field({"Pub", "1700000000000", "r", "pg", "T", "OTHER", "", "", "h", "1", "1", "0", "x", "true"});
  std::string trace_rec;
  model::EncodeStoredMessage(trace, true, &trace_rec);
  broker_.On(rq::kQueryMessage, [trace_rec](const RemotingCommand& req) {
    if (req.ext_fields.at("key") != "ID3") return Reply(rc::kQueryNotFound, "", {}, "no message");
    return Reply(rc::kSuccess, trace_rec,
                 {{"indexLastUpdateTimestamp", "0"}, {"indexLastUpdatePhyoffset", "0"}});
  });
  broker_.On(rq::kViewMessageById, [rec](const RemotingCommand&) { return Reply(rc::kSuccess, rec); });
  auto r = Ctl({"message", "trace", "ID3", "--trace-topic", "T"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("sent by producer group pg"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored on 127.0.0.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(+3 ms after the send began)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(+497 ms after stored)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("consumed by cg"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("took 12 ms, OK"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("OTHER"), std::string::npos) << r.out;
  auto j = Ctl({"message", "trace", "ID3", "--trace-topic", "T", "-o", "json"});
  ASSERT_EQ(j.code, kExitOk) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["events"].size(), 3u);
  // A message nobody traced.
  auto none = Ctl({"message", "trace", "NOPE", "--trace-topic", "T"});
  EXPECT_EQ(none.code, kExitFailed);
}

TEST_F(FerryctlTest, GroupProgressShowsLag) {
  broker_.On(rq::kGetConsumeStats, [](const RemotingCommand&) {
    return Reply(
        rc::kSuccess,
        R"({"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":0}}})");
  });
  broker_.On(rq::kGetConsumerConnectionList,
             [](const RemotingCommand&) { return Reply(rc::kConsumerNotOnline); });
  auto r = Ctl({"group", "progress", "cg"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("diff total: 6"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace fmq::cli
