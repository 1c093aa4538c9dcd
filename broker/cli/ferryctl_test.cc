#include "broker/cli/ferryctl.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "broker/client/client_test_util.h"
#include "broker/model/admin_body.h"
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
    m.queue_id = QueueId(1);  // the tests pull queue 1
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
  EXPECT_NE(help.out.find("Usage: ferryctl"), std::string::npos);
  // Options belong to their command: -q means nothing to send, and says so.
  auto stray = Ctl({"send", "T", "x", "-q", "8"});
  EXPECT_EQ(stray.code, kExitUsage);
  EXPECT_NE(stray.err.find("not expected"), std::string::npos) << stray.err;
  EXPECT_EQ(broker_.Count(rq::kSendMessageV2), 0u);
  // --help on every command, with that command's options.
  auto sub = Ctl({"topic", "create", "--help"});
  EXPECT_EQ(sub.code, kExitOk);
  EXPECT_NE(sub.out.find("--queues"), std::string::npos) << sub.out;
  EXPECT_EQ(sub.out.find("--trace-topic"), std::string::npos) << sub.out;
  auto bad_to = Ctl({"group", "reset", "g", "-t", "T", "--to", "yesterday"});
  EXPECT_EQ(bad_to.code, kExitUsage);
  EXPECT_NE(bad_to.err.find("--to: a reset target must be earliest, latest, now, an RFC 3339 time"),
            std::string::npos)
      << bad_to.err;
  EXPECT_EQ(Ctl({"message", "query", "-t", "T"}).code, kExitUsage);  // neither --key, --id nor --offset
  EXPECT_EQ(Ctl({"dlq", "resend", "g"}).code, kExitUsage);           // neither --msg-id nor --all
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

// A consumer connection of group `group` subscribed to T, as GET_CONSUMER_CONNECTION_LIST answers.
std::string OnlineGroupBody(const std::string& client_id) {
  model::ConsumerConnection c;
  c.connection_set.push_back({client_id, "10.0.0.9:5000", "JAVA", 453});
  model::SubscriptionData sub;
  sub.topic = "T";
  sub.sub_string = "TagA";
  sub.tags_set = {"TagA"};
  c.subscription_table["T"] = sub;
  return model::EncodeConsumerConnection(c);
}

TEST_F(FerryctlTest, TopicDeleteRefusesWhileConsumedOrProducedUnlessForced) {
  broker_.On(rq::kQueryTopicConsumeByWho,
             [](const RemotingCommand&) { return Reply(rc::kSuccess, R"({"groupList":["cg"]})"); });
  broker_.On(rq::kGetConsumerConnectionList,
             [](const RemotingCommand&) { return Reply(rc::kSuccess, OnlineGroupBody("c1@host")); });
  for (int32_t code : {rq::kDeleteTopicInBroker}) {
    broker_.On(code, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  }
  namesrv_.On(rq::kDeleteTopicInNamesrv, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  auto r = Ctl({"topic", "delete", "T"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("topic T is consuming by consumer group cg (1 client(s) online: c1@host)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(broker_.Count(rq::kDeleteTopicInBroker), 0u);

  // No consumer, but messages stored in the last minute: producers are online.
  broker_.On(rq::kGetConsumerConnectionList,
             [](const RemotingCommand&) { return Reply(rc::kConsumerNotOnline, "", {}, "not online"); });
  broker_.On(rq::kViewBrokerStatsData, [](const RemotingCommand& req) {
    EXPECT_EQ(req.ext_fields.at("statsName"), "TOPIC_PUT_NUMS");
    return Reply(
        rc::kSuccess,
        R"({"statsMinute":{"sum":7,"tps":0.1,"avgpt":0.0},"statsHour":{"sum":7},"statsDay":{"sum":7}})");
  });
  r = Ctl({"topic", "delete", "T"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("topic T is producing by online producers (7 message(s) stored in the last minute)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(broker_.Count(rq::kDeleteTopicInBroker), 0u);

  r = Ctl({"topic", "delete", "T", "--force"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(broker_.Count(rq::kDeleteTopicInBroker), 1u);
}

TEST_F(FerryctlTest, GroupCreateDeleteAndReset) {
  broker_.On(rq::kUpdateAndCreateSubscriptionGroup,
             [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  auto c = Ctl({"group", "create", "cg", "--retry-max-times", "3", "--broadcast-enable", "false"});
  ASSERT_EQ(c.code, kExitOk) << c.err;
  auto creates = broker_.Requests(rq::kUpdateAndCreateSubscriptionGroup);
  ASSERT_EQ(creates.size(), 1u);
  auto cfg = model::DecodeSubscriptionGroupConfig(creates[0].body);
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->group_name, "cg");
  EXPECT_EQ(cfg->retry_max_times, 3);
  EXPECT_FALSE(cfg->consume_broadcast_enable);
  EXPECT_TRUE(cfg->consume_enable);

  // Delete: refused while a consumer is online, unless --force.
  broker_.On(rq::kGetConsumerConnectionList,
             [](const RemotingCommand&) { return Reply(rc::kSuccess, OnlineGroupBody("c1@host")); });
  broker_.On(rq::kDeleteSubscriptionGroup, [](const RemotingCommand&) { return Reply(rc::kSuccess); });
  auto d = Ctl({"group", "delete", "cg"});
  EXPECT_EQ(d.code, kExitFailed);
  EXPECT_NE(d.err.find("group cg has 1 consumer(s) online (c1@host)"), std::string::npos) << d.err;
  EXPECT_EQ(broker_.Count(rq::kDeleteSubscriptionGroup), 0u);
  d = Ctl({"group", "delete", "cg", "--force", "--remove-offsets"});
  ASSERT_EQ(d.code, kExitOk) << d.err;
  auto deletes = broker_.Requests(rq::kDeleteSubscriptionGroup);
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].ext_fields.at("groupName"), "cg");
  EXPECT_EQ(deletes[0].ext_fields.at("removeOffset"), "true");

  // Reset: the time is sent in milliseconds, forced (mqadmin resetOffsetByTime's default).
  broker_.On(rq::kInvokeBrokerToResetOffset, [](const RemotingCommand&) {
    return Reply(rc::kSuccess, R"({"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:5}})");
  });
  auto r = Ctl({"group", "reset", "cg", "-t", "T", "--to", "2026-12-04T10:00:00.250+01:00"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("1 online client(s) told: c1@host"), std::string::npos) << r.out;
  auto resets = broker_.Requests(rq::kInvokeBrokerToResetOffset);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].ext_fields.at("timestamp"), "1796374800250");
  EXPECT_EQ(resets[0].ext_fields.at("isForce"), "true");
  EXPECT_EQ(resets[0].ext_fields.at("group"), "cg");
  ASSERT_EQ(Ctl({"group", "reset", "cg", "-t", "T", "--to", "latest"}).code, kExitOk);
  EXPECT_EQ(broker_.Requests(rq::kInvokeBrokerToResetOffset)[1].ext_fields.at("timestamp"), "-1");
  ASSERT_EQ(Ctl({"group", "reset", "cg", "-t", "T", "--to", "earliest"}).code, kExitOk);
  EXPECT_EQ(broker_.Requests(rq::kInvokeBrokerToResetOffset)[2].ext_fields.at("timestamp"), "0");
}

TEST_F(FerryctlTest, MessageQueryByOffsetShowsTheGroupsConsumeState) {
  broker_.On(rq::kPullMessage, [this](const RemotingCommand& req) {
    const int64_t offset = std::stoll(req.ext_fields.at("queueOffset"));
    if (offset > 6) {
      return Reply(
          rc::kPullOffsetMoved, "",
          {{"suggestWhichBrokerId", "0"}, {"nextBeginOffset", "7"}, {"minOffset", "0"}, {"maxOffset", "7"}});
    }
    return Reply(rc::kSuccess, Record(offset, "b" + std::to_string(offset)),
                 {{"suggestWhichBrokerId", "0"},
                  {"nextBeginOffset", std::to_string(offset + 1)},
                  {"minOffset", "0"},
                  {"maxOffset", "7"}});
  });
  broker_.On(rq::kGetConsumeStats, [](const RemotingCommand&) {
    return Reply(
        rc::kSuccess,
        R"({"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":7,"consumerOffset":4,"lastTimestamp":0}}})");
  });
  broker_.On(rq::kGetConsumerConnectionList,
             [](const RemotingCommand&) { return Reply(rc::kConsumerNotOnline, "", {}, "not online"); });
  auto r = Ctl(
      {"message", "query", "-t", "T", "--broker", "broker-a", "--queue", "1", "--offset", "3", "-g", "cg"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("offset=3 msgId=ID3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("group=cg state=CONSUMED"), std::string::npos) << r.out;
  r = Ctl(
      {"message", "query", "-t", "T", "--broker", "broker-a", "--queue", "1", "--offset", "5", "-g", "cg"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("state=NOT_ONLINE"), std::string::npos) << r.out;
  // Online with a subscription to TagA: a consumed "tg" message was filtered out.
  broker_.On(rq::kGetConsumerConnectionList,
             [](const RemotingCommand&) { return Reply(rc::kSuccess, OnlineGroupBody("c1@host")); });
  r = Ctl({"-o", "json", "message", "query", "-t", "T", "--broker", "broker-a", "--queue", "1", "--offset",
           "2", "-g", "cg"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["consumeState"]["state"], "CONSUMED_BUT_FILTERED");
  r = Ctl(
      {"message", "query", "-t", "T", "--broker", "broker-a", "--queue", "1", "--offset", "6", "-g", "cg"});
  EXPECT_NE(r.out.find("state=NOT_CONSUME_YET"), std::string::npos) << r.out;
  // Past the end: a clear miss.
  r = Ctl({"message", "query", "-t", "T", "--broker", "broker-a", "--queue", "1", "--offset", "9"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_NE(r.err.find("no message at T broker-a:1 offset 9 (the queue holds offsets 0 to 6)"),
            std::string::npos)
      << r.err;
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
