#include "broker/server/schedule_message_service.h"

#include <gtest/gtest.h>

#include "broker/io/memory_file_system.h"
#include "broker/server/server_test_util.h"

namespace fmq::server {
namespace {

class ScheduleMessageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { Close(); }

  void Open(bool bounded = false) {
    store::MessageStoreConfig sc = testing::TestStoreConfig("c", "b");
    sc.message_delay_level = "1s 5s 1m";
    store_ = std::make_unique<store::MessageStore>(
        sc, mem_, clock_,
        store::StoreOptions{.background_services = false, .bounded_by_confirm_offset = bounded});
    ASSERT_TRUE(store_->Open().ok());
    if (bounded) store_->SetConfirmOffset(PhysicalOffset(INT64_MAX));
    ScheduleMessageService::Options o;
    o.offsets_path = "/store/config/delayOffset.json";
    service_ = std::make_unique<ScheduleMessageService>(o, *store_, mem_, clock_, [this] { return master_; });
    ASSERT_TRUE(service_->Load().ok());
  }
  void Close() {
    if (service_) {
      ASSERT_TRUE(service_->Persist().ok());
    }
    service_.reset();
    if (store_) store_->Close();
  }

  // A send of `body` to topic T queue `queue` with DELAY=level, as the send processor stores it.
  void SendDelayed(const std::string& body, int level, int queue = 1) {
    model::StoredMessage m;
    m.topic = "T";
    m.queue_id = QueueId(queue);
    m.body = body;
    m.born_timestamp = 42;
    m.properties =
        model::EncodeProperties({{"DELAY", std::to_string(level)}, {"UNIQ_KEY", body}, {"TAGS", "tg"}});
    ASSERT_TRUE(ApplyDelayLevel(store_->delay_levels(), &m).ok());
    ASSERT_TRUE(store_->PutMessage(std::move(m)).ok());
    ASSERT_TRUE(store_->TEST_DispatchAll().ok());
  }
  std::vector<model::StoredMessage> Delivered(int queue = 1) {
    EXPECT_TRUE(store_->TEST_DispatchAll().ok());
    std::vector<model::StoredMessage> out;
    for (int64_t o = 0; o < store_->MaxOffsetInQueue("T", QueueId(queue)).value(); ++o) {
      auto phys = store_->CommitLogOffsetInQueue("T", QueueId(queue), QueueOffset(o));
      out.push_back(*store_->LookMessageByOffset(*phys));
    }
    return out;
  }

  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  std::unique_ptr<store::MessageStore> store_;
  std::unique_ptr<ScheduleMessageService> service_;
  bool master_ = true;
};

TEST_F(ScheduleMessageServiceTest, AMessageIsDeliveredToItsRealQueueWhenDueAndNotBefore) {
  SendDelayed("a", 2);  // 5 s
  EXPECT_EQ(service_->DeliverDue(), 0);
  clock_.AdvanceMillis(4'999);
  EXPECT_EQ(service_->DeliverDue(), 0);
  EXPECT_TRUE(Delivered().empty());
  clock_.AdvanceMillis(1);
  EXPECT_EQ(service_->DeliverDue(), 1);
  auto got = Delivered();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "T");
  EXPECT_EQ(got[0].queue_id.value(), 1);
  EXPECT_EQ(got[0].body, "a");
  EXPECT_EQ(got[0].born_timestamp, 42);
  EXPECT_EQ(got[0].store_timestamp, clock_.NowMillis());
  auto props = model::DecodeProperties(got[0].properties);
  EXPECT_EQ(props.at("DELAY"), "2") << "kept, as Apache's delivered messages keep it";
  EXPECT_EQ(props.at("REAL_TOPIC"), "T");
  EXPECT_EQ(props.at("UNIQ_KEY"), "a");
  // The real queue's entry carries the tag's hash again, so tag filters work on delivered messages.
  auto e = store_->ConsumeQueueEntry("T", QueueId(1), QueueOffset(0));
  EXPECT_EQ(e->tags_code, model::TagsHashCode("tg"));
  EXPECT_EQ(service_->DeliverDue(), 0) << "delivered once";
  EXPECT_EQ(service_->OffsetTable().at(2), 1);
}

TEST_F(ScheduleMessageServiceTest, LevelsAreIndependentAndEachKeepsItsOrder) {
  SendDelayed("slow", 3);  // 1 min
  SendDelayed("fast1", 1);
  SendDelayed("fast2", 1);
  clock_.AdvanceMillis(1'000);
  EXPECT_EQ(service_->DeliverDue(), 2);
  auto got = Delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "fast1");
  EXPECT_EQ(got[1].body, "fast2");
  clock_.AdvanceMillis(59'000);
  EXPECT_EQ(service_->DeliverDue(), 1);
  EXPECT_EQ(Delivered().back().body, "slow");
  EXPECT_EQ(service_->OffsetTable(), (std::map<int32_t, int64_t>{{1, 2}, {2, 0}, {3, 1}}));
}

TEST_F(ScheduleMessageServiceTest, ProgressSurvivesARestartAndNothingIsDeliveredTwice) {
  SendDelayed("a", 1);
  SendDelayed("b", 2);
  clock_.AdvanceMillis(1'000);
  EXPECT_EQ(service_->DeliverDue(), 1);
  Close();
  auto text = io::ReadFileToString(mem_, "/store/config/delayOffset.json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"({"offsetTable":{"1":1,"2":0,"3":0}})");
  Open();
  clock_.AdvanceMillis(4'000);
  EXPECT_EQ(service_->DeliverDue(), 1);
  auto got = Delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "a");
  EXPECT_EQ(got[1].body, "b");
}

TEST_F(ScheduleMessageServiceTest, ASlaveDeliversNothingAndTakesItsMastersTable) {
  master_ = false;
  SendDelayed("a", 1);
  clock_.AdvanceMillis(2'000);
  EXPECT_EQ(service_->DeliverDue(), 0);
  EXPECT_FALSE(service_->ReplaceFromMaster("not json").ok());
  ASSERT_TRUE(service_->ReplaceFromMaster(R"({"offsetTable":{1:1,2:0}})").ok());
  EXPECT_EQ(service_->OffsetTable().at(1), 1);
  // Promoted: it continues where the master was, so "a" (delivered by the master) is not delivered again.
  master_ = true;
  EXPECT_EQ(service_->DeliverDue(), 0);
  SendDelayed("b", 1);
  clock_.AdvanceMillis(1'000);
  EXPECT_EQ(service_->DeliverDue(), 1);
  EXPECT_EQ(Delivered().back().body, "b");
}

TEST_F(ScheduleMessageServiceTest, OnlyConfirmedDeliveriesAreReportedOrPersisted) {
  Close();
  Open(/*bounded=*/true);
  SendDelayed("a", 1);
  const PhysicalOffset confirmed = store_->MaxPhyOffset();
  store_->SetConfirmOffset(confirmed);  // the delayed message itself is on the slaves
  clock_.AdvanceMillis(1'000);
  EXPECT_EQ(service_->DeliverDue(), 1);
  // Its delivered copy is not confirmed yet: a slave copying this table must not skip "a".
  EXPECT_EQ(service_->OffsetTable().at(1), 0);
  ASSERT_TRUE(service_->Persist().ok());
  EXPECT_EQ(*io::ReadFileToString(mem_, "/store/config/delayOffset.json"),
            R"({"offsetTable":{"1":0,"2":0,"3":0}})");
  EXPECT_EQ(service_->RuntimeStats().at("scheduleMessageOffset_1"), "1,1");
  store_->SetConfirmOffset(store_->MaxPhyOffset());
  EXPECT_EQ(service_->OffsetTable().at(1), 1);
}

TEST_F(ScheduleMessageServiceTest, ACorruptProgressFileStopsTheBrokerWithAClearError) {
  Close();
  ASSERT_TRUE(io::WriteFileAtomically(mem_, "/store/config/delayOffset.json", "{garbage").ok());
  store::MessageStoreConfig sc = testing::TestStoreConfig("c", "b");
  store_ = std::make_unique<store::MessageStore>(sc, mem_, clock_,
                                                 store::StoreOptions{.background_services = false});
  ASSERT_TRUE(store_->Open().ok());
  ScheduleMessageService s({.offsets_path = "/store/config/delayOffset.json"}, *store_, mem_, clock_,
                           [] { return true; });
  Status st = s.Load();
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("delayOffset.json cannot be read"), std::string_view::npos) << st;
}

TEST(MessageTimeUpTest, RefusesAScheduledMessageWithoutItsRealTopic) {
  model::StoredMessage m;
  m.topic = "SCHEDULE_TOPIC_XXXX";
  m.properties = model::EncodeProperties({{"DELAY", "1"}, {"REAL_QID", "x"}, {"REAL_TOPIC", "T"}});
  EXPECT_FALSE(MessageTimeUp(m).ok());
  m.properties = model::EncodeProperties({{"DELAY", "1"}, {"REAL_QID", "0"}});
  EXPECT_FALSE(MessageTimeUp(m).ok());
}

TEST(ApplyDelayLevelTest, LeavesTransactionHalvesAndUndelayedMessagesAlone) {
  model::DelayLevels levels;
  model::StoredMessage m;
  m.topic = "T";
  m.properties = model::EncodeProperties({{"DELAY", "2"}});
  m.sys_flag = model::sysflag::kTransactionPrepared;
  ASSERT_TRUE(ApplyDelayLevel(levels, &m).ok());
  EXPECT_EQ(m.topic, "T");
  m.sys_flag = 0;
  m.properties = model::EncodeProperties({{"DELAY", "0"}});
  ASSERT_TRUE(ApplyDelayLevel(levels, &m).ok());
  EXPECT_EQ(m.topic, "T");
  m.properties = model::EncodeProperties({{"DELAY", "x"}});
  EXPECT_FALSE(ApplyDelayLevel(levels, &m).ok());
  EXPECT_EQ(m.topic, "T");
}

}  // namespace
}  // namespace fmq::server
