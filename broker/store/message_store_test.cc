#include "broker/store/message_store.h"

#include <gtest/gtest.h>

#include <thread>

#include <set>

#include "broker/base/coding.h"
#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/store/store_test_util.h"
#include "broker/store/store_verifier.h"

namespace fmq::store {
namespace {

using testing::Message;
using testing::SmallConfig;

class MessageStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<MessageStore> OpenStore(MessageStoreConfig cfg = SmallConfig()) {
    auto store = std::make_unique<MessageStore>(cfg, fs_, clock_, StoreOptions{.background_services = false});
    Status s = store->Open();
    EXPECT_TRUE(s.ok()) << s;
    return store;
  }

  ManualClock clock_{1'700'000'000'123};
  io::MemoryFileSystem fs_{&clock_};
};

// Protocol reference 4.1: the first record of a commit log (topic T, body "hi", TAGS=A, born 10.0.0.2:50000
// at 1700000000000, stored on 10.0.0.1:10911 at 1700000000123).
const uint8_t kGoldenRecord[100] = {
    0x00, 0x00, 0x00, 0x64, 0xda, 0xa3, 0x20, 0xa7, 0x58, 0x93, 0x2a, 0xac, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  //
    0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0xc3, 0x50, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b,  //
    0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x2a, 0x9f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x68, 0x69, 0x01, 0x54, 0x00, 0x06, 0x54, 0x41,  //
    0x47, 0x53, 0x01, 0x41};

TEST_F(MessageStoreTest, StoresTheProtocolReferenceRecordAndQueueEntryByteForByte) {
  auto store = OpenStore();
  auto r = store->PutMessage(Message("T", 0, "hi", "A"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->msg_id, "0A00000100002A9F0000000000000000");
  EXPECT_EQ(r->wrote_offset.value(), 0);
  EXPECT_EQ(r->wrote_bytes, 100);
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  store->Close();

  auto cl = fs_.Open("/store/commitlog/00000000000000000000", io::OpenMode::kReadOnly);
  ASSERT_TRUE(cl.ok()) << cl.status();
  uint8_t rec[100];
  ASSERT_EQ(*(*cl)->ReadAt(0, rec), 100u);
  EXPECT_EQ(0, std::memcmp(rec, kGoldenRecord, 100));

  // Consume-queue entry: commit-log offset 0, size 100, tag hash code of "A" = 65.
  const uint8_t kGoldenEntry[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 65};
  auto cq = fs_.Open("/store/consumequeue/T/0/00000000000000000000", io::OpenMode::kReadOnly);
  ASSERT_TRUE(cq.ok()) << cq.status();
  uint8_t entry[20];
  ASSERT_EQ(*(*cq)->ReadAt(0, entry), 20u);
  EXPECT_EQ(0, std::memcmp(entry, kGoldenEntry, 20));

  // Decoding both gives back every field.
  auto reopened = OpenStore();
  auto e = reopened->ConsumeQueueEntry("T", QueueId(0), QueueOffset(0));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->offset.value(), 0);
  EXPECT_EQ(e->size, 100);
  EXPECT_EQ(e->tags_code, 65);
  auto m = reopened->LookMessageByOffset(PhysicalOffset(0));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->topic, "T");
  EXPECT_EQ(m->queue_id.value(), 0);
  EXPECT_EQ(m->queue_offset.value(), 0);
  EXPECT_EQ(m->physical_offset.value(), 0);
  EXPECT_EQ(m->body, "hi");
  EXPECT_EQ(m->body_crc, 0x58932AAC);
  EXPECT_EQ(m->properties,
            "TAGS\x01"
            "A");
  EXPECT_EQ(m->born_timestamp, 1'700'000'000'000);
  EXPECT_EQ(m->born_host.ToString(), "10.0.0.2:50000");
  EXPECT_EQ(m->store_timestamp, 1'700'000'000'123);
  EXPECT_EQ(m->store_host.ToString(), "10.0.0.1:10911");
  EXPECT_EQ(m->sys_flag, 0);
  EXPECT_EQ(m->flag, 0);
  EXPECT_EQ(m->reconsume_times, 0);
  EXPECT_EQ(m->prepared_transaction_offset.value(), 0);
}

TEST_F(MessageStoreTest, AssignsConsecutiveQueueOffsetsPerQueueAndReadsThemBack) {
  auto store = OpenStore();
  for (int i = 0; i < 10; ++i) {
    auto r = store->PutMessage(Message("TopicA", i % 2, "body-" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->queue_offset.value(), i / 2);
  }
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  EXPECT_EQ(store->MaxOffsetInQueue("TopicA", QueueId(0)).value(), 5);
  EXPECT_EQ(store->MaxOffsetInQueue("TopicA", QueueId(1)).value(), 5);
  auto got = store->GetMessage("TopicA", QueueId(1), QueueOffset(0), 32);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, GetMessageStatus::kFound);
  ASSERT_EQ(got->messages.size(), 5u);
  EXPECT_EQ(got->next_begin_offset.value(), 5);
  for (int i = 0; i < 5; ++i) {
    auto m = model::DecodeStoredMessage(got->messages[i].bytes(), true);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->body, "body-" + std::to_string(2 * i + 1));
    EXPECT_EQ(m->queue_offset.value(), i);
    EXPECT_EQ(m->store_timestamp, clock_.NowMillis());
  }
}

TEST_F(MessageStoreTest, APullAtTheQueuesEndSeesEveryAcknowledgedMessageEvenBeforeTheDispatcherRan) {
  auto store = OpenStore();  // no background dispatcher: only explicit dispatch makes entries
  ASSERT_TRUE(store->PutMessage(Message("T", 0, "first")).ok());
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(store->PutMessage(Message("T", 0, "late-" + std::to_string(i))).ok());
  // Acknowledged but not dispatched: a plain read sees only the first one.
  EXPECT_EQ(store->GetMessage("T", QueueId(0), QueueOffset(0), 32)->messages.size(), 1u);
  // A read inside what is dispatched already does not dispatch.
  store->CatchUpForRead("T", QueueId(0), QueueOffset(0), 1);
  EXPECT_EQ(store->MaxOffsetInQueue("T", QueueId(0)).value(), 1);
  // A read reaching the queue's end catches dispatch up first (the e2e-v4 PullParamTest case).
  store->CatchUpForRead("T", QueueId(0), QueueOffset(0), 32);
  auto got = store->GetMessage("T", QueueId(0), QueueOffset(0), 32);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->messages.size(), 4u);
  EXPECT_EQ(got->next_begin_offset.value(), 4);
  // And so does a pull for a queue no entry was dispatched to yet.
  ASSERT_TRUE(store->PutMessage(Message("Fresh", 0, "x")).ok());
  store->CatchUpForRead("Fresh", QueueId(0), QueueOffset(0), 32);
  EXPECT_EQ(store->GetMessage("Fresh", QueueId(0), QueueOffset(0), 32)->messages.size(), 1u);
}

TEST_F(MessageStoreTest, GetMessageReportsRocketMqStatusesAtTheQueueEdges) {
  auto store = OpenStore();
  EXPECT_EQ(store->GetMessage("Nope", QueueId(0), QueueOffset(0), 32)->status,
            GetMessageStatus::kNoMatchedLogicQueue);
  ASSERT_TRUE(store->PutMessage(Message("T", 0, "x")).ok());
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  EXPECT_EQ(store->GetMessage("T", QueueId(0), QueueOffset(1), 32)->status,
            GetMessageStatus::kOffsetOverflowOne);
  auto bad = store->GetMessage("T", QueueId(0), QueueOffset(9), 32);
  EXPECT_EQ(bad->status, GetMessageStatus::kOffsetOverflowBadly);
  EXPECT_EQ(bad->next_begin_offset.value(), 0);  // min is 0: start over
}

class TagFilter : public MessageFilter {
 public:
  explicit TagFilter(std::set<int64_t> codes) : codes_(std::move(codes)) {}
  bool IsMatchedByConsumeQueue(int64_t code) const override { return codes_.count(code) > 0; }

 private:
  std::set<int64_t> codes_;
};

TEST_F(MessageStoreTest, FiltersByTagHashAndAdvancesPastFilteredEntries) {
  auto store = OpenStore();
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(store->PutMessage(Message("T", 0, "m", i % 3 == 0 ? "TagA" : "TagB")).ok());
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  TagFilter only_a({model::TagsHashCode("TagA")});
  auto got = store->GetMessage("T", QueueId(0), QueueOffset(0), 32, &only_a);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->messages.size(), 2u);
  EXPECT_EQ(got->next_begin_offset.value(), 6);
  TagFilter none({model::TagsHashCode("TagC")});
  got = store->GetMessage("T", QueueId(0), QueueOffset(0), 32, &none);
  EXPECT_EQ(got->status, GetMessageStatus::kNoMatchedMessage);
  EXPECT_EQ(got->next_begin_offset.value(), 6);
}

TEST_F(MessageStoreTest, RollsSegmentsWithABlankMarkerAndReadsAcrossThem) {
  auto cfg = SmallConfig();
  auto store = OpenStore(cfg);
  const std::string body(1000, 'x');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->PutMessage(Message("T", 0, body)).ok());
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  auto files = fs_.ListDir("/store/commitlog");
  ASSERT_TRUE(files.ok());
  EXPECT_GE(files->size(), 3u);
  // The first segment ends with the blank marker: TOTALSIZE = bytes left, magic 0xCBD43194.
  auto first = fs_.Open("/store/commitlog/00000000000000000000", io::OpenMode::kReadOnly);
  const size_t per = model::StoredMessageSize(1000, 1, 0, false, false);
  const size_t used = (cfg.mapped_file_size_commit_log - 8) / per * per;
  uint8_t blank[8];
  ASSERT_EQ(*(*first)->ReadAt(used, blank), 8u);
  EXPECT_EQ(DecodeI32(blank), static_cast<int32_t>(cfg.mapped_file_size_commit_log - used));
  EXPECT_EQ(DecodeI32(blank + 4), model::kBlankMagic);
  int read = 0;
  for (QueueOffset off(0); off.value() < 200;) {
    auto got = store->GetMessage("T", QueueId(0), off, 32);
    ASSERT_EQ(got->status, GetMessageStatus::kFound);
    read += static_cast<int>(got->messages.size());
    off = got->next_begin_offset;
  }
  EXPECT_EQ(read, 200);
  EXPECT_TRUE(VerifyStore(*store).ok());
}

TEST_F(MessageStoreTest, ADelayedMessagesEntryHoldsTheTimeItIsDue) {
  auto cfg = SmallConfig();
  cfg.message_delay_level = "1s 7s";
  auto store = OpenStore(cfg);
  auto m = Message("SCHEDULE_TOPIC_XXXX", 1, "later", "TagD");
  m.properties = model::WithProperty(m.properties, "DELAY", "2");
  auto clamped = Message("SCHEDULE_TOPIC_XXXX", 1, "later", "TagD");
  clamped.properties = model::WithProperty(clamped.properties, "DELAY", "9");
  auto r1 = store->PutMessage(std::move(m));
  auto r2 = store->PutMessage(std::move(clamped));
  ASSERT_TRUE(r1.ok() && r2.ok());
  // Elsewhere the tag hash, as always.
  ASSERT_TRUE(store->PutMessage(Message("T", 0, "now", "TagD")).ok());
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  EXPECT_EQ(store->ConsumeQueueEntry("SCHEDULE_TOPIC_XXXX", QueueId(1), QueueOffset(0))->tags_code,
            r1->store_timestamp + 7000);
  EXPECT_EQ(store->ConsumeQueueEntry("SCHEDULE_TOPIC_XXXX", QueueId(1), QueueOffset(1))->tags_code,
            r2->store_timestamp + 7000);
  EXPECT_EQ(store->ConsumeQueueEntry("T", QueueId(0), QueueOffset(0))->tags_code,
            model::TagsHashCode("TagD"));
  EXPECT_TRUE(VerifyStore(*store).ok());
}

TEST_F(MessageStoreTest, StoresABatchContiguouslyWithCommaSeparatedIds) {
  auto store = OpenStore();
  std::vector<model::StoredMessage> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(Message("T", 2, "b" + std::to_string(i)));
  auto r = store->PutMessages(std::move(batch));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->message_count, 3);
  EXPECT_EQ(std::count(r->msg_id.begin(), r->msg_id.end(), ','), 2);
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  EXPECT_EQ(store->MaxOffsetInQueue("T", QueueId(2)).value(), 3);
  auto second = model::DecodeOffsetMessageId(r->msg_id.substr(33, 32));
  ASSERT_TRUE(second.ok());
  auto m = store->LookMessageByOffset(second->offset);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->body, "b1");
  EXPECT_EQ(m->queue_offset.value(), 1);
}

TEST_F(MessageStoreTest, RefusesOversizedBodiesBadTopicsAndMixedBatchesWithClearErrors) {
  auto store = OpenStore();
  auto big = store->PutMessage(Message("T", 0, std::string(16 * 1024 + 1, 'x')));
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("above maxMessageSize 16384"), std::string_view::npos);
  auto bad = store->PutMessage(Message("bad topic", 0, "x"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("' ' at position 3"), std::string_view::npos) << bad.status();
  std::vector<model::StoredMessage> mixed;
  mixed.push_back(Message("T", 0, "a"));
  mixed.push_back(Message("T", 1, "b"));
  EXPECT_EQ(store->PutMessages(std::move(mixed)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MessageStoreTest, QueriesByKeyAndUniqueKeyWithinATimeRange) {
  auto store = OpenStore();
  for (int i = 0; i < 300; ++i) {  // more than one index file (256 entries each)
    clock_.AdvanceMillis(1000);
    ASSERT_TRUE(
        store
            ->PutMessage(Message("T", 0, "m" + std::to_string(i), "",
                                 "order-" + std::to_string(i % 50) + " shared", "UNIQ" + std::to_string(i)))
            .ok());
  }
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  auto r = store->QueryMessage("T", "UNIQ7", 32, 0, INT64_MAX);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(model::DecodeStoredMessage(r.messages[0].bytes(), true)->body, "m7");
  r = store->QueryMessage("T", "order-3", 32, 0, INT64_MAX);
  EXPECT_EQ(r.messages.size(), 6u);  // 3, 53, 103, ... 253
  r = store->QueryMessage("Other", "order-3", 32, 0, INT64_MAX);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_TRUE(VerifyStore(*store).ok());
}

TEST_F(MessageStoreTest, FindsQueueOffsetsByStoreTime) {
  auto store = OpenStore();
  const int64_t t0 = clock_.NowMillis();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store->PutMessage(Message("T", 0, "m")).ok());
    clock_.AdvanceMillis(100);
  }
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  EXPECT_EQ(store->OffsetInQueueByTime("T", QueueId(0), t0 - 1).value(), 0);
  EXPECT_EQ(store->OffsetInQueueByTime("T", QueueId(0), t0 + 550).value(), 6);
  EXPECT_EQ(store->OffsetInQueueByTime("T", QueueId(0), t0 + 600).value(), 6);
  EXPECT_EQ(store->OffsetInQueueByTime("T", QueueId(0), t0 + 100000).value(), 20);
  EXPECT_EQ(*store->MessageStoreTimestamp("T", QueueId(0), QueueOffset(3)), t0 + 300);
}

TEST_F(MessageStoreTest, StoreTimestampsNeverGoBackwardsWhenTheClockDoes) {
  auto store = OpenStore();
  auto a = store->PutMessage(Message("T", 0, "a"));
  clock_.AdvanceMillis(-5000);
  auto b = store->PutMessage(Message("T", 0, "b"));
  EXPECT_EQ(a->store_timestamp, b->store_timestamp);
}

TEST_F(MessageStoreTest, ReopensCleanlyWithEverythingIntact) {
  {
    auto store = OpenStore();
    for (int i = 0; i < 150; ++i)
      ASSERT_TRUE(
          store->PutMessage(Message("T", i % 3, std::string(700, 'a'), "", "k" + std::to_string(i))).ok());
    store->Close();
  }
  auto store = OpenStore();
  EXPECT_FALSE(store->recovered_abnormally());
  EXPECT_EQ(store->MaxOffsetInQueue("T", QueueId(1)).value(), 50);
  auto r = store->PutMessage(Message("T", 1, "after"));
  EXPECT_EQ(r->queue_offset.value(), 50);
  ASSERT_TRUE(store->TEST_DispatchAll().ok());
  auto rep = VerifyStore(*store);
  EXPECT_TRUE(rep.ok()) << rep.first_bad_reason << (rep.problems.empty() ? "" : rep.problems[0]);
  EXPECT_EQ(rep.messages, 151);
}

TEST_F(MessageStoreTest, RebuildsMissingConsumeQueuesAndIndexFromTheCommitLog) {
  {
    auto store = OpenStore();
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(
          store->PutMessage(Message("T" + std::to_string(i % 4), 0, "m", "", "key" + std::to_string(i)))
              .ok());
    store->Close();
  }
  ASSERT_TRUE(fs_.RemoveAll("/store/consumequeue").ok());
  ASSERT_TRUE(fs_.RemoveAll("/store/index").ok());
  auto store = OpenStore();
  EXPECT_EQ(store->MaxOffsetInQueue("T2", QueueId(0)).value(), 25);
  EXPECT_EQ(store->QueryMessage("T3", "key99", 4, 0, INT64_MAX).messages.size(), 1u);
  auto rep = VerifyStore(*store);
  EXPECT_TRUE(rep.ok()) << (rep.problems.empty() ? rep.first_bad_reason : rep.problems[0]);
  EXPECT_EQ(rep.messages, 100);
  EXPECT_EQ(rep.consume_queue_entries, 100);
}

TEST_F(MessageStoreTest, RefusesAStoreThatBelongsToAnotherBrokerAndSaysHowToProceed) {
  { auto store = OpenStore(); }
  auto cfg = SmallConfig();
  cfg.broker_name = "broker-b";
  MessageStore other(cfg, fs_, clock_, StoreOptions{.background_services = false});
  Status s = other.Open();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("belongs to cluster 'TestCluster' broker 'broker-t'"), std::string_view::npos)
      << s;
  EXPECT_NE(s.message().find("ferrymq-identity.json"), std::string_view::npos) << s;
}

TEST_F(MessageStoreTest, RefusesASecondOpenOfTheSameDirectory) {
  auto first = OpenStore();
  MessageStore second(SmallConfig(), fs_, clock_, StoreOptions{.background_services = false});
  Status s = second.Open();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("in use by another broker process"), std::string_view::npos) << s;
}

TEST_F(MessageStoreTest, SyncFlushAnswersOnlyAfterTheDataIsDurable) {
  auto cfg = SmallConfig();
  cfg.flush_disk_type = FlushDiskType::kSync;
  auto store = OpenStore(cfg);
  for (int i = 0; i < 50; ++i) {
    auto r = store->PutMessage(Message("T", 0, std::string(900, 'z')));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GE(store->TEST_commit_log().FlushedOffset().value(), r->wrote_offset.value() + r->wrote_bytes);
  }
}

TEST_F(MessageStoreTest, SyncFlushReportsAFailedSyncToTheWaiter) {
  io::FaultInjectionFileSystem faulty(&fs_);
  auto cfg = SmallConfig();
  cfg.flush_disk_type = FlushDiskType::kSync;
  MessageStore store(cfg, faulty, clock_, StoreOptions{.background_services = false});
  ASSERT_TRUE(store.Open().ok());
  // Open created the first segment and the allocator is preparing the next one: let it finish, so the
  // injected failures hit the append's sync and not the pre-allocation.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store.TEST_commit_log().AllocatorBusy() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(store.TEST_commit_log().AllocatorBusy());
  faulty.FailNext(io::FsOp::kSync, Status::IOError("injected EIO"), 1000);  // SYNC_FLUSH syncs with fdatasync
  faulty.FailNext(io::FsOp::kMapSync, Status::IOError("injected EIO"), 1000);
  auto r = store.PutMessage(Message("T", 0, "x"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("injected EIO"), std::string_view::npos) << r.status();
  faulty.Reset();
}

TEST_F(MessageStoreTest, ReportsDiskFullWhenASegmentCannotBeAllocated) {
  fs_.SetCapacity(100 * 1024);  // room for the checkpoint and one 64 KiB segment
  auto store = OpenStore();
  Status last;
  for (int i = 0; i < 100 && last.ok(); ++i)
    last = store->PutMessage(Message("T", 0, std::string(1000, 'q'))).status();
  EXPECT_TRUE(last.IsDiskFull()) << last;
}

TEST_F(MessageStoreTest, BackgroundServicesDispatchAndFlushOnTheirOwn) {
  auto store = std::make_unique<MessageStore>(SmallConfig(), fs_, clock_);
  ASSERT_TRUE(store->Open().ok());
  Mutex mu;
  CondVar cv(&mu);
  int64_t arrived = 0;
  store->SetMessageArrivingListener([&](std::string_view, QueueId, QueueOffset next, int64_t) {
    MutexLock l(&mu);
    arrived = next.value();
    cv.SignalAll();
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->PutMessage(Message("T", 0, "m")).ok());
  {
    MutexLock l(&mu);
    for (int i = 0; i < 100 && arrived < 20; ++i) cv.WaitFor(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(arrived, 20);
  store->Close();
}

}  // namespace
}  // namespace fmq::store
