#include "broker/server/broker_metrics.h"

#include <unistd.h>

#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/io/memory_file_system.h"
#include "broker/model/heartbeat.h"
#include "broker/net/net_test_util.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/codes.h"
#include "broker/server/broker_controller.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

constexpr char kCommon[] = R"(cluster="C1",node_type="broker",node_id="b1")";

TEST(BrokerMetricsTest, MetricsLabelIsNameValuePairsOfPrometheusNames) {
  auto labels = ParseMetricsLabel(" env:prod , team:orders,");
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(*labels, (std::vector<std::pair<std::string, std::string>>{{"env", "prod"}, {"team", "orders"}}));
  EXPECT_EQ(ParseMetricsLabel("env").status().message(), "metricsLabel: 'env' is not name:value");
  EXPECT_NE(ParseMetricsLabel("1x:y").status().message().find("not a Prometheus label name"),
            std::string::npos);
  EXPECT_EQ(ParseMetricsLabel("topic:x").status().message(), "metricsLabel: 'topic' is set by the broker");
  // Every label a family carries is the broker's, and so are Prometheus's own: a metricsLabel repeating one
  // would make every scrape fail (the fuzz target found "le:1" aborting the broker at start).
  for (const char* taken : {"le", "quantile", "replica", "storage_type", "storage_medium", "nameserver",
                            "protocol_type", "request_code", "response_code", "is_long_polling", "result"}) {
    EXPECT_EQ(ParseMetricsLabel(std::string(taken) + ":x").status().message(),
              "metricsLabel: '" + std::string(taken) + "' is set by the broker");
  }
  EXPECT_EQ(ParseMetricsLabel("env:a,env:b").status().message(), "metricsLabel: 'env' is given twice");
  EXPECT_FALSE(ParseMetricsLabel("__name__:x").ok());
}

TEST(BrokerMetricsTest, LagCountsFromTheCommittedOffsetAndAgesTheOldestUnconsumedMessage) {
  LagInput in;
  in.consumed["orders"]["g1"] = {{0, 5}, {1, 10}};  // queue 1 caught up
  in.consumed["orders"]["g2"] = {{0, -1}};          // no offset yet: from the start
  in.max_offset = [](const std::string&, int32_t q) -> int64_t { return q == 0 ? 8 : 10; };
  in.store_time = [](const std::string&, int32_t, int64_t offset) -> std::optional<int64_t> {
    return 1'000 + offset * 100;  // message N stored at 1000 + 100 N
  };
  in.now_ms = 2'000;
  auto rows = ComputeLag(in);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].group, "g1");
  EXPECT_EQ(rows[0].messages, 3);
  EXPECT_EQ(rows[0].latency_ms, 2'000 - 1'500);
  EXPECT_EQ(rows[1].group, "g2");
  EXPECT_EQ(rows[1].messages, 8);
  EXPECT_EQ(rows[1].latency_ms, 1'000);
}

TEST(BrokerMetricsTest, RendersRocketMq5NamesWithCommonLabelsAndDropsGoneSeries) {
  BrokerMetrics m("C1", "b1", {{"env", "prod"}});
  m.OnMessagesIn("orders", "normal", 3, 300);
  m.OnMessagesIn("%RETRY%g1", "normal", 1, 10);  // consumers' resends are not sends
  m.OnMessagesOut("orders", "g1", 2, 250);
  m.OnSendToDlq("orders", "g1");
  m.OnSendBack("orders", "g1");
  m.OnSendBack("orders", "g1");
  m.OnOffsetMoved("orders", "g1");
  m.OnMessagesOut("audit", "g3", 1, 10);  // g3's failure counters of audit start at 0
  MetricsSnapshot s;
  s.subscriptions_consistent = {{"g1", true}, {"g2", false}};
  s.replica_lag_bytes = {{"10.0.0.2:10911", 2048}};
  m.OnStorePut(std::chrono::microseconds(300));
  m.OnStorePut(std::chrono::milliseconds(7));
  m.OnStoreGet(std::chrono::microseconds(40));
  m.flush_latency().Observe(3);
  s.storage_size_bytes = 4096;
  s.permission = 4;
  s.disk_used_ratio = 0.5;
  s.disk_clean_ratio = 0.85;
  s.disk_full_ratio = 0.9;
  s.replication = ReplicationSnapshot{true, 3, 2, 512};
  s.name_servers = {{"10.0.0.1:9876", true}, {"10.0.0.2:9876", false}};
  s.lag = {
      {"orders", "g1", 1, 700}, {"%RETRY%g1", "g1", 2, 0}, {"SCHEDULE_TOPIC_XXXX", "CID_RMQ_SYS_X", 1, 0}};
  std::string text = m.Collect(s);
  const std::string common = R"(cluster="C1",node_type="broker",node_id="b1",env="prod")";
  for (
      const std::string& line : {
          "rocketmq_messages_in_total{" + common +
              R"(,topic="orders",message_type="normal",is_system="false"} 3)",
          "rocketmq_throughput_in_total{" + common +
              R"(,topic="orders",message_type="normal",is_system="false"} 300)",
          "rocketmq_messages_out_total{" + common +
              R"(,topic="orders",consumer_group="g1",is_system="false"} 2)",
          "rocketmq_send_to_dlq_messages_total{" + common +
              R"(,topic="orders",consumer_group="g1",is_system="false"} 1)",
          "rocketmq_consumer_retry_messages_total{" + common +
              R"(,topic="orders",consumer_group="g1",is_system="false"} 2)",
          "rocketmq_consumer_offset_moved_total{" + common +
              R"(,topic="orders",consumer_group="g1",is_system="false"} 1)",
          "rocketmq_consumer_retry_messages_total{" + common +
              R"(,topic="audit",consumer_group="g3",is_system="false"} 0)",
          "rocketmq_send_to_dlq_messages_total{" + common +
              R"(,topic="audit",consumer_group="g3",is_system="false"} 0)",
          "rocketmq_consumer_offset_moved_total{" + common +
              R"(,topic="audit",consumer_group="g3",is_system="false"} 0)",
          "rocketmq_consumer_subscription_consistent{" + common +
              R"(,consumer_group="g1",is_system="false"} 1)",
          "rocketmq_replication_replica_lag_bytes{" + common + R"(,replica="10.0.0.2:10911"} 2048)",
          "rocketmq_storage_put_latency_milliseconds_bucket{" + common +
              R"(,storage_type="local",storage_medium="disk",le="0.5"} 1)",
          "rocketmq_storage_put_latency_milliseconds_bucket{" + common +
              R"(,storage_type="local",storage_medium="disk",le="10"} 2)",
          "rocketmq_storage_put_latency_milliseconds_count{" + common +
              R"(,storage_type="local",storage_medium="disk"} 2)",
          "rocketmq_storage_get_latency_milliseconds_bucket{" + common +
              R"(,storage_type="local",storage_medium="disk",le="0.05"} 1)",
          "rocketmq_storage_flush_latency_milliseconds_count{" + common +
              R"(,storage_type="local",storage_medium="disk"} 1)",
          "rocketmq_consumer_subscription_consistent{" + common +
              R"(,consumer_group="g2",is_system="false"} 0)",
          "rocketmq_consumer_lag_messages{" + common +
              R"(,topic="orders",consumer_group="g1",is_retry="false",is_system="false"} 1)",
          "rocketmq_consumer_lag_latency_milliseconds{" + common +
              R"(,topic="orders",consumer_group="g1",is_retry="false",is_system="false"} 700)",
          "rocketmq_consumer_lag_messages{" + common +
              R"(,topic="%RETRY%g1",consumer_group="g1",is_retry="true",is_system="false"} 2)",
          "rocketmq_consumer_lag_messages{" + common +
              R"(,topic="SCHEDULE_TOPIC_XXXX",consumer_group="CID_RMQ_SYS_X",is_retry="false",is_system="true"} 1)",
          "rocketmq_storage_size_bytes{" + common + R"(,storage_type="local",storage_medium="disk"} 4096)",
          "rocketmq_broker_permission{" + common + "} 4",
          "rocketmq_storage_disk_used_ratio{" + common +
              R"(,storage_type="local",storage_medium="disk"} 0.5)",
          "rocketmq_storage_disk_clean_ratio{" + common +
              R"(,storage_type="local",storage_medium="disk"} 0.85)",
          "rocketmq_storage_disk_full_ratio{" + common +
              R"(,storage_type="local",storage_medium="disk"} 0.9)",
          "rocketmq_replication_is_master{" + common + "} 1",
          "rocketmq_replication_epoch{" + common + "} 3",
          "rocketmq_replication_in_sync_replicas{" + common + "} 2",
          "rocketmq_replication_unconfirmed_bytes{" + common + "} 512",
          "rocketmq_broker_nameserver_registered{" + common + R"(,nameserver="10.0.0.1:9876"} 1)",
          "rocketmq_broker_nameserver_registered{" + common + R"(,nameserver="10.0.0.2:9876"} 0)",
          std::string("# TYPE rocketmq_messages_in_total counter"),
          std::string("# TYPE rocketmq_consumer_lag_messages gauge"),
      }) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find("topic=\"%RETRY%g1\",message_type"), std::string::npos) << text;
  EXPECT_EQ(text.find("rocketmq_storage_message_reserve_time_milliseconds{"), std::string::npos)
      << "an empty store has no oldest message";

  s.lag = {{"orders", "g1", 0, 0}};  // g1 consumed its retries and the system group is gone
  s.replication = ReplicationSnapshot{false, 4, 0, 0};  // demoted: a slave has no in-sync copies of its own
  s.name_servers = {{"10.0.0.1:9876", true}};           // the second one's pod is gone
  s.subscriptions_consistent = {{"g1", true}};          // g2's consumers are gone
  s.replica_lag_bytes.clear();
  text = m.Collect(s);
  EXPECT_EQ(text.find(R"(consumer_group="g2")"), std::string::npos) << text;
  EXPECT_EQ(text.find("rocketmq_replication_replica_lag_bytes{"), std::string::npos) << text;
  EXPECT_NE(text.find("rocketmq_replication_is_master{" + common + "} 0\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("rocketmq_replication_in_sync_replicas{"), std::string::npos) << text;
  EXPECT_EQ(text.find("10.0.0.2:9876"), std::string::npos) << text;
  EXPECT_EQ(text.find("%RETRY%g1"), std::string::npos) << text;
  EXPECT_EQ(text.find("CID_RMQ_SYS_X"), std::string::npos) << text;
}

TEST(BrokerMetricsTest, RpcLatencyIsAHistogramInMillisecondsByCodeNameAndUnknownCodesShareOneSeries) {
  using std::chrono::milliseconds;
  BrokerMetrics m("C1", "b1", {});
  m.OnAnswered(rq::kSendMessage, rc::kSuccess, false, true, milliseconds(2));
  m.OnAnswered(rq::kSendMessage, rc::kSuccess, false, true, milliseconds(50));
  m.OnAnswered(rq::kPullMessage, rc::kPullNotFound, true, false, milliseconds(1500));
  for (int code = 40000; code < 40100; ++code) m.OnAnswered(code, 0, false, true, milliseconds(1));
  m.OnAnswered(rq::kSendMessage, 31999, false, true, milliseconds(1));
  const std::string text = m.Collect({});
  const std::string send = std::string(kCommon) +
                           R"(,protocol_type="remoting",request_code="send_message",response_code="success",)"
                           R"(is_long_polling="false",result="success")";
  const std::string pull =
      std::string(kCommon) +
      R"(,protocol_type="remoting",request_code="pull_message",response_code="pull_not_found",)"
      R"(is_long_polling="true",result="write_channel_failed")";
  const std::string unknown = std::string(kCommon) +
                              R"(,protocol_type="remoting",request_code="unknown",response_code="success",)"
                              R"(is_long_polling="false",result="success")";
  for (const std::string& line : {
           std::string("# TYPE rocketmq_rpc_latency_milliseconds histogram"),
           "rocketmq_rpc_latency_milliseconds_bucket{" + send + R"(,le="1"} 0)",
           "rocketmq_rpc_latency_milliseconds_bucket{" + send + R"(,le="3"} 1)",
           "rocketmq_rpc_latency_milliseconds_bucket{" + send + R"(,le="100"} 2)",
           "rocketmq_rpc_latency_milliseconds_sum{" + send + "} 52",
           "rocketmq_rpc_latency_milliseconds_count{" + send + "} 2",
           "rocketmq_rpc_latency_milliseconds_bucket{" + pull + R"(,le="1000"} 0)",
           "rocketmq_rpc_latency_milliseconds_bucket{" + pull + R"(,le="2000"} 1)",
           "rocketmq_rpc_latency_milliseconds_count{" + unknown + "} 100",
       }) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  }
  EXPECT_NE(text.find(R"(request_code="send_message",response_code="unknown")"), std::string::npos) << text;
  size_t series = 0;
  for (size_t at = 0; (at = text.find("rocketmq_rpc_latency_milliseconds_count{", at)) != std::string::npos;
       ++at)
    ++series;
  EXPECT_EQ(series, 4u) << "100 random request codes must not make 100 series";
}

// GET /metrics of a broker with metricsExporterType=PROM after sends, a pull and a committed offset.
TEST(BrokerMetricsTest, TheBrokerServesMetricsThatMatchWhatClientsDid) {
  io::MemoryFileSystem fs;
  BrokerConfig bc = testing::TestBrokerConfig("");
  bc.metrics.prometheus = true;
  bc.metrics.host = "127.0.0.1";
  bc.metrics.port = 0;
  BrokerController broker(bc, testing::TestStoreConfig("C1", "b1"), fs, SystemClock());
  ASSERT_TRUE(broker.Start().ok());
  ASSERT_GT(broker.metrics_port(), 0);
  net::RemotingClient client{net::ClientConfig{}};
  ASSERT_TRUE(client.Start().ok());
  for (int i = 0; i < 5; ++i) {
    std::map<std::string, std::string> ext;
    protocol::SendMessageRequestHeader::V1().Encode(testing::SendHeader("orders", 0, {}), &ext);
    ASSERT_EQ(testing::Call(client, broker.address(), rq::kSendMessage, ext, "0123456789").code,
              rc::kSuccess);
  }
  RemotingCommand pulled = testing::Call(client, broker.address(), rq::kPullMessage,
                                         {{"consumerGroup", "g1"},
                                          {"topic", "orders"},
                                          {"queueId", "0"},
                                          {"queueOffset", "0"},
                                          {"maxMsgNums", "2"},
                                          {"sysFlag", std::to_string(protocol::pull_sys_flag::kSubscription)},
                                          {"subscription", "*"},
                                          {"commitOffset", "0"},
                                          {"suspendTimeoutMillis", "0"},
                                          {"subVersion", "0"}});
  ASSERT_EQ(pulled.code, rc::kSuccess) << pulled.remark.value_or("");
  // A long poll on an empty queue: parked, then answered PULL_NOT_FOUND when the hold ends.
  RemotingCommand parked = testing::Call(client, broker.address(), rq::kPullMessage,
                                         {{"consumerGroup", "g1"},
                                          {"topic", "orders"},
                                          {"queueId", "1"},
                                          {"queueOffset", "0"},
                                          {"maxMsgNums", "2"},
                                          {"sysFlag", std::to_string(protocol::pull_sys_flag::kSubscription |
                                                                     protocol::pull_sys_flag::kSuspend)},
                                          {"subscription", "*"},
                                          {"commitOffset", "0"},
                                          {"suspendTimeoutMillis", "300"},
                                          {"subVersion", "0"}});
  ASSERT_EQ(parked.code, rc::kPullNotFound) << parked.remark.value_or("");
  ASSERT_EQ(
      testing::Call(client, broker.address(), rq::kUpdateConsumerOffset,
                    {{"consumerGroup", "g1"}, {"topic", "orders"}, {"queueId", "0"}, {"commitOffset", "2"}})
          .code,
      rc::kSuccess);
  // An offset beyond the queue's end: the client is told to move it (counted once).
  RemotingCommand moved = testing::Call(client, broker.address(), rq::kPullMessage,
                                        {{"consumerGroup", "g1"},
                                         {"topic", "orders"},
                                         {"queueId", "0"},
                                         {"queueOffset", "50"},
                                         {"maxMsgNums", "2"},
                                         {"sysFlag", std::to_string(protocol::pull_sys_flag::kSubscription)},
                                         {"subscription", "*"},
                                         {"commitOffset", "0"},
                                         {"suspendTimeoutMillis", "0"},
                                         {"subVersion", "0"}});
  ASSERT_EQ(moved.code, rc::kPullOffsetMoved) << moved.remark.value_or("");
  // g1 hands the first message back twice: once for a retry, once past its last retry (to %DLQ%g1).
  for (const char* max_times : {"16", "0"}) {
    ASSERT_EQ(testing::Call(
                  client, broker.address(), rq::kConsumerSendMsgBack,
                  {{"offset", "0"}, {"group", "g1"}, {"delayLevel", "0"}, {"maxReconsumeTimes", max_times}})
                  .code,
              rc::kSuccess);
  }
  // Two consumers of g2 that disagree about the subscription (one takes every tag, one only TagA).
  net::RemotingClient other{net::ClientConfig{}};
  ASSERT_TRUE(other.Start().ok());
  for (auto [c, id, expr] :
       {std::tuple{&client, "10.0.0.1@1", "*"}, std::tuple{&other, "10.0.0.2@2", "TagA"}}) {
    model::HeartbeatData hb;
    hb.client_id = id;
    model::ConsumerData cd;
    cd.group_name = "g2";
    cd.subscriptions.push_back({});
    cd.subscriptions.back().topic = "orders";
    cd.subscriptions.back().sub_string = expr;
    cd.subscriptions.back().expression_type = "TAG";
    hb.consumers.push_back(cd);
    ASSERT_EQ(testing::Call(*c, broker.address(), rq::kHeartBeat, {}, model::EncodeHeartbeat(hb)).code,
              rc::kSuccess);
  }

  auto get = [&broker](const std::string& path) {
    int fd = net::testing::RawConnect(broker.metrics_port());
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n\r\n";
    EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string response;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) response.append(buf, static_cast<size_t>(n));
    close(fd);
    return response;
  };
  const std::string response = get("/metrics");
  ASSERT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  const std::string c = kCommon;
  for (const std::string& line : {
           "rocketmq_messages_in_total{" + c +
               R"(,topic="orders",message_type="normal",is_system="false"} 5)",
           "rocketmq_throughput_in_total{" + c +
               R"(,topic="orders",message_type="normal",is_system="false"} 50)",
           "rocketmq_messages_out_total{" + c + R"(,topic="orders",consumer_group="g1",is_system="false"} 2)",
           "rocketmq_consumer_lag_messages{" + c +
               R"(,topic="orders",consumer_group="g1",is_retry="false",is_system="false"} 3)",
           "rocketmq_broker_permission{" + c + "} 6",
           "rocketmq_replication_is_master{" + c + "} 1",
           "rocketmq_consumer_offset_moved_total{" + c +
               R"(,topic="orders",consumer_group="g1",is_system="false"} 1)",
           "rocketmq_consumer_retry_messages_total{" + c +
               R"(,topic="orders",consumer_group="g1",is_system="false"} 2)",
           "rocketmq_send_to_dlq_messages_total{" + c +
               R"(,topic="orders",consumer_group="g1",is_system="false"} 1)",
           "rocketmq_consumer_subscription_consistent{" + c + R"(,consumer_group="g2",is_system="false"} 0)",
           // 5 sends and the 2 copies the hand-backs stored.
           "rocketmq_storage_put_latency_milliseconds_count{" + c +
               R"(,storage_type="local",storage_medium="disk"} 7)",
           "rocketmq_rpc_latency_milliseconds_count{" + c +
               R"(,protocol_type="remoting",request_code="send_message",response_code="success",)"
               R"(is_long_polling="false",result="success"} 5)",
           "rocketmq_rpc_latency_milliseconds_count{" + c +
               R"(,protocol_type="remoting",request_code="pull_message",response_code="pull_not_found",)"
               R"(is_long_polling="true",result="success"} 1)",
       }) {
    EXPECT_NE(response.find(line + "\n"), std::string::npos) << line << "\n" << response;
  }
  EXPECT_NE(response.find("rocketmq_storage_message_reserve_time_milliseconds{"), std::string::npos);

  // The rocketmq-exporter family on its own path, from the same broker.
  const std::string exporter = get("/metrics/exporter");
  ASSERT_TRUE(exporter.starts_with("HTTP/1.1 200")) << exporter;
  for (const std::string& line : {
           std::string(R"(rocketmq_producer_offset{cluster="C1",broker="b1",topic="orders"} 5)"),
           std::string(R"(rocketmq_consumer_offset{cluster="C1",broker="b1",topic="orders",group="g1"} 2)"),
           std::string(
               R"(rocketmq_group_diff{group="g1",topic="orders",countOfOnlineConsumers="0",msgModel="1"} 3)"),
           std::string(R"(rocketmq_consumer_tps{cluster="C1",broker="b1",topic="orders",group="g1"} )") +
               FormatMetricValue(2.0 / 120),
           std::string(R"(rocketmq_producer_tps{cluster="C1",broker="b1",topic="orders"} )") +
               FormatMetricValue(5.0 / 120),
       }) {
    EXPECT_NE(exporter.find(line + "\n"), std::string::npos) << line << "\n" << exporter;
  }
  const std::string runtime_labels =
      R"({cluster="C1",brokerIP=")" + broker.address() + R"(",brokerHost="",des="V4_9_7",boottime=")";
  for (const char* name : {"msg_put_total_today_now", "putmessage_times_total"}) {
    const size_t at = exporter.find(std::string("rocketmq_brokeruntime_") + name + runtime_labels);
    ASSERT_NE(at, std::string::npos) << name << "\n" << exporter;
    // 5 sends, and the two copies the hand-backs stored (one in %RETRY%g1, one in %DLQ%g1).
    EXPECT_EQ(exporter.substr(exporter.find(' ', at), 3), " 7\n") << name;
  }
  // Every put landed in one of the put-time buckets of the last minute.
  double bucketed = 0;
  for (size_t at = 0; (at = exporter.find("\nrocketmq_brokeruntime_pmdt_", at)) != std::string::npos; ++at) {
    bucketed += std::stod(exporter.substr(exporter.find(' ', at) + 1));
  }
  EXPECT_EQ(bucketed, 7);
  // The same events in VIEW_BROKER_STATS_DATA, where the operator reads them for the ConsumerGroup
  // conditions.
  for (auto [name, count] :
       {std::pair{"SNDBCK_PUT_NUMS", 2}, {"DEAD_PUT_NUMS", 1}, {"OFFSET_MOVED_NUMS", 1}}) {
    RemotingCommand r = testing::Call(client, broker.address(), rq::kViewBrokerStatsData,
                                      {{"statsName", name}, {"statsKey", "orders@g1"}});
    ASSERT_EQ(r.code, rc::kSuccess) << name << ": " << r.remark.value_or("");
    EXPECT_EQ(nlohmann::json::parse(r.body)["statsHour"]["sum"], count) << name << ": " << r.body;
  }
  other.Stop();
  client.Stop();
  broker.Stop();
}

TEST(BrokerMetricsTest, OnlyPromAndDisableAreExporterTypes) {
  BrokerConfig c;
  EXPECT_FALSE(c.metrics.prometheus) << "off by default, as in Apache RocketMQ";
  ASSERT_TRUE(ApplyBrokerProperty("metricsExporterType", "PROM", &c).ok());
  EXPECT_TRUE(c.metrics.prometheus);
  ASSERT_TRUE(ApplyBrokerProperty("metricsPromExporterPort", "15557", &c).ok());
  EXPECT_EQ(c.metrics.port, 15557);
  EXPECT_NE(ApplyBrokerProperty("metricsExporterType", "OTLP_GRPC", &c).message().find("FerryMQ serves PROM"),
            std::string::npos);
  EXPECT_FALSE(ApplyBrokerProperty("metricsLabel", "novalue", &c).ok());
}

}  // namespace
}  // namespace fmq::server
