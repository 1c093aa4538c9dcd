#include "broker/server/exporter_metrics.h"

#include <gtest/gtest.h>

#include "broker/base/clock.h"
#include "broker/server/broker_stats.h"

namespace fmq::server {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

ExporterSnapshot Sample() {
  ExporterSnapshot s;
  s.cluster = "C1";
  s.broker_name = "b1";
  s.broker_addr = "10.0.0.1:10911";
  s.runtime = {{"brokerVersionDesc", "V4_9_7"},
               {"bootTimestamp", "1700000000000"},
               {"brokerVersion", "409"},
               {"putTps", "10.00 6.50 1.25"},
               {"msgPutTotalTodayNow", "42"},
               {"commitLogDiskRatio", "0.25"},
               {"sendThreadPoolQueueHeadWaitTimeMills", "7"},
               {"putMessageDistributeTime", "[<=0ms]:3 [0~10ms]:5 [10~50ms]:0 [10s~]:1"},
               {"earliestMessageTimeStamp", "not a number"}};
  s.disk_capacity_bytes = 1000;
  s.disk_free_bytes = 400;
  s.flush_behind_bytes = 12;
  s.put_tps = 1.5;
  s.get_tps = 0.5;
  s.topics = {{"orders", 2.0, 300.0, 17}, {"%RETRY%g1", 0, 0, 4}, {"%DLQ%g1", 0, 0, 2}};
  ExporterSnapshot::Group orders;
  orders.topic = "orders";
  orders.group = "g1";
  orders.get_tps = 1;
  orders.get_bytes_per_second = 150;
  orders.send_back = 3;
  orders.consumer_offset = 12;
  orders.diff = 5;
  orders.latency_ms = 900;
  orders.online_consumers = 2;
  ExporterSnapshot::Group retry = orders;
  retry.topic = "%RETRY%g1";
  retry.diff = 1;
  ExporterSnapshot::Group dlq;
  dlq.topic = "%DLQ%g1";
  dlq.group = "g1";
  dlq.diff = 2;
  ExporterSnapshot::Group broadcast;
  broadcast.topic = "orders";
  broadcast.group = "everyone";
  broadcast.diff = 99;
  broadcast.clustering = false;
  ExporterSnapshot::Group dlq_reader = dlq;
  dlq_reader.group = "reader";
  s.groups = {orders, retry, dlq, dlq_reader, broadcast};
  s.producers = {{"pg", 3}};
  s.replica_lag = {{"10.0.0.2:10911", 4096}};
  return s;
}

TEST(ExporterMetricsTest, RendersTheExportersNamesAndCamelCaseLabels) {
  const std::string t = RenderExporterFamily(Sample());
  for (
      const char* line : {
          R"(rocketmq_broker_tps{cluster="C1",brokerIP="10.0.0.1:10911",broker="b1"} 1.5)",
          R"(rocketmq_broker_qps{cluster="C1",brokerIP="10.0.0.1:10911",broker="b1"} 0.5)",
          R"(rocketmq_broker_commitlog_diff{cluster="C1",brokerIP="10.0.0.2:10911",broker="b1"} 4096)",
          R"(rocketmq_producer_tps{cluster="C1",broker="b1",topic="orders"} 2)",
          R"(rocketmq_producer_message_size{cluster="C1",broker="b1",topic="orders"} 300)",
          R"(rocketmq_producer_offset{cluster="C1",broker="b1",topic="orders"} 17)",
          R"(rocketmq_topic_retry_offset{cluster="C1",broker="b1",topic="%RETRY%g1"} 4)",
          R"(rocketmq_topic_dlq_offset{cluster="C1",broker="b1",group="g1"} 2)",
          R"(rocketmq_producer_count{cluster="C1",broker="b1",group="pg"} 3)",
          R"(rocketmq_consumer_tps{cluster="C1",broker="b1",topic="orders",group="g1"} 1)",
          R"(rocketmq_consumer_message_size{cluster="C1",broker="b1",topic="orders",group="g1"} 150)",
          R"(rocketmq_send_back_nums{cluster="C1",broker="b1",topic="orders",group="g1"} 3)",
          R"(rocketmq_consumer_offset{cluster="C1",broker="b1",topic="orders",group="g1"} 12)",
          R"(rocketmq_group_get_latency_by_storetime{cluster="C1",broker="b1",topic="orders",group="g1"} 900)",
          R"(rocketmq_group_diff{group="g1",topic="orders",countOfOnlineConsumers="2",msgModel="1"} 5)",
          R"(rocketmq_group_retrydiff{group="g1",topic="%RETRY%g1",countOfOnlineConsumers="2",msgModel="1"} 1)",
          R"(rocketmq_group_dlqdiff{group="g1",topic="%DLQ%g1",countOfOnlineConsumers="0",msgModel="1"} 2)",
          "# TYPE rocketmq_group_diff gauge",
      }) {
    EXPECT_TRUE(Has(t, line)) << line << "\n" << t;
  }
  // Retry and dead-letter topics are not producer topics; a broadcasting group has no lag series.
  EXPECT_EQ(t.find(R"(rocketmq_producer_offset{cluster="C1",broker="b1",topic="%RETRY%g1"})"),
            std::string::npos);
  EXPECT_EQ(t.find(R"(rocketmq_producer_tps{cluster="C1",broker="b1",topic="%DLQ%g1"})"), std::string::npos);
  EXPECT_EQ(t.find(R"(group="everyone",topic="orders")"), std::string::npos);
  EXPECT_EQ(t.find(R"(group="reader")"), std::string::npos);
  EXPECT_TRUE(
      Has(t, R"(rocketmq_consumer_offset{cluster="C1",broker="b1",topic="orders",group="everyone"} 0)"));
}

TEST(ExporterMetricsTest, BrokerRuntimeGaugesComeFromTheRuntimeTable) {
  const std::string t = RenderExporterFamily(Sample());
  const std::string l =
      R"({cluster="C1",brokerIP="10.0.0.1:10911",brokerHost="",des="V4_9_7",boottime="1700000000000",)"
      R"(broker_version="409"})";
  for (const std::string& line : {
           "rocketmq_brokeruntime_put_tps10" + l + " 10",
           "rocketmq_brokeruntime_put_tps60" + l + " 6.5",
           "rocketmq_brokeruntime_put_tps600" + l + " 1.25",
           "rocketmq_brokeruntime_msg_put_total_today_now" + l + " 42",
           "rocketmq_brokeruntime_commitlog_disk_ratio" + l + " 0.25",
           "rocketmq_brokeruntime_send_threadpoolqueue_headwait_timemills" + l + " 7",
           "rocketmq_brokeruntime_pmdt_0ms" + l + " 3",
           "rocketmq_brokeruntime_pmdt_0to10ms" + l + " 5",
           "rocketmq_brokeruntime_pmdt_10stomore" + l + " 1",
           "rocketmq_brokeruntime_pmdt_5to10s" + l + " 0",  // absent from the table: 0
           "rocketmq_brokeruntime_commitlogdir_capacity_total" + l + " 1000",
           "rocketmq_brokeruntime_commitlogdir_capacity_free" + l + " 400",
           "rocketmq_brokeruntime_remain_howmanydata_toflush" + l + " 12",
       }) {
    EXPECT_TRUE(Has(t, line)) << line << "\n" << t;
  }
  // A value that is not a number is left out, not rendered as 0; a key the table lacks too.
  EXPECT_EQ(t.find("rocketmq_brokeruntime_earliest_message_timestamp{"), std::string::npos);
  EXPECT_EQ(t.find("rocketmq_brokeruntime_getmiss_tps10{"), std::string::npos);
}

TEST(ExporterMetricsTest, LabelValuesAreEscaped) {
  ExporterSnapshot s = Sample();
  s.topics = {{"a\"b", 0, 0, 1}};
  const std::string t = RenderExporterFamily(s);
  EXPECT_TRUE(Has(t, R"(rocketmq_producer_offset{cluster="C1",broker="b1",topic="a\"b"} 1)")) << t;
}

TEST(BrokerStatsTest, PutTimesAreBucketedAsRocketMqAndCountedOverTheLastMinute) {
  ManualClock clock(1'700'000'000'000);
  BrokerStats stats(clock);
  stats.Sample(0);
  for (int64_t ms : {0, 3, 9, 10, 49, 150, 12'000}) stats.AddPutTime(ms);
  auto kv = stats.RuntimeInfo(7);
  EXPECT_EQ(kv.at("putMessageDistributeTime"),
            "[<=0ms]:1 [0~10ms]:2 [10~50ms]:2 [50~100ms]:0 [100~200ms]:1 [200~500ms]:0 [500ms~1s]:0 [1~2s]:0 "
            "[2~3s]:0 [3~4s]:0 [4~5s]:0 [5~10s]:0 [10s~]:1");
  EXPECT_EQ(kv.at("putMessageEntireTimeMax"), "12000");
  EXPECT_EQ(kv.at("putLatency99"), "12000");  // 7 puts: the 99th percentile is the slowest, beyond 10 s
  for (int i = 0; i < 93; ++i) stats.AddPutTime(1);
  kv = stats.RuntimeInfo(100);
  EXPECT_EQ(kv.at("putLatency99"), "200");  // 100 puts: the 99th is in [100~200ms]
  EXPECT_EQ(kv.at("putLatency999"), "12000");
  // A minute later, only what came since counts in the buckets; the maximum stays.
  for (int s = 0; s < 61; ++s) {
    clock.AdvanceMillis(1000);
    stats.Sample(100);
  }
  stats.AddPutTime(60);
  stats.AddGetTime(25);
  kv = stats.RuntimeInfo(101);
  EXPECT_TRUE(kv.at("putMessageDistributeTime")
                  .starts_with("[<=0ms]:0 [0~10ms]:0 [10~50ms]:0 [50~100ms]:1 [100~200ms]:0 "))
      << kv.at("putMessageDistributeTime");
  EXPECT_EQ(kv.at("putLatency99"), "100");
  EXPECT_EQ(kv.at("putMessageEntireTimeMax"), "12000");
  EXPECT_EQ(kv.at("getMessageEntireTimeMax"), "25");
}

TEST(BrokerStatsTest, SizesAndSendBacksAreKeptPerTopicAndGroup) {
  ManualClock clock(1'700'000'000'000);
  BrokerStats stats(clock);
  stats.AddTopicPut("orders", "", 2, 500);
  stats.AddGroupGet("orders", "g1", 2, 400);
  stats.AddSendBack("orders", "g1");
  EXPECT_EQ(stats.Stats(BrokerStats::kTopicPutNums, "orders")->minute.sum, 2);
  EXPECT_EQ(stats.Stats(BrokerStats::kTopicPutSize, "orders")->minute.sum, 500);
  EXPECT_EQ(stats.Stats(BrokerStats::kGroupGetSize, "orders@g1")->hour.sum, 400);
  EXPECT_EQ(stats.Stats(BrokerStats::kSendBackNums, "orders@g1")->day.sum, 1);
  EXPECT_FALSE(stats.Stats("NO_SUCH_STATS", "orders"));
  auto all = stats.All(BrokerStats::kGroupGetNums);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, "orders@g1");
  EXPECT_EQ(all[0].second.minute.sum, 2);
}

TEST(BrokerStatsTest, ProducerGroupsAreThoseThatSentInTheLastDayAtMostSixtyFourPerTopic) {
  ManualClock clock(1'700'000'000'000);
  BrokerStats stats(clock);
  stats.AddTopicPut("orders", "pg-old", 1, 100);
  clock.AdvanceMillis(3'600'000);
  stats.AddTopicPut("orders", "pg-new", 1, 100);
  stats.AddTopicPut("orders", "", 1, 100);  // a send without a producer group counts, names no group
  stats.AddTopicPut("audit", "pg-audit", 1, 100);
  EXPECT_EQ(stats.ProducerGroups("orders"),
            (std::map<std::string, int64_t>{{"pg-old", 1'700'000'000'000}, {"pg-new", 1'700'003'600'000}}));
  EXPECT_EQ(stats.Stats(BrokerStats::kTopicPutNums, "orders")->day.sum, 3);
  // A day after its last send a group is gone.
  clock.AdvanceMillis(86'400'000 - 3'600'000 + 1);
  EXPECT_EQ(stats.ProducerGroups("orders").count("pg-old"), 0u);
  EXPECT_EQ(stats.ProducerGroups("orders").count("pg-new"), 1u);
  // The 65th group pushes out the one that sent longest ago.
  for (int i = 0; i < 64; ++i) {
    clock.AdvanceMillis(1);
    stats.AddTopicPut("audit", "pg-" + std::to_string(i), 1, 100);
  }
  const auto audit = stats.ProducerGroups("audit");
  EXPECT_EQ(audit.size(), 64u);
  EXPECT_EQ(audit.count("pg-audit"), 0u);
  EXPECT_EQ(audit.count("pg-63"), 1u);
  EXPECT_TRUE(stats.ProducerGroups("nothing").empty());
}

}  // namespace
}  // namespace fmq::server
