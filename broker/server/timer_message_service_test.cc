#include "broker/server/timer_message_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "broker/io/memory_file_system.h"
#include "broker/model/timer.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

TEST(ApplyTimerTest, FutureTimesGoToTheTimerTopicRoundedUp) {
  store::MessageStoreConfig c;
  model::StoredMessage m;
  m.topic = "T";
  m.queue_id = QueueId(3);
  m.properties = model::EncodeProperties({{"TIMER_DELIVER_MS", "10500"}});
  ASSERT_TRUE(ApplyTimer(c, 1000, &m).ok());
  EXPECT_EQ(m.topic, model::kTimerTopic);
  EXPECT_EQ(m.queue_id.value(), 0);
  EXPECT_EQ(model::FindProperty(m.properties, "TIMER_OUT_MS"), "11000");
  EXPECT_EQ(model::FindProperty(m.properties, "REAL_TOPIC"), "T");
  EXPECT_EQ(model::FindProperty(m.properties, "REAL_QID"), "3");
}

TEST(ApplyTimerTest, PastTimesDelayLevelsAndBadInput) {
  store::MessageStoreConfig c;
  model::StoredMessage past;
  past.topic = "T";
  past.properties = model::EncodeProperties({{"TIMER_DELIVER_MS", "500"}});
  ASSERT_TRUE(ApplyTimer(c, 1000, &past).ok());
  EXPECT_EQ(past.topic, "T");  // due already: delivered at once, as a plain message

  model::StoredMessage level;
  level.topic = "T";
  level.properties = model::EncodeProperties({{"TIMER_DELAY_SEC", "9"}, {"DELAY", "2"}});
  ASSERT_TRUE(ApplyTimer(c, 1000, &level).ok());
  EXPECT_EQ(level.topic, "T");
  EXPECT_FALSE(model::FindProperty(level.properties, "TIMER_DELAY_SEC").has_value());  // the level wins

  model::StoredMessage bad;
  bad.topic = "T";
  bad.properties = model::EncodeProperties({{"TIMER_DELAY_MS", "later"}});
  auto s = ApplyTimer(c, 1000, &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TIMER_DELAY_MS"), std::string_view::npos);
  EXPECT_EQ(bad.topic, "T");

  model::StoredMessage far;
  far.topic = "T";
  far.properties = model::EncodeProperties({{"TIMER_DELAY_SEC", std::to_string(4 * 24 * 3600)}});
  s = ApplyTimer(c, 1000, &far);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("timerMaxDelaySec"), std::string_view::npos);

  c.timer_wheel_enable = false;
  model::StoredMessage off;
  off.topic = "T";
  off.properties = model::EncodeProperties({{"TIMER_DELAY_SEC", "5"}});
  EXPECT_FALSE(ApplyTimer(c, 1000, &off).ok());
}

class TimerMessageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetMillis(1'000'000);
    store::MessageStoreConfig sc = testing::TestStoreConfig("c", "b");
    config_ = sc;
    store_ = std::make_unique<store::MessageStore>(sc, mem_, clock_,
                                                   store::StoreOptions{.background_services = false});
    ASSERT_TRUE(store_->Open().ok());
    NewService();
  }
  void TearDown() override {
    service_.reset();
    if (store_) store_->Close();
  }
  void NewService(bool trust_checkpoint = true) {
    service_.reset();  // a kill -9: nothing persisted since the last Persist()
    TimerMessageService::Options o;
    o.dir = "/store/timer";
    o.precision_ms = 1000;
    o.slots = slots_;
    service_ = std::make_unique<TimerMessageService>(o, *store_, mem_, clock_, [this] { return master_; });
    ASSERT_TRUE(service_->Load(trust_checkpoint).ok());
  }
  // A send to T with TIMER_DELAY_MS, as the send processor stores it.
  void SendTimer(const std::string& key, int64_t delay_ms) {
    model::StoredMessage m;
    m.topic = "T";
    m.queue_id = QueueId(1);
    m.body = key;
    m.properties = model::EncodeProperties({{"TIMER_DELAY_MS", std::to_string(delay_ms)}, {"KEYS", key}});
    ASSERT_TRUE(ApplyTimer(config_, clock_.NowMillis(), &m).ok());
    ASSERT_TRUE(store_->PutMessage(std::move(m)).ok());
    ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  }
  int Run() {
    int n = service_->RunOnce();
    EXPECT_TRUE(store_->TEST_DispatchAll().ok());
    n += service_->RunOnce();  // rolled records are linked once dispatched
    EXPECT_TRUE(store_->TEST_DispatchAll().ok());
    return n;
  }
  // Key -> deliveries to T, with the delivery's store time.
  std::map<std::string, std::vector<model::StoredMessage>> Delivered() {
    EXPECT_TRUE(store_->TEST_DispatchAll().ok());
    std::map<std::string, std::vector<model::StoredMessage>> out;
    for (int64_t o = 0; o < store_->MaxOffsetInQueue("T", QueueId(1)).value(); ++o) {
      auto phys = store_->CommitLogOffsetInQueue("T", QueueId(1), QueueOffset(o));
      auto m = *store_->LookMessageByOffset(*phys);
      out[std::string(*model::FindProperty(m.properties, "KEYS"))].push_back(m);
    }
    return out;
  }
  // Runs the service every 100 ms of fake time for `ms`.
  void RunFor(int64_t ms) {
    for (int64_t t = 0; t < ms; t += 100) {
      clock_.AdvanceMillis(100);
      Run();
    }
  }

  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  store::MessageStoreConfig config_;
  std::unique_ptr<store::MessageStore> store_;
  std::unique_ptr<TimerMessageService> service_;
  bool master_ = true;
  int64_t slots_ = 3600;
};

TEST_F(TimerMessageServiceTest, ATimerIsDeliveredAtItsSlotNeverEarly) {
  SendTimer("a", 2'500);  // due at +2.5 s: slot +3 s
  Run();
  clock_.AdvanceMillis(2'999);
  Run();
  EXPECT_TRUE(Delivered().empty());
  EXPECT_EQ(service_->pending(), 1);
  clock_.AdvanceMillis(1);
  EXPECT_EQ(Run(), 1);
  auto got = Delivered();
  ASSERT_EQ(got["a"].size(), 1u);
  const auto& m = got["a"][0];
  EXPECT_EQ(m.topic, "T");
  EXPECT_EQ(m.queue_id.value(), 1);
  EXPECT_EQ(m.body, "a");
  EXPECT_GE(m.store_timestamp, 1'000'000 + 2'500);
  EXPECT_FALSE(model::FindProperty(m.properties, "REAL_TOPIC").has_value());
  EXPECT_EQ(model::FindProperty(m.properties, "TIMER_OUT_MS"), "1003000");
  EXPECT_TRUE(model::FindProperty(m.properties, "TIMER_SRC").has_value());
  EXPECT_TRUE(model::FindProperty(m.properties, "TIMER_DEQUEUE_MS").has_value());
  EXPECT_EQ(service_->pending(), 0);
}

TEST_F(TimerMessageServiceTest, TimersComeOutInTimeOrderWhateverTheirSendOrder) {
  SendTimer("late", 5'000);
  SendTimer("early", 1'000);
  SendTimer("middle", 3'000);
  std::vector<std::string> order;
  for (int i = 0; i < 60; ++i) {
    clock_.AdvanceMillis(100);
    Run();
    for (const auto& [k, v] : Delivered()) {
      if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"early", "middle", "late"}));
}

TEST_F(TimerMessageServiceTest, TimersBeyondTheWindowAreRolledAndDeliveredOnce) {
  slots_ = 60;  // a 60 s window
  NewService();
  SendTimer("far", 150'000);
  RunFor(149'000);
  EXPECT_TRUE(Delivered().empty());
  // Rolled at least twice: the timer topic holds the original and its copies.
  EXPECT_GE(store_->MaxOffsetInQueue(model::kTimerTopic, QueueId(0)).value(), 3);
  RunFor(2'000);
  auto got = Delivered();
  ASSERT_EQ(got["far"].size(), 1u);
  EXPECT_GE(got["far"][0].store_timestamp, 1'000'000 + 150'000);
  EXPECT_EQ(model::FindProperty(got["far"][0].properties, "TIMER_ROLL_TIMES").value_or("0") != "0", true);
}

TEST_F(TimerMessageServiceTest, AKillNeitherLosesNorDuplicatesATimer) {
  for (int i = 0; i < 20; ++i) SendTimer("k" + std::to_string(i), 1'000 + 500 * i);
  RunFor(3'000);
  ASSERT_TRUE(service_->Persist().ok());
  RunFor(2'200);  // more deliveries after the checkpoint, then the process dies
  const auto before = Delivered();
  EXPECT_GT(before.size(), 5u);
  EXPECT_LT(before.size(), 20u);
  NewService();  // restarts from the checkpoint
  RunFor(12'000);
  auto got = Delivered();
  ASSERT_EQ(got.size(), 20u);
  for (const auto& [k, v] : got) EXPECT_EQ(v.size(), 1u) << k;
  // And a clean restart after everything is delivered delivers nothing again.
  ASSERT_TRUE(service_->Persist().ok());
  NewService();
  RunFor(2'000);
  for (const auto& [k, v] : Delivered()) EXPECT_EQ(v.size(), 1u) << k;
}

TEST_F(TimerMessageServiceTest, WithoutACheckpointTheLogTellsWhatWasDelivered) {
  for (int i = 0; i < 10; ++i) SendTimer("k" + std::to_string(i), 1'000 * (i + 1));
  SendTimer("later", 60'000);
  RunFor(5'500);
  // A promoted slave: the file is not its own, so it rebuilds from the queue and the whole log.
  NewService(/*trust_checkpoint=*/false);
  RunFor(61'000);
  auto got = Delivered();
  ASSERT_EQ(got.size(), 11u);
  for (const auto& [k, v] : got) EXPECT_EQ(v.size(), 1u) << k;
}

}  // namespace
}  // namespace fmq::server
