// Retention and disk-space protection with a fake clock and a fake free-space figure: files are deleted by
// age at `deleteWhen`, by age at any hour above diskMaxUsedSpaceRatio (75 %), regardless of age above 85 %,
// and writes are refused with DiskFull above 90 %.

#include <gtest/gtest.h>

#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/store/message_store.h"
#include "broker/store/store_test_util.h"
#include "broker/store/store_verifier.h"

namespace fmq::store {
namespace {

using testing::Message;
using testing::SmallConfig;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStart = 1'700'000'000'000;

class RetentionTest : public ::testing::Test {
 protected:
  // A store whose `deleteWhen` hour is (or is not) the hour the clock will show 73 h from now.
  std::unique_ptr<MessageStore> Open(bool delete_hour_matches_later, int batch_max = 10,
                                     bool clean_forcibly = true) {
    auto cfg = SmallConfig();
    cfg.clean_file_forcibly_enable = clean_forcibly;
    int later_hour = LocalHourOfDay(kStart + 73 * kHour);
    cfg.delete_when = std::to_string(delete_hour_matches_later ? later_hour : (later_hour + 12) % 24);
    cfg.delete_files_batch_max = batch_max;
    auto store =
        std::make_unique<MessageStore>(cfg, faulty_, clock_, StoreOptions{.background_services = false});
    EXPECT_TRUE(store->Open().ok());
    return store;
  }

  // Writes `files` full segments (plus the start of one more) and flushes them at the current time.
  void Fill(MessageStore& store, int files) {
    const std::string body(1000, 'r');
    for (int i = 0; store.MaxPhyOffset().value() <= files * 64 * 1024; ++i) {
      auto r = store.PutMessage(Message("T", 0, body, "", "k" + std::to_string(i)));
      ASSERT_TRUE(r.ok()) << r.status();
      offsets_.push_back(r->wrote_offset);
    }
    ASSERT_TRUE(store.TEST_commit_log().FlushAll().ok());
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    ASSERT_TRUE(store.TEST_FlushConsumeQueues().ok());
  }

  // Segments the store holds (a pre-allocated next segment exists on disk only once the background allocator
  // got to it, so counting files would depend on timing).
  static size_t Segments(MessageStore& store) { return store.TEST_commit_log().queue().Files().size(); }

  void SetUsedRatio(double r) {
    faulty_.SetSpaceOverride(io::SpaceInfo{1000, static_cast<uint64_t>(1000 * (1 - r))});
  }

  std::vector<PhysicalOffset> offsets_;  // of every message Fill() wrote, in queue order
  ManualClock clock_{kStart};
  io::MemoryFileSystem mem_{&clock_};
  io::FaultInjectionFileSystem faulty_{&mem_};
};

TEST_F(RetentionTest, DeletesFilesOlderThanTheReservedTimeOnlyAtTheDeleteHour) {
  SetUsedRatio(0.10);
  {
    auto store = Open(/*delete_hour_matches_later=*/false);
    Fill(*store, 4);
    ASSERT_EQ(Segments(*store), 5u);
    clock_.AdvanceMillis(73 * kHour);
    store->TEST_RunRetention();
    EXPECT_EQ(Segments(*store), 5u) << "not the delete hour and disk not full: nothing goes";
  }
  auto store = Open(/*delete_hour_matches_later=*/true);
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), 1u) << "all but the newest segment go";
  EXPECT_EQ(store->MinPhyOffset().value(), 4 * 64 * 1024);
  // Consume queue and index follow the commit log.
  // The queue's min offset is now its first entry at or above the commit log's new min offset.
  const QueueOffset min = store->MinOffsetInQueue("T", QueueId(0));
  const auto first_kept = std::count_if(offsets_.begin(), offsets_.end(),
                                        [](PhysicalOffset o) { return o.value() < 4 * 64 * 1024; });
  EXPECT_EQ(min.value(), first_kept);
  auto got = store->GetMessage("T", QueueId(0), QueueOffset(0), 32);
  EXPECT_EQ(got->status, GetMessageStatus::kOffsetTooSmall);
  EXPECT_EQ(got->next_begin_offset, min);
  EXPECT_TRUE(store->QueryMessage("T", "k3", 4, 0, INT64_MAX).messages.empty());
  EXPECT_EQ(store->QueryMessage("T", "k" + std::to_string(min.value()), 4, 0, INT64_MAX).messages.size(), 1u);
  EXPECT_TRUE(VerifyStore(*store).ok());
}

TEST_F(RetentionTest, KeepsFilesYoungerThanTheReservedTime) {
  SetUsedRatio(0.10);
  auto cfg = SmallConfig();
  cfg.delete_when = std::to_string(LocalHourOfDay(kStart + 71 * kHour));
  auto store =
      std::make_unique<MessageStore>(cfg, faulty_, clock_, StoreOptions{.background_services = false});
  ASSERT_TRUE(store->Open().ok());
  Fill(*store, 3);
  const size_t before = Segments(*store);
  // 71 h old: younger than fileReservedTime (72 h), so nothing is deleted even at a delete hour.
  clock_.SetMillis(kStart + 71 * kHour);
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), before);
}

TEST_F(RetentionTest, AboveTheUsedSpaceRatioExpiredFilesGoAtAnyHour) {
  auto store = Open(/*delete_hour_matches_later=*/false);
  Fill(*store, 3);
  clock_.AdvanceMillis(73 * kHour);
  SetUsedRatio(0.80);
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), 1u);
  EXPECT_FALSE(store->IsDiskFull());
}

TEST_F(RetentionTest, AboveTheForceCleanRatioEvenYoungFilesGoButAtMostABatchPerRound) {
  auto store = Open(/*delete_hour_matches_later=*/false, /*batch_max=*/2);
  Fill(*store, 5);
  ASSERT_EQ(Segments(*store), 6u);
  SetUsedRatio(0.86);
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), 4u) << "two per round";
  store->TEST_RunRetention();
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), 1u) << "never the newest segment";
  EXPECT_TRUE(VerifyStore(*store).ok());
}

TEST_F(RetentionTest, WithoutForcedCleaningYoungFilesStayAndWritesStopAtTheWarningRatio) {
  auto store = Open(/*delete_hour_matches_later=*/false, /*batch_max=*/10, /*clean_forcibly=*/false);
  Fill(*store, 3);
  const size_t before = Segments(*store);
  SetUsedRatio(0.89);
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), before) << "nothing unexpired is deleted";
  EXPECT_FALSE(store->IsDiskFull());
  SetUsedRatio(0.91);
  store->TEST_RunRetention();
  EXPECT_EQ(Segments(*store), before);
  EXPECT_TRUE(store->IsDiskFull());
  // Every message written is still readable.
  auto got = store->GetMessage("T", QueueId(0), QueueOffset(0), 32);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->min_offset, QueueOffset(0));
  EXPECT_FALSE(got->messages.empty());
}

TEST_F(RetentionTest, AboveTheWarningRatioWritesAreRefusedUntilSpaceIsFreed) {
  auto store = Open(false);
  ASSERT_TRUE(store->PutMessage(Message("T", 0, "before")).ok());
  SetUsedRatio(0.91);
  store->TEST_RunRetention();
  EXPECT_TRUE(store->IsDiskFull());
  auto r = store->PutMessage(Message("T", 0, "refused"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsDiskFull()) << r.status();
  EXPECT_NE(r.status().message().find("91% of the disk"), std::string_view::npos) << r.status();
  // Reads keep working while writes are refused.
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  EXPECT_EQ(store->GetMessage("T", QueueId(0), QueueOffset(0), 32)->messages.size(), 1u);
  SetUsedRatio(0.50);
  store->TEST_RunRetention();
  EXPECT_FALSE(store->IsDiskFull());
  EXPECT_TRUE(store->PutMessage(Message("T", 0, "accepted")).ok());
}

TEST_F(RetentionTest, ABufferAReaderHoldsStaysReadableAfterItsFileIsDeleted) {
  auto store = Open(false);
  Fill(*store, 3);
  auto held = store->GetMessage("T", QueueId(0), QueueOffset(0), 4);
  ASSERT_EQ(held->messages.size(), 4u);
  SetUsedRatio(0.86);
  store->TEST_RunRetention();
  ASSERT_FALSE(mem_.Exists("/store/commitlog/00000000000000000000"));
  // The segment is gone from the store and the directory, yet the pinned bytes are intact (ASan would flag an
  // access to unmapped memory).
  for (const auto& b : held->messages) {
    auto m = model::DecodeStoredMessage(b.bytes(), /*check_crc=*/true);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->body, std::string(1000, 'r'));
  }
  EXPECT_FALSE(store->LookMessageByOffset(PhysicalOffset(0)).ok());
}

}  // namespace
}  // namespace fmq::store
