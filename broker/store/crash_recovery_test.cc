// Crash tests through the fault-injecting file system (no sleeps, no real crashes): a workload runs on a
// FaultInjectionFileSystem that "loses the disk" after its k-th mutating operation, then the MemoryFileSystem
// below it simulates power loss (keeping a random half of the unsynced pages: torn tails), and a new store
// opens the result. Every k from 0 to the end of the workload is tried.

#include <gtest/gtest.h>

#include "broker/base/crc32.h"
#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/store/message_store.h"
#include "broker/store/store_test_util.h"
#include "broker/store/store_verifier.h"

namespace fmq::store {
namespace {

using testing::Message;
using testing::SmallConfig;

struct Acked {
  int index;
  PhysicalOffset offset;
  QueueId queue;
  QueueOffset queue_offset;
};

std::string BodyOf(int i) {
  return "message-" + std::to_string(i) + "-" + std::string(600 + (i * 37) % 1500, 'a' + i % 26);
}

// Every fifth message is delayed (SCHEDULE_TOPIC_XXXX, DELAY=3): its consume-queue entry holds the time it is
// due, not its tag hash, and recovery's torn-tail check must accept it.
model::StoredMessage WorkloadMessage(int i) {
  if (i % 5 == 4) {
    auto m = Message("SCHEDULE_TOPIC_XXXX", i % 3, BodyOf(i), "TagD", "key" + std::to_string(i),
                     "UNIQ" + std::to_string(i));
    m.properties = model::WithProperty(m.properties, "DELAY", "3");
    m.properties = model::WithProperty(m.properties, "REAL_TOPIC", "Topic0");
    m.properties = model::WithProperty(m.properties, "REAL_QID", "0");
    return m;
  }
  return Message("Topic" + std::to_string(i % 2), i % 3, BodyOf(i), i % 2 ? "TagA" : "TagB",
                 "key" + std::to_string(i), "UNIQ" + std::to_string(i));
}

// Opens the crashed image and checks it: recovery succeeds, nothing is corrupt, consume queues and index
// match the commit log, and the store takes new writes that continue the queue offsets.
std::unique_ptr<MessageStore> ReopenAndVerify(io::MemoryFileSystem& mem, const Clock& clock,
                                              MessageStoreConfig cfg, const std::string& context) {
  auto store = std::make_unique<MessageStore>(cfg, mem, clock, StoreOptions{.background_services = false});
  Status s = store->Open();
  EXPECT_TRUE(s.ok()) << context << ": " << s;
  if (!s.ok()) return nullptr;
  VerifyReport rep = VerifyStore(*store);
  EXPECT_TRUE(rep.ok()) << context << ": first bad offset " << rep.first_bad_offset << " "
                        << rep.first_bad_reason << (rep.problems.empty() ? "" : " / " + rep.problems[0]);
  return store;
}

void CheckWritableAfterRecovery(MessageStore& store, const std::string& context) {
  QueueOffset before = store.MaxOffsetInQueue("Topic0", QueueId(0));
  auto r = store.PutMessage(Message("Topic0", 0, "after-recovery"));
  ASSERT_TRUE(r.ok()) << context << ": " << r.status();
  EXPECT_EQ(r->queue_offset, before) << context;
  ASSERT_TRUE(store.TEST_DispatchAll().ok());
  EXPECT_EQ(store.MaxOffsetInQueue("Topic0", QueueId(0)), before + 1) << context;
}

// Runs the workload until the disk is gone; returns the acknowledged messages. `after_put` gets the index of
// the put and how many puts were acknowledged so far.
std::vector<Acked> RunWorkload(io::FileSystem& fs, const Clock& clock, const MessageStoreConfig& cfg,
                               int messages, const std::function<void(MessageStore&, int, int)>& after_put) {
  std::vector<Acked> acked;
  MessageStore store(cfg, fs, clock, StoreOptions{.background_services = false});
  if (!store.Open().ok()) return acked;
  for (int i = 0; i < messages; ++i) {
    auto r = store.PutMessage(WorkloadMessage(i));
    if (r.ok()) acked.push_back({i, r->wrote_offset, QueueId(i % 3), r->queue_offset});
    after_put(store, i, static_cast<int>(acked.size()));
  }
  return acked;  // the destructor closes (or fails to, once the disk is gone)
}

TEST(CrashRecoveryTest, SyncFlushKeepsEveryAcknowledgedAppendWhereverTheCrashHits) {
  auto cfg = SmallConfig();
  cfg.flush_disk_type = FlushDiskType::kSync;
  constexpr int kMessages = 60;
  // Count the mutating operations of an uninterrupted run to know the range of crash points.
  uint64_t total_ops = 0;
  {
    ManualClock clock;
    io::MemoryFileSystem mem(&clock);
    io::FaultInjectionFileSystem faulty(&mem);
    RunWorkload(faulty, clock, cfg, kMessages, [](MessageStore& s, int i, int) {
      if (i % 10 == 9) {
        (void)s.TEST_DispatchAll();
        (void)s.TEST_FlushConsumeQueues();
      }
    });
    total_ops = faulty.mutation_count();
  }
  ASSERT_GT(total_ops, 60u);
  int crashes_with_acks = 0;
  for (uint64_t k = 0; k <= total_ops + 2; ++k) {
    ManualClock clock;
    io::MemoryFileSystem mem(&clock);
    io::FaultInjectionFileSystem faulty(&mem);
    faulty.CrashAfter(k);
    auto acked = RunWorkload(faulty, clock, cfg, kMessages, [&](MessageStore& s, int i, int) {
      clock.AdvanceMillis(7);
      if (i % 10 == 9) {
        (void)s.TEST_DispatchAll();
        (void)s.TEST_FlushConsumeQueues();
      }
    });
    mem.Crash(/*seed=*/k, /*keep_probability=*/0.5);
    const std::string context = "crash after " + std::to_string(k) + " of " + std::to_string(total_ops) +
                                " operations, " + std::to_string(acked.size()) + " acknowledged";
    auto store = ReopenAndVerify(mem, clock, cfg, context);
    ASSERT_NE(store, nullptr) << context;
    crashes_with_acks += !acked.empty();
    for (const auto& a : acked) {
      auto m = store->LookMessageByOffset(a.offset);
      ASSERT_TRUE(m.ok()) << context << ": acknowledged message " << a.index << " lost: " << m.status();
      EXPECT_EQ(m->body, BodyOf(a.index)) << context;
      EXPECT_EQ(m->body_crc, RocketMqCrc32(m->body)) << context;
      auto in_queue = store->CommitLogOffsetInQueue(m->topic, a.queue, a.queue_offset);
      ASSERT_TRUE(in_queue.ok()) << context << ": message " << a.index << " missing from its consume queue";
      EXPECT_EQ(*in_queue, a.offset) << context;
      EXPECT_EQ(
          store->QueryMessage(m->topic, "UNIQ" + std::to_string(a.index), 4, 0, INT64_MAX).messages.size(),
          1u)
          << context;
    }
    CheckWritableAfterRecovery(*store, context);
  }
  EXPECT_GT(crashes_with_acks, 30);
}

// Both ASYNC_FLUSH write paths: pwrite (the default) and memcpy into pre-touched mapped pages
// (warmMappedFileEnable=true).
class AsyncFlushCrashTest : public ::testing::TestWithParam<bool> {};

TEST_P(AsyncFlushCrashTest, LosesOnlyTheUnflushedTail) {
  auto cfg = SmallConfig();
  cfg.warm_mapped_file_enable = GetParam();
  cfg.flush_interval_commit_log_ms = 3'600'000;  // flushes happen only where the test calls them
  constexpr int kMessages = 80;
  uint64_t total_ops = 0;
  // A successful flush makes every put acknowledged before it durable. (Counting puts rather than
  // acknowledgements would be wrong: the fault-injecting file system may refuse writes while another thread
  // still completes the last operation of its budget, so crashed() can be false while puts already fail.)
  auto flush_every_7 = [](MessageStore& s, int i, int acked_so_far, int* flushed_upto) {
    if (i % 7 == 6) {
      if (s.TEST_commit_log().FlushAll().ok() && flushed_upto) *flushed_upto = acked_so_far;
      (void)s.TEST_DispatchAll();
      (void)s.TEST_FlushConsumeQueues();
    }
  };
  {
    ManualClock clock;
    io::MemoryFileSystem mem(&clock);
    io::FaultInjectionFileSystem faulty(&mem);
    RunWorkload(faulty, clock, cfg, kMessages, [&](MessageStore& s, int i, int acked_so_far) {
      flush_every_7(s, i, acked_so_far, nullptr);
    });
    total_ops = faulty.mutation_count();
  }
  for (uint64_t k = 0; k <= total_ops + 2; ++k) {
    for (double keep : {0.0, 0.5}) {
      ManualClock clock;
      io::MemoryFileSystem mem(&clock);
      io::FaultInjectionFileSystem faulty(&mem);
      faulty.CrashAfter(k);
      int flushed_upto = 0;
      auto acked = RunWorkload(faulty, clock, cfg, kMessages, [&](MessageStore& s, int i, int acked_so_far) {
        clock.AdvanceMillis(5);
        if (!faulty.crashed()) flush_every_7(s, i, acked_so_far, &flushed_upto);
      });
      mem.Crash(k, keep);
      const std::string context = std::string(GetParam() ? "mapped" : "positional") + ": crash after " +
                                  std::to_string(k) + " ops, keep " + std::to_string(keep) + ", flushed " +
                                  std::to_string(flushed_upto) + " of " + std::to_string(acked.size());
      auto store = ReopenAndVerify(mem, clock, cfg, context);
      ASSERT_NE(store, nullptr) << context;
      // The survivors are exactly a prefix of what was acknowledged, and include everything flushed.
      std::vector<int> survivors;
      std::string stop;
      ForEachStoredMessage(
          *store,
          [&](const model::StoredMessageView& m, PhysicalOffset, std::span<const uint8_t>) {
            survivors.push_back(std::stoi(std::string(m.body.substr(8, m.body.find('-', 8) - 8))));
          },
          true, &stop);
      ASSERT_GE(static_cast<int>(survivors.size()), flushed_upto) << context;
      for (size_t i = 0; i < survivors.size(); ++i) {
        ASSERT_LT(i, acked.size()) << context;
        EXPECT_EQ(survivors[i], acked[i].index) << context;
      }
      CheckWritableAfterRecovery(*store, context);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WriteModes, AsyncFlushCrashTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Mapped" : "Positional"; });

TEST(CrashRecoveryTest, ACorruptRecordCutsTheLogThereAndStaleBytesNeverComeBack) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  std::vector<PhysicalOffset> offsets;
  {
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 10; ++i)
      offsets.push_back(store.PutMessage(Message("T", 0, std::string(500, 'a' + i)))->wrote_offset);
    ASSERT_TRUE(store.TEST_commit_log().FlushAll().ok());
    faulty.CrashAfter(0);  // no clean close: the abort marker stays
  }
  // Bit rot in the body of message 6, on disk.
  {
    auto f = mem.Open("/store/commitlog/00000000000000000000", io::OpenMode::kReadWrite);
    const uint8_t junk[3] = {'X', 'Y', 'Z'};
    ASSERT_TRUE((*f)->WriteAt(static_cast<uint64_t>(offsets[6].value() + 120), junk).ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }
  {
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    EXPECT_TRUE(store.recovered_abnormally());
    EXPECT_EQ(store.MaxPhyOffset(), offsets[6]);
    EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 6);
    // A new record of the same size lands where message 6 was and ends where stale message 7 began.
    auto r = store.PutMessage(Message("T", 0, std::string(500, 'n')));
    ASSERT_EQ(r->wrote_offset, offsets[6]);
    ASSERT_TRUE(store.TEST_commit_log().FlushAll().ok());
    faulty.CrashAfter(0);
  }
  mem.Crash(1, 0.0);
  auto store = ReopenAndVerify(mem, clock, cfg, "after second crash");
  ASSERT_NE(store, nullptr);
  // Messages 7..9 were cut by the first recovery and zeroed: they must not reappear behind the new record.
  EXPECT_EQ(store->MaxPhyOffset(), offsets[7]);
  EXPECT_EQ(store->MaxOffsetInQueue("T", QueueId(0)).value(), 7);
}

TEST(CrashRecoveryTest, ConsumeQueuesAndIndexThatNeverReachedDiskAreRebuilt) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  {
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(store.PutMessage(WorkloadMessage(i)).ok());
      clock.AdvanceMillis(10);
    }
    ASSERT_TRUE(store.TEST_commit_log().FlushAll().ok());
    ASSERT_TRUE(store.TEST_DispatchAll().ok());  // entries exist in memory only: never flushed
    faulty.CrashAfter(0);
  }
  mem.Crash(3, 0.0);
  auto store = ReopenAndVerify(mem, clock, cfg, "consume queues lost");
  ASSERT_NE(store, nullptr);
  // i%2==1 && i%3==1: 1,7,...,97, without the delayed 19, 49, 79.
  EXPECT_EQ(store->MaxOffsetInQueue("Topic1", QueueId(1)).value(), 14);
  EXPECT_EQ(store->MaxOffsetInQueue("SCHEDULE_TOPIC_XXXX", QueueId(1)).value(), 7);  // 4, 19, 34, ..., 94
  EXPECT_EQ(store->QueryMessage("Topic1", "key97", 4, 0, INT64_MAX).messages.size(), 1u);
}

}  // namespace
}  // namespace fmq::store

namespace fmq::store {
namespace {

TEST(CrashRecoveryTest, AHalfWrittenConsumeQueueEntryIsReplacedFromTheCommitLog) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  {
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store.PutMessage(Message("T", 0, "m", "TagA")).ok());
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    ASSERT_TRUE(store.TEST_FlushConsumeQueues().ok());
    faulty.CrashAfter(0);
  }
  // The last entry's tag code (bytes 12..19 of entry 9) did not reach the disk: its page was lost.
  auto cq = mem.Open("/store/consumequeue/T/0/00000000000000000000", io::OpenMode::kReadWrite);
  const uint8_t zeros[8] = {};
  ASSERT_TRUE((*cq)->WriteAt(9 * 20 + 12, zeros).ok());
  ASSERT_TRUE((*cq)->Sync().ok());
  cq->reset();
  auto store = ReopenAndVerify(mem, clock, cfg, "torn entry");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->ConsumeQueueEntry("T", QueueId(0), QueueOffset(9))->tags_code,
            model::TagsHashCode("TagA"));
}

TEST(CrashRecoveryTest, ACleanReopenReplaysNothingEvenWithoutIndexedKeys) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  int64_t end = 0;
  {
    MessageStore store(cfg, mem, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(store.PutMessage(Message("T", 0, "no keys")).ok());
    end = store.MaxPhyOffset().value();
  }
  MessageStore store(cfg, mem, clock, StoreOptions{.background_services = false});
  ASSERT_TRUE(store.Open().ok());
  EXPECT_FALSE(store.recovery_info().abnormal);
  EXPECT_EQ(store.recovery_info().dispatched_from, end);
}

TEST(CrashRecoveryTest, WithTheIndexDisabledACrashReplaysFromTheCheckpointNotTheStart) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  cfg.message_index_enable = false;
  {
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(store.PutMessage(Message("T", 0, std::string(900, 'p'))).ok());
      clock.AdvanceMillis(100);
    }
    ASSERT_TRUE(store.TEST_commit_log().FlushAll().ok());
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    ASSERT_TRUE(store.TEST_FlushConsumeQueues().ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store.PutMessage(Message("T", 0, "tail")).ok());
    faulty.CrashAfter(0);
  }
  mem.Crash(9, 0.0);
  auto store = ReopenAndVerify(mem, clock, cfg, "index disabled");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->recovery_info().abnormal);
  EXPECT_GT(store->recovery_info().scan_safe_point, 0) << "a crash must not force a scan of the whole log";
  // Everything flushed before the crash is back; the 5 unflushed tail appends may or may not be (the commit
  // log's flush thread can write them before the crash point, more often under TSan).
  EXPECT_GE(store->MaxOffsetInQueue("T", QueueId(0)).value(), 300);
  EXPECT_LE(store->MaxOffsetInQueue("T", QueueId(0)).value(), 305);
}

}  // namespace
}  // namespace fmq::store
