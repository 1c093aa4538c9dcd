// The broker as clients see it: a name server and a BrokerController in this process (in-memory file system,
// real sockets), driven by raw remoting requests as the Java client sends them.

#include "broker/server/broker_controller.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "broker/base/coding.h"
#include "broker/io/memory_file_system.h"
#include "broker/model/admin_body.h"
#include "broker/model/message.h"
#include "broker/namesrv/name_server.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
namespace psf = protocol::pull_sys_flag;
using protocol::RemotingCommand;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Splits a pull or query body into its records.
std::vector<model::StoredMessage> Records(const std::string& body) {
  std::vector<model::StoredMessage> out;
  auto bytes = AsBytes(body);
  size_t pos = 0;
  while (pos + 4 <= bytes.size()) {
    auto m = model::DecodeStoredMessage(bytes.subspan(pos), /*check_crc=*/true);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) break;
    ByteReader r(bytes.subspan(pos, 4));
    int32_t size = 0;
    r.ReadI32(&size);
    pos += static_cast<size_t>(size);
    out.push_back(std::move(*m));
  }
  return out;
}

class BrokerControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = std::make_unique<namesrv::NameServer>(
        namesrv::NameServerConfig{.listen_host = "127.0.0.1", .listen_port = 0, .kv_config_path = ""}, fs_,
        SystemClock());
    ASSERT_TRUE(ns_->Start().ok());
    ns_addr_ = "127.0.0.1:" + std::to_string(ns_->port());
    StartBroker();
    ASSERT_TRUE(client_.Start().ok());
  }
  void TearDown() override {
    client_.Stop();
    other_.Stop();
    if (broker_) broker_->Stop();
    ns_->Stop();
  }

  void StartBroker() {
    BrokerConfig bc = testing::TestBrokerConfig(ns_addr_);
    bc.enable_property_filter = enable_property_filter_;
    store::MessageStoreConfig sc = testing::TestStoreConfig("C1", "b1");
    broker_ = std::make_unique<BrokerController>(bc, sc, fs_, SystemClock());
    ASSERT_TRUE(broker_->Start().ok());
    addr_ = broker_->address();
  }

  RemotingCommand Call(int32_t code, std::map<std::string, std::string> ext, std::string body = "",
                       net::RemotingClient* via = nullptr) {
    return testing::Call(via ? *via : client_, addr_, code, std::move(ext), std::move(body));
  }

  RemotingCommand CreateTopic(const std::string& topic, int queues) {
    return Call(rq::kUpdateAndCreateTopic, {{"topic", topic},
                                            {"defaultTopic", "TBW102"},
                                            {"readQueueNums", std::to_string(queues)},
                                            {"writeQueueNums", std::to_string(queues)},
                                            {"perm", "6"},
                                            {"topicFilterType", "SINGLE_TAG"},
                                            {"order", "false"}});
  }

  RemotingCommand Send(const std::string& topic, int queue, const std::string& body,
                       const std::string& tags = "", const std::string& keys = "") {
    std::map<std::string, std::string> props;
    if (!tags.empty()) props["TAGS"] = tags;
    if (!keys.empty()) props["KEYS"] = keys;
    return SendWithProperties(topic, queue, body, props);
  }
  RemotingCommand SendWithProperties(const std::string& topic, int queue, const std::string& body,
                                     const std::map<std::string, std::string>& props) {
    protocol::SendMessageRequestHeader h = testing::SendHeader(topic, queue, props);
    std::map<std::string, std::string> ext;
    protocol::SendMessageRequestHeader::V1().Encode(h, &ext);
    return Call(rq::kSendMessage, ext, body);
  }

  std::map<std::string, std::string> PullExt(const std::string& group, const std::string& topic, int queue,
                                             int64_t offset, int32_t flags, int64_t suspend_ms = 15000,
                                             const std::string& sub = "*") {
    std::map<std::string, std::string> ext = {{"consumerGroup", group},
                                              {"topic", topic},
                                              {"queueId", std::to_string(queue)},
                                              {"queueOffset", std::to_string(offset)},
                                              {"maxMsgNums", "32"},
                                              {"sysFlag", std::to_string(flags)},
                                              {"commitOffset", "0"},
                                              {"suspendTimeoutMillis", std::to_string(suspend_ms)},
                                              {"subVersion", "0"}};
    if (flags & psf::kSubscription) ext["subscription"] = sub;
    return ext;
  }

  std::string Heartbeat(const std::string& client_id, const std::string& group, const std::string& topic,
                        const std::string& sub = "*", const std::string& type = "TAG") {
    model::HeartbeatData hb;
    hb.client_id = client_id;
    model::ConsumerData cd;
    cd.group_name = group;
    model::SubscriptionData s;
    s.topic = topic;
    s.sub_string = sub;
    s.expression_type = type;
    s.sub_version = 1;
    cd.subscriptions.push_back(s);
    hb.consumers.push_back(cd);
    hb.producer_groups.push_back("pg");
    return model::EncodeHeartbeat(hb);
  }

  bool enable_property_filter_ = true;
  io::MemoryFileSystem fs_;
  std::unique_ptr<namesrv::NameServer> ns_;
  std::unique_ptr<BrokerController> broker_;
  std::string ns_addr_, addr_;
  net::RemotingClient client_, other_;
};

TEST_F(BrokerControllerTest, CreatedTopicReachesTheNameServerRoute) {
  ASSERT_EQ(CreateTopic("Orders", 4).code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] { return ns_->routes().PickupTopicRouteData("Orders").has_value(); }));
  auto route = ns_->routes().PickupTopicRouteData("Orders");
  EXPECT_EQ(route->queue_datas.at(0).write_queue_nums, 4);
  EXPECT_EQ(route->broker_datas.at(0).broker_addrs.at(0), addr_);
  auto all = Call(rq::kGetAllTopicConfig, {});
  auto wrapper = model::DecodeTopicConfigWrapper(all.body);
  ASSERT_TRUE(wrapper.ok());
  EXPECT_TRUE(wrapper->topic_config_table.count("Orders"));
  // Reserved and invalid names are refused.
  EXPECT_EQ(CreateTopic("TBW102", 4).code, rc::kSystemError);
  EXPECT_EQ(CreateTopic("bad topic", 4).code, rc::kSystemError);
  EXPECT_EQ(CreateTopic("Zero", 0).code, rc::kSystemError);
}

TEST_F(BrokerControllerTest, ATopicAutoCreatedBySendingReachesTheNameServerAtOnce) {
  ASSERT_EQ(Send("Fresh", 0, "first").code, rc::kSuccess);
  // Well before the 30 s registration period.
  EXPECT_TRUE(WaitFor([&] { return ns_->routes().PickupTopicRouteData("Fresh").has_value(); },
                      std::chrono::seconds(5)));
}

TEST_F(BrokerControllerTest, ParkedPullIsAnsweredWhenAMessageArrives) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  std::atomic<bool> done{false};
  Result<RemotingCommand> got = Status::Unavailable("pending");
  RemotingCommand req = RemotingCommand::Request(rq::kPullMessage, 0);
  req.ext_fields = PullExt("g", "T", 0, 0, psf::kSuspend | psf::kSubscription);
  client_.InvokeAsync(addr_, req, std::chrono::seconds(20), [&](Result<RemotingCommand> r) {
    got = std::move(r);
    done = true;
  });
  // Nothing to read: the pull waits instead of answering.
  EXPECT_FALSE(WaitFor([&] { return done.load(); }, std::chrono::milliseconds(300)));
  ASSERT_EQ(Send("T", 0, "hello", "TagA").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] { return done.load(); }));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->code, rc::kSuccess) << got->remark.value_or("");
  auto recs = Records(got->body);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].body, "hello");
  EXPECT_EQ(got->ext_fields.at("nextBeginOffset"), "1");
  EXPECT_EQ(got->ext_fields.at("maxOffset"), "1");
}

TEST_F(BrokerControllerTest, ParkedPullEndsWithNotFoundAfterItsHoldTime) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  const auto start = std::chrono::steady_clock::now();
  auto resp = Call(rq::kPullMessage, PullExt("g", "T", 0, 0, psf::kSuspend | psf::kSubscription, 400));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(350));
  EXPECT_EQ(resp.code, rc::kPullNotFound);
  EXPECT_EQ(resp.ext_fields.at("nextBeginOffset"), "0");
  // Without the suspend flag the answer is immediate.
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("g", "T", 0, 0, psf::kSubscription)).code, rc::kPullNotFound);
}

TEST_F(BrokerControllerTest, PullFiltersByTagHashAndSkipsPastFilteredEntries) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  ASSERT_EQ(Send("T", 0, "b1", "TagB").code, rc::kSuccess);
  ASSERT_EQ(Send("T", 0, "b2", "TagB").code, rc::kSuccess);
  ASSERT_EQ(Send("T", 0, "a1", "TagA").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"] == "3";
  }));
  auto resp = Call(rq::kPullMessage, PullExt("g", "T", 0, 0, psf::kSubscription, 0, "TagA"));
  ASSERT_EQ(resp.code, rc::kSuccess);
  auto recs = Records(resp.body);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].body, "a1");
  EXPECT_EQ(resp.ext_fields.at("nextBeginOffset"), "3");
  auto none = Call(rq::kPullMessage, PullExt("g", "T", 0, 0, psf::kSubscription, 0, "TagC"));
  EXPECT_EQ(none.code, rc::kPullRetryImmediately);
  EXPECT_EQ(none.ext_fields.at("nextBeginOffset"), "3");
}

TEST_F(BrokerControllerTest, PullFiltersBySql92OnProperties) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  ASSERT_EQ(SendWithProperties("T", 0, "cheap", {{"price", "10"}}).code, rc::kSuccess);
  ASSERT_EQ(SendWithProperties("T", 0, "dear", {{"price", "30"}, {"regionId", "eu"}}).code, rc::kSuccess);
  ASSERT_EQ(SendWithProperties("T", 0, "odd", {{"price", "x"}}).code,
            rc::kSuccess);                             // error: never delivered
  ASSERT_EQ(Send("T", 0, "none").code, rc::kSuccess);  // null: never delivered
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"] == "4";
  }));
  auto sql = [&](const std::string& expr, int32_t flags = psf::kSubscription) {
    auto ext = PullExt("g", "T", 0, 0, flags, 0, expr);
    ext["expressionType"] = "SQL92";
    return Call(rq::kPullMessage, ext);
  };
  // The selector in the request (C++ clients; postSubscriptionWhenPull).
  auto resp = sql("price > 20");
  ASSERT_EQ(resp.code, rc::kSuccess);
  auto recs = Records(resp.body);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].body, "dear");
  EXPECT_EQ(resp.ext_fields.at("nextBeginOffset"), "4");
  EXPECT_EQ(sql("price > 100").code, rc::kPullRetryImmediately);
  EXPECT_EQ(Records(sql("regionId IS NULL AND price BETWEEN 5 AND 15").body).size(), 1u);
  EXPECT_EQ(sql("price >").code, rc::kSubscriptionParseFailed);
  // The selector from the heartbeat (Java and Go push consumers).
  auto hb = Call(rq::kHeartBeat, {}, Heartbeat("c1", "g", "T", "regionId IN ('eu', 'us')", "SQL92"));
  ASSERT_EQ(hb.code, rc::kSuccess);
  auto registered = Call(rq::kPullMessage, PullExt("g", "T", 0, 0, 0, 0));
  ASSERT_EQ(registered.code, rc::kSuccess);
  ASSERT_EQ(Records(registered.body).size(), 1u);
  EXPECT_EQ(Records(registered.body)[0].body, "dear");
  // A heartbeat selector that does not compile leaves no filter data, as in RocketMQ.
  ASSERT_EQ(Call(rq::kHeartBeat, {}, Heartbeat("c2", "g2", "T", "price > 'x'", "SQL92")).code, rc::kSuccess);
  auto broken = Call(rq::kPullMessage, PullExt("g2", "T", 0, 0, 0, 0));
  EXPECT_EQ(broken.code, rc::kFilterDataNotExist);
  EXPECT_EQ(broken.remark.value_or(""),
            "The broker's consumer filter data is not exist!Your expression may be wrong!");
}

TEST_F(BrokerControllerTest, CheckClientConfigCompilesSql92AsApacheAnswersIt) {
  auto check = [&](const std::string& type, const std::string& expr) {
    nlohmann::json body = {
        {"clientId", "c1"},
        {"group", "g"},
        {"subscriptionData", {{"topic", "T"}, {"subString", expr}, {"expressionType", type}}}};
    return Call(rq::kCheckClientConfig, {}, body.dump());
  };
  EXPECT_EQ(check("TAG", "TagA || TagB").code, rc::kSuccess);
  EXPECT_EQ(check("SQL92", "a > 1 AND b IN ('x')").code, rc::kSuccess);
  auto bad = check("SQL92", "a > 'x'");
  EXPECT_EQ(bad.code, rc::kSubscriptionParseFailed);
  EXPECT_EQ(bad.remark.value_or(""), "java.lang.RuntimeException: Value ''x'' cannot be compared.");
  EXPECT_EQ(check("SQL92", "a !").code, rc::kSubscriptionParseFailed);
  EXPECT_EQ(check("CLASS", "x").code, rc::kSubscriptionParseFailed);

  // enablePropertyFilter=false: refused with RocketMQ's remark, at start and on pulls.
  broker_->Stop();
  enable_property_filter_ = false;
  StartBroker();
  auto off = check("SQL92", "a > 1");
  EXPECT_EQ(off.code, rc::kSystemError);
  EXPECT_EQ(off.remark.value_or(""), "The broker does not support consumer to filter message by SQL92");
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  auto ext = PullExt("g", "T", 0, 0, psf::kSubscription, 0, "a > 1");
  ext["expressionType"] = "SQL92";
  EXPECT_EQ(Call(rq::kPullMessage, ext).code, rc::kSystemError);
}

TEST_F(BrokerControllerTest, ResetOffsetRewritesAnOfflineGroupByTimeAndSkipsTheBacklog) {
  ASSERT_EQ(CreateTopic("T", 2).code, rc::kSuccess);
  auto store_time = [&](int64_t offset) {
    auto p = Call(rq::kPullMessage, PullExt("probe", "T", 0, offset, psf::kSubscription, 0));
    auto recs = Records(p.body);
    return recs.empty() ? int64_t{-1} : recs[0].store_timestamp;
  };
  ASSERT_EQ(Send("T", 0, "old").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] { return store_time(0) > 0; }));
  const int64_t old_time = store_time(0);
  // The next messages are stored strictly later than `old`.
  ASSERT_TRUE(WaitFor([&] { return SystemClock().NowMillis() > old_time; }));
  ASSERT_EQ(Send("T", 0, "new1").code, rc::kSuccess);
  ASSERT_EQ(Send("T", 0, "new2").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"] == "3";
  }));
  auto reset = [&](const std::string& group, int64_t ts, bool force) {
    return Call(rq::kInvokeBrokerToResetOffset, {{"topic", "T"},
                                                 {"group", group},
                                                 {"timestamp", std::to_string(ts)},
                                                 {"isForce", force ? "true" : "false"}});
  };
  auto offset_of = [&](const std::string& group, int q) {
    return Call(rq::kQueryConsumerOffset,
                {{"consumerGroup", group}, {"topic", "T"}, {"queueId", std::to_string(q)}})
        .ext_fields["offset"];
  };
  // A group nobody runs and that never committed: nothing to reset.
  auto none = reset("ghost", old_time + 1, true);
  EXPECT_EQ(none.code, rc::kSystemError);
  EXPECT_NE(none.remark.value_or("").find("not exist"), std::string::npos);

  // An offline group that consumed everything: back to the first message stored at or after the time.
  auto commit = PullExt("g", "T", 0, 0, psf::kSubscription | psf::kCommitOffset, 0);
  commit["commitOffset"] = "3";
  Call(rq::kPullMessage, commit);
  ASSERT_EQ(offset_of("g", 0), "3");
  auto back = reset("g", old_time + 1, true);
  ASSERT_EQ(back.code, rc::kSuccess) << back.remark.value_or("");
  auto table = model::DecodeResetOffsetBody(back.body);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->at({"T", "b1", 0}), 1);  // new1 and new2 are redelivered, old is not
  EXPECT_EQ(table->at({"T", "b1", 1}), 0);  // an empty queue
  EXPECT_EQ(offset_of("g", 0), "1");
  // Not forced: offsets only move back.
  EXPECT_EQ(model::DecodeResetOffsetBody(reset("g", -1, false).body)->at({"T", "b1", 0}), 1);
  // Timestamp -1 (skipAccumulatedMessage) and a time in the future skip the whole backlog.
  EXPECT_EQ(model::DecodeResetOffsetBody(reset("g", -1, true).body)->at({"T", "b1", 0}), 3);
  EXPECT_EQ(offset_of("g", 0), "3");
  ASSERT_EQ(reset("g", 0, true).code, rc::kSuccess);
  EXPECT_EQ(offset_of("g", 0), "0");
  ASSERT_EQ(reset("g", SystemClock().NowMillis() + 3'600'000, true).code, rc::kSuccess);
  EXPECT_EQ(offset_of("g", 0), "3");
  // Unknown topic: Apache's remark.
  auto unknown = Call(rq::kInvokeBrokerToResetOffset,
                      {{"topic", "Nope"}, {"group", "g"}, {"timestamp", "0"}, {"isForce", "true"}});
  EXPECT_EQ(unknown.code, rc::kSystemError);
  EXPECT_EQ(unknown.remark.value_or(""),
            "[reset-offset] reset offset failed, no topic in this broker. topic=Nope");
}

TEST_F(BrokerControllerTest, ResetOffsetTellsEveryOnlineConsumer) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  ASSERT_EQ(Send("T", 0, "m").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"] == "1";
  }));
  std::mutex mu;
  std::vector<RemotingCommand> told;
  client_.SetRequestHandler([&](RemotingCommand req, net::Responder) {
    if (req.code != rq::kResetConsumerClientOffset) return;
    std::lock_guard lock(mu);
    told.push_back(std::move(req));
  });
  ASSERT_EQ(Call(rq::kHeartBeat, {}, Heartbeat("10.0.0.1@1", "cg", "T")).code, rc::kSuccess);
  auto resp = Call(rq::kInvokeBrokerToResetOffset,
                   {{"topic", "T"}, {"group", "cg"}, {"timestamp", "0"}, {"isForce", "true"}});
  ASSERT_EQ(resp.code, rc::kSuccess) << resp.remark.value_or("");
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return !told.empty();
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(told[0].ext_fields.at("group"), "cg");
  EXPECT_EQ(told[0].ext_fields.at("topic"), "T");
  auto table = model::DecodeResetOffsetBody(told[0].body);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->at({"T", "b1", 0}), 0);
}

TEST_F(BrokerControllerTest, BrokerConfigIsReadAndItsLiveKeysChangeAtOnce) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  auto get = Call(rq::kGetBrokerConfig, {});
  ASSERT_EQ(get.code, rc::kSuccess);
  EXPECT_NE(get.body.find("\nmaxMessageSize="), std::string::npos) << get.body;
  EXPECT_NE(get.body.find("brokerName=b1\n"), std::string::npos);
  EXPECT_NE(get.body.find("fileReservedTime=72\n"), std::string::npos);
  EXPECT_TRUE(get.ext_fields.count("version"));
  // Applied at once: a body above the new limit is refused.
  ASSERT_EQ(Call(rq::kUpdateBrokerConfig, {}, "maxMessageSize=1024\nfileReservedTime=24\n").code,
            rc::kSuccess);
  auto big = Send("T", 0, std::string(2000, 'x'));
  EXPECT_EQ(big.code, rc::kMessageIllegal);
  EXPECT_NE(big.remark.value_or("").find("above maxMessageSize 1024"), std::string::npos);
  EXPECT_EQ(Send("T", 0, std::string(1000, 'x')).code, rc::kSuccess);
  get = Call(rq::kGetBrokerConfig, {});
  EXPECT_NE(get.body.find("maxMessageSize=1024\n"), std::string::npos);
  EXPECT_NE(get.body.find("fileReservedTime=24\n"), std::string::npos);
  // Keys FerryMQ cannot change live, and values it cannot take, are refused and change nothing.
  auto other = Call(rq::kUpdateBrokerConfig, {}, "maxMessageSize=2048\nbrokerName=x\n");
  EXPECT_EQ(other.code, rc::kSystemError);
  EXPECT_NE(other.remark.value_or("").find("brokerName cannot be changed while the broker runs"),
            std::string::npos);
  EXPECT_EQ(Call(rq::kUpdateBrokerConfig, {}, "maxMessageSize=zero").code, rc::kSystemError);
  EXPECT_EQ(Call(rq::kUpdateBrokerConfig, {}, "fileReservedTime=0").code, rc::kSystemError);
  EXPECT_NE(Call(rq::kGetBrokerConfig, {}).body.find("maxMessageSize=1024\n"), std::string::npos);
}

TEST_F(BrokerControllerTest, AReadOnlyBrokerRefusesSendsButServesPullsAndReportsWhatIsNotConsumedYet) {
  ASSERT_EQ(CreateTopic("T", 2).code, rc::kSuccess);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send("T", 0, "m" + std::to_string(i)).code, rc::kSuccess);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send("T", 1, "n" + std::to_string(i)).code, rc::kSuccess);
  auto runtime = [&] {
    auto kv = model::DecodeKvTable(Call(rq::kGetBrokerRuntimeInfo, {}).body);
    EXPECT_TRUE(kv.ok());
    return kv.ok() ? *kv : std::map<std::string, std::string>{};
  };
  ASSERT_TRUE(WaitFor([&] { return runtime()["backlogMessages"] == "5"; }));  // once dispatched
  EXPECT_EQ(runtime()["backlogTopics"], "T:5");
  EXPECT_EQ(runtime()["brokerPermission"], "6");
  // A group consumed 2 of queue 0 and nothing of queue 1: 1 + 2 left.
  ASSERT_EQ(Call(rq::kUpdateConsumerOffset,
                 {{"consumerGroup", "g"}, {"topic", "T"}, {"queueId", "0"}, {"commitOffset", "2"}})
                .code,
            rc::kSuccess);
  EXPECT_EQ(runtime()["backlogMessages"], "3");

  ASSERT_EQ(Call(rq::kUpdateBrokerConfig, {}, "brokerPermission=4\n").code, rc::kSuccess);
  EXPECT_EQ(runtime()["brokerPermission"], "4");
  auto refused = Send("T", 0, "late");
  EXPECT_EQ(refused.code, rc::kNoPermission);
  EXPECT_EQ(refused.remark.value_or(""), "the broker[b1] sending message is forbidden");
  EXPECT_EQ(Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"], "3");
  // A consumer's send-back is refused too (the client then resends through a writable broker).
  auto back = Call(
      rq::kConsumerSendMsgBack,
      {{"group", "g"}, {"offset", "0"}, {"delayLevel", "0"}, {"originMsgId", "x"}, {"originTopic", "T"}});
  EXPECT_EQ(back.code, rc::kNoPermission);
  // Pulls still serve the backlog, and the name servers route the topic read-only at once.
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("g", "T", 0, 2, psf::kSubscription)).code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    auto route = ns_->routes().PickupTopicRouteData("T");
    return route && !route->queue_datas.empty() && route->queue_datas[0].perm == model::perm::kRead;
  }));
  // Refused values change nothing; the permission comes back.
  EXPECT_EQ(Call(rq::kUpdateBrokerConfig, {}, "brokerPermission=99\n").code, rc::kSystemError);
  EXPECT_EQ(runtime()["brokerPermission"], "4");
  ASSERT_EQ(Call(rq::kUpdateBrokerConfig, {}, "brokerPermission=6\n").code, rc::kSuccess);
  EXPECT_EQ(Send("T", 0, "again").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    auto route = ns_->routes().PickupTopicRouteData("T");
    return route && !route->queue_datas.empty() && route->queue_datas[0].perm == 6;
  }));
}

TEST_F(BrokerControllerTest, ConsumeDirectlyAndRunningInfoAreForwardedToTheClient) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  auto sent = Send("T", 0, "again");
  ASSERT_EQ(sent.code, rc::kSuccess);
  const std::string offset_id = sent.ext_fields.at("msgId");
  std::mutex mu;
  std::string seen_body;
  client_.SetRequestHandler([&](RemotingCommand req, net::Responder responder) {
    if (req.code == rq::kConsumeMessageDirectly) {
      auto m = model::DecodeStoredMessage(AsBytes(req.body), true);
      std::lock_guard lock(mu);
      seen_body = m.ok() ? m->body : "undecodable";
      RemotingCommand ok = RemotingCommand::Answer(rc::kSuccess);
      ok.body = "{\"consumeResult\":\"CR_SUCCESS\"}";
      responder.Send(std::move(ok));
    } else if (req.code == rq::kGetConsumerRunningInfo) {
      RemotingCommand ok = RemotingCommand::Answer(rc::kSuccess);
      ok.body = "{\"properties\":{}}";
      responder.Send(std::move(ok));
    }
  });
  ASSERT_EQ(Call(rq::kHeartBeat, {}, Heartbeat("10.0.0.1@1", "cg", "T")).code, rc::kSuccess);
  auto direct = Call(rq::kConsumeMessageDirectly,
                     {{"consumerGroup", "cg"}, {"clientId", "10.0.0.1@1"}, {"msgId", offset_id}});
  ASSERT_EQ(direct.code, rc::kSuccess) << direct.remark.value_or("");
  EXPECT_EQ(direct.body, "{\"consumeResult\":\"CR_SUCCESS\"}");
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen_body, "again");
  }
  auto info = Call(rq::kGetConsumerRunningInfo, {{"consumerGroup", "cg"}, {"clientId", "10.0.0.1@1"}});
  EXPECT_EQ(info.code, rc::kSuccess);
  EXPECT_EQ(info.body, "{\"properties\":{}}");
  auto offline = Call(rq::kGetConsumerRunningInfo, {{"consumerGroup", "cg"}, {"clientId", "nobody"}});
  EXPECT_EQ(offline.code, rc::kSystemError);
  EXPECT_EQ(offline.remark.value_or(""), "The Consumer <cg> <nobody> not online");
}

TEST_F(BrokerControllerTest, BrokerStatsDataCountsPutsPerTopicAndGetsPerGroup) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send("T", 0, "m").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"] == "3";
  }));
  ASSERT_EQ(Records(Call(rq::kPullMessage, PullExt("g", "T", 0, 0, psf::kSubscription, 0)).body).size(), 3u);
  auto stats = [&](const std::string& name, const std::string& key) {
    return Call(rq::kViewBrokerStatsData, {{"statsName", name}, {"statsKey", key}});
  };
  auto put = stats("TOPIC_PUT_NUMS", "T");
  ASSERT_EQ(put.code, rc::kSuccess) << put.remark.value_or("");
  auto pj = nlohmann::json::parse(put.body);
  EXPECT_EQ(pj["statsMinute"]["sum"], 3);
  EXPECT_EQ(pj["statsDay"]["sum"], 3);
  auto get = stats("GROUP_GET_NUMS", "T@g");
  ASSERT_EQ(get.code, rc::kSuccess);
  EXPECT_EQ(nlohmann::json::parse(get.body)["statsHour"]["sum"], 3);
  EXPECT_EQ(stats("GROUP_GET_NUMS", "T@other").remark.value_or(""),
            "The stats <GROUP_GET_NUMS> <T@other> not exist");
  EXPECT_EQ(stats("NOPE", "T").code, rc::kSystemError);
}

TEST_F(BrokerControllerTest, PullErrorsFollowTheJavaBroker) {
  ASSERT_EQ(CreateTopic("T", 2).code, rc::kSuccess);
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("g", "Nope", 0, 0, psf::kSubscription)).code, rc::kTopicNotExist);
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("g", "T", 5, 0, psf::kSubscription)).code, rc::kSystemError);
  // Without a subscription in the request, the group must have sent a heartbeat.
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("g", "T", 0, 0, 0)).code, rc::kSubscriptionNotExist);
  ASSERT_EQ(Send("T", 0, "x").code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "0"}}).ext_fields["offset"] == "1";
  }));
  auto moved = Call(rq::kPullMessage, PullExt("g", "T", 0, 7, psf::kSubscription));
  EXPECT_EQ(moved.code, rc::kPullOffsetMoved);
  // Past the end of a queue that still starts at 0: back to 0, as the Java store corrects it.
  EXPECT_EQ(moved.ext_fields.at("nextBeginOffset"), "0");
  auto bad = PullExt("g", "T", 0, 0, psf::kSubscription);
  bad.erase("queueOffset");
  EXPECT_EQ(Call(rq::kPullMessage, bad).code, rc::kSystemError);
}

TEST_F(BrokerControllerTest, PullCommitsTheOffsetItCarries) {
  ASSERT_EQ(CreateTopic("T", 1).code, rc::kSuccess);
  auto ext = PullExt("g", "T", 0, 0, psf::kSubscription | psf::kCommitOffset);
  ext["commitOffset"] = "42";
  Call(rq::kPullMessage, ext);
  auto q = Call(rq::kQueryConsumerOffset, {{"consumerGroup", "g"}, {"topic", "T"}, {"queueId", "0"}});
  EXPECT_EQ(q.code, rc::kSuccess);
  EXPECT_EQ(q.ext_fields.at("offset"), "42");
}

TEST_F(BrokerControllerTest, HeartbeatsRegisterConsumersAndChangesAreNotified) {
  ASSERT_EQ(CreateTopic("T", 4).code, rc::kSuccess);
  std::atomic<int> notified{0};
  client_.SetRequestHandler([&](RemotingCommand req, net::Responder) {
    if (req.code == rq::kNotifyConsumerIdsChanged && req.ext_fields["consumerGroup"] == "cg") ++notified;
  });
  ASSERT_EQ(Call(rq::kHeartBeat, {}, Heartbeat("10.0.0.1@1", "cg", "T")).code, rc::kSuccess);
  auto list = Call(rq::kGetConsumerListByGroup, {{"consumerGroup", "cg"}});
  ASSERT_EQ(list.code, rc::kSuccess);
  EXPECT_EQ(*model::DecodeConsumerIdList(list.body), std::vector<std::string>{"10.0.0.1@1"});
  // The retry topic was created and announced.
  ASSERT_TRUE(WaitFor([&] { return ns_->routes().PickupTopicRouteData("%RETRY%cg").has_value(); }));

  // A second member joins on another connection: the first is told to rebalance.
  ASSERT_TRUE(other_.Start().ok());
  const int before = notified.load();
  ASSERT_EQ(Call(rq::kHeartBeat, {}, Heartbeat("10.0.0.2@2", "cg", "T"), &other_).code, rc::kSuccess);
  EXPECT_TRUE(WaitFor([&] { return notified.load() > before; }));
  EXPECT_EQ(
      model::DecodeConsumerIdList(Call(rq::kGetConsumerListByGroup, {{"consumerGroup", "cg"}}).body)->size(),
      2u);
  // Now the pull needs no subscription in the request, and filters by the heartbeat's.
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("cg", "T", 0, 0, 0)).code, rc::kPullNotFound);

  auto conns = Call(rq::kGetConsumerConnectionList, {{"consumerGroup", "cg"}});
  ASSERT_EQ(conns.code, rc::kSuccess);
  auto cc = model::DecodeConsumerConnection(conns.body);
  ASSERT_TRUE(cc.ok());
  EXPECT_EQ(cc->connection_set.size(), 2u);
  EXPECT_TRUE(cc->subscription_table.count("T"));
  EXPECT_EQ(Call(rq::kGetProducerConnectionList, {{"producerGroup", "pg"}}).code, rc::kSuccess);
  EXPECT_EQ(Call(rq::kGetProducerConnectionList, {{"producerGroup", "nope"}}).code, rc::kSystemError);

  // The second member's connection closes: it leaves the group, and the first is told.
  const int before_close = notified.load();
  other_.Stop();
  EXPECT_TRUE(WaitFor([&] {
    return model::DecodeConsumerIdList(Call(rq::kGetConsumerListByGroup, {{"consumerGroup", "cg"}}).body)
               ->size() == 1u;
  }));
  EXPECT_TRUE(WaitFor([&] { return notified.load() > before_close; }));
  // Unregistering the last member leaves nobody.
  ASSERT_EQ(Call(rq::kUnregisterClient, {{"clientID", "10.0.0.1@1"}, {"consumerGroup", "cg"}}).code,
            rc::kSuccess);
  EXPECT_EQ(Call(rq::kGetConsumerListByGroup, {{"consumerGroup", "cg"}}).code, rc::kSystemError);
  EXPECT_EQ(Call(rq::kGetConsumerConnectionList, {{"consumerGroup", "cg"}}).code, rc::kConsumerNotOnline);
}

TEST_F(BrokerControllerTest, QueueLocksBelongToOneClientAtATime) {
  model::LockBatchRequest req;
  req.consumer_group = "og";
  req.client_id = "A";
  req.mq_set = {{"T", "b1", 0}, {"T", "b1", 1}};
  auto a = Call(rq::kLockBatchMq, {}, model::EncodeLockBatchRequest(req));
  EXPECT_EQ(model::DecodeLockBatchResponse(a.body)->size(), 2u);
  req.client_id = "B";
  auto b = Call(rq::kLockBatchMq, {}, model::EncodeLockBatchRequest(req));
  EXPECT_TRUE(model::DecodeLockBatchResponse(b.body)->empty());
  req.client_id = "A";
  req.mq_set = {{"T", "b1", 0}};
  EXPECT_EQ(Call(rq::kUnlockBatchMq, {}, model::EncodeLockBatchRequest(req)).code, rc::kSuccess);
  req.client_id = "B";
  req.mq_set = {{"T", "b1", 0}, {"T", "b1", 1}};
  auto b2 = Call(rq::kLockBatchMq, {}, model::EncodeLockBatchRequest(req));
  EXPECT_EQ(*model::DecodeLockBatchResponse(b2.body), (std::set<model::MessageQueue>{{"T", "b1", 0}}));
}

TEST_F(BrokerControllerTest, StatsRuntimeInfoAndMessageQueries) {
  ASSERT_EQ(CreateTopic("T", 2).code, rc::kSuccess);
  auto sent = Send("T", 1, "find me", "TagA", "order-17");
  ASSERT_EQ(sent.code, rc::kSuccess);
  ASSERT_TRUE(WaitFor([&] {
    return Call(rq::kGetMaxOffset, {{"topic", "T"}, {"queueId", "1"}}).ext_fields["offset"] == "1";
  }));
  auto stats = model::DecodeTopicStatsTable(Call(rq::kGetTopicStatsInfo, {{"topic", "T"}}).body);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ(stats->at({"T", "b1", 1}).max_offset, 1);
  EXPECT_GT(stats->at({"T", "b1", 1}).last_update_timestamp, 0);
  EXPECT_EQ(Call(rq::kGetTopicStatsInfo, {{"topic", "Nope"}}).code, rc::kTopicNotExist);

  ASSERT_EQ(Call(rq::kUpdateConsumerOffset,
                 {{"consumerGroup", "g"}, {"topic", "T"}, {"queueId", "1"}, {"commitOffset", "1"}})
                .code,
            rc::kSuccess);
  auto cs = model::DecodeConsumeStats(Call(rq::kGetConsumeStats, {{"consumerGroup", "g"}}).body);
  ASSERT_TRUE(cs.ok()) << cs.status();
  EXPECT_EQ(cs->offset_table.at({"T", "b1", 1}).broker_offset, 1);
  EXPECT_EQ(cs->offset_table.at({"T", "b1", 1}).consumer_offset, 1);

  auto kv = model::DecodeKvTable(Call(rq::kGetBrokerRuntimeInfo, {}).body);
  ASSERT_TRUE(kv.ok());
  // What mqadmin clusterList and brokerStatus read.
  for (const char* key :
       {"putTps", "getTransferedTps", "brokerVersionDesc", "msgPutTotalTodayNow", "msgGetTotalTodayNow",
        "msgPutTotalTodayMorning", "msgPutTotalYesterdayMorning", "commitLogMaxOffset",
        "earliestMessageTimeStamp", "commitLogDiskRatio", "sendThreadPoolQueueSize",
        "pullThreadPoolQueueSize", "pageCacheLockTimeMills", "runtime"}) {
    EXPECT_TRUE(kv->count(key)) << key;
  }
  EXPECT_EQ(kv->at("msgPutTotalTodayNow"), "1");
  // Every key apache/rocketmq-exporter's BrokerRuntimeStats parses (it fails on a table without one), in the
  // shape it parses: numbers, "<10s> <60s> <600s>" triples, "Total : X, Free : Y." and "[bucket]:count"
  // lists.
  auto number = [](const std::string& v) {
    char* end = nullptr;
    std::strtod(v.c_str(), &end);
    return !v.empty() && *end == '\0';
  };
  for (const char* key : {"msgPutTotalTodayNow",
                          "msgGetTotalTodayNow",
                          "msgPutTotalTodayMorning",
                          "msgGetTotalTodayMorning",
                          "msgPutTotalYesterdayMorning",
                          "msgGetTotalYesterdayMorning",
                          "sendThreadPoolQueueHeadWaitTimeMills",
                          "queryThreadPoolQueueHeadWaitTimeMills",
                          "pullThreadPoolQueueHeadWaitTimeMills",
                          "queryThreadPoolQueueSize",
                          "pullThreadPoolQueueSize",
                          "sendThreadPoolQueueSize",
                          "sendThreadPoolQueueCapacity",
                          "pullThreadPoolQueueCapacity",
                          "queryThreadPoolQueueCapacity",
                          "bootTimestamp",
                          "commitLogMinOffset",
                          "commitLogMaxOffset",
                          "dispatchMaxBuffer",
                          "brokerVersion",
                          "consumeQueueDiskRatio",
                          "commitLogDiskRatio",
                          "pageCacheLockTimeMills",
                          "getMessageEntireTimeMax",
                          "putMessageTimesTotal",
                          "putMessageEntireTimeMax",
                          "startAcceptSendRequestTimeStamp",
                          "earliestMessageTimeStamp",
                          "remainTransientStoreBufferNumbs",
                          "putMessageAverageSize",
                          "dispatchBehindBytes",
                          "putMessageSizeTotal",
                          "putLatency99",
                          "putLatency999"}) {
    ASSERT_TRUE(kv->count(key)) << key;
    EXPECT_TRUE(number(kv->at(key))) << key << "=" << kv->at(key);
  }
  for (const char* key : {"putTps", "getMissTps", "getTransferedTps", "getTotalTps", "getFoundTps"}) {
    ASSERT_TRUE(kv->count(key)) << key;
    std::istringstream in(kv->at(key));
    std::string a, b, c;
    in >> a >> b >> c;
    EXPECT_TRUE(number(a) && number(b) && number(c)) << key << "=" << kv->at(key);
  }
  // "Total : 10.0 GiB, Free : 5.0 GiB." as MixAll.humanReadableByteCount writes sizes; the exporter splits at
  // spaces and reads fields 2-3 and 6-7.
  std::istringstream cap(kv->at("commitLogDirCapacity"));
  std::vector<std::string> w{std::istream_iterator<std::string>(cap), std::istream_iterator<std::string>()};
  ASSERT_EQ(w.size(), 8u) << kv->at("commitLogDirCapacity");
  EXPECT_EQ(w[0] + w[1] + w[4] + w[5], "Total:Free:") << kv->at("commitLogDirCapacity");
  EXPECT_TRUE(number(w[2]) && number(w[6])) << kv->at("commitLogDirCapacity");
  EXPECT_TRUE(w[3].ends_with("B,") && w[7].ends_with("B.")) << kv->at("commitLogDirCapacity");
  const std::string flush = kv->at("remainHowManyDataToFlush");
  EXPECT_TRUE(number(flush.substr(0, flush.find(' '))) && flush.ends_with("B")) << flush;
  EXPECT_TRUE(kv->at("putMessageDistributeTime").starts_with("[<=0ms]:") &&
              kv->at("putMessageDistributeTime").find(" [0~10ms]:") != std::string::npos)
      << kv->at("putMessageDistributeTime");
  EXPECT_EQ(Call(rq::kPullMessage, PullExt("g", "T", 1, 0, psf::kSubscription)).code, rc::kSuccess);
  kv = model::DecodeKvTable(Call(rq::kGetBrokerRuntimeInfo, {}).body);
  EXPECT_EQ(kv->at("msgGetTotalTodayNow"), "1");

  // View by the offset message id the send returned, and query by key.
  auto id = model::DecodeOffsetMessageId(sent.ext_fields.at("msgId"));
  ASSERT_TRUE(id.ok());
  auto view = Call(rq::kViewMessageById, {{"offset", std::to_string(id->offset.value())}});
  ASSERT_EQ(view.code, rc::kSuccess);
  EXPECT_EQ(Records(view.body).at(0).body, "find me");
  EXPECT_EQ(Call(rq::kViewMessageById, {{"offset", "999999"}}).code, rc::kSystemError);
  auto q = Call(rq::kQueryMessage, {{"topic", "T"},
                                    {"key", "order-17"},
                                    {"maxNum", "10"},
                                    {"beginTimestamp", "0"},
                                    {"endTimestamp", std::to_string(INT64_MAX)}});
  ASSERT_EQ(q.code, rc::kSuccess) << q.remark.value_or("");
  EXPECT_EQ(Records(q.body).at(0).body, "find me");
  EXPECT_EQ(Call(rq::kQueryMessage, {{"topic", "T"},
                                     {"key", "nothing"},
                                     {"maxNum", "10"},
                                     {"beginTimestamp", "0"},
                                     {"endTimestamp", std::to_string(INT64_MAX)}})
                .code,
            rc::kQueryNotFound);
}

TEST_F(BrokerControllerTest, TopicsGroupsAndOffsetsSurviveARestart) {
  ASSERT_EQ(CreateTopic("Kept", 3).code, rc::kSuccess);
  model::SubscriptionGroupConfig g;
  g.group_name = "kept-group";
  g.retry_max_times = 3;
  ASSERT_EQ(Call(rq::kUpdateAndCreateSubscriptionGroup, {}, model::EncodeSubscriptionGroupConfig(g)).code,
            rc::kSuccess);
  ASSERT_EQ(
      Call(rq::kUpdateConsumerOffset,
           {{"consumerGroup", "kept-group"}, {"topic", "Kept"}, {"queueId", "2"}, {"commitOffset", "9"}})
          .code,
      rc::kSuccess);
  client_.Stop();
  broker_->Stop();
  StartBroker();
  ASSERT_TRUE(client_.Start().ok());
  auto topics = model::DecodeTopicConfigWrapper(Call(rq::kGetAllTopicConfig, {}).body);
  EXPECT_EQ(topics->topic_config_table.at("Kept").write_queue_nums, 3);
  auto groups = model::DecodeSubscriptionGroupWrapper(Call(rq::kGetAllSubscriptionGroupConfig, {}).body);
  EXPECT_EQ(groups->subscription_group_table.at("kept-group").retry_max_times, 3);
  auto q =
      Call(rq::kQueryConsumerOffset, {{"consumerGroup", "kept-group"}, {"topic", "Kept"}, {"queueId", "2"}});
  EXPECT_EQ(q.ext_fields["offset"], "9");
  // Deleting the group (with its offsets) and the topic.
  ASSERT_EQ(Call(rq::kDeleteSubscriptionGroup, {{"groupName", "kept-group"}, {"removeOffset", "true"}}).code,
            rc::kSuccess);
  EXPECT_EQ(Call(rq::kGetAllConsumerOffset, {}).body.find("kept-group"), std::string::npos);
  ASSERT_EQ(Call(rq::kDeleteTopicInBroker, {{"topic", "Kept"}}).code, rc::kSuccess);
  topics = model::DecodeTopicConfigWrapper(Call(rq::kGetAllTopicConfig, {}).body);
  EXPECT_FALSE(topics->topic_config_table.count("Kept"));
}

TEST_F(BrokerControllerTest, ASecondBrokerOnTheSamePortSaysSo) {
  BrokerConfig bc;
  bc.listen_host = "127.0.0.1";
  bc.listen_port = broker_->port();
  store::MessageStoreConfig sc = testing::TestStoreConfig("C1", "b2");
  sc.store_path_root_dir = "/store2";
  BrokerController second(bc, sc, fs_, SystemClock());
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("already in use"), std::string::npos) << s;
}

TEST_F(BrokerControllerTest, TheReplicationPortInUseIsAClearError) {
  BrokerConfig bc;
  bc.listen_host = "127.0.0.1";
  bc.listen_port = 0;
  bc.replication.ha_listen_port = broker_->ha_port();
  store::MessageStoreConfig sc = testing::TestStoreConfig("C1", "b3");
  sc.store_path_root_dir = "/store3";
  BrokerController second(bc, sc, fs_, SystemClock());
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("replication port " + std::to_string(broker_->ha_port()) +
                             " on 127.0.0.1 is already in use by another process: stop that process or set "
                             "haListenPort to a free port"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace fmq::server
