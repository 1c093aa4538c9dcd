// The store's side of replication: epoch histories and the consistent point, byte copies of a master's log
// (records split across frames, blank markers, a copy that starts at a later segment), the confirm offset
// bounding what consumers can read, and truncation (with a crash-point sweep).

#include <gtest/gtest.h>

#include <random>

#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/store/message_store.h"
#include "broker/store/store_test_util.h"
#include "broker/store/store_verifier.h"

namespace fmq::store {
namespace {

using testing::Message;
using testing::SmallConfig;

EpochEntry E(int32_t epoch, int64_t start) { return {Epoch(epoch), PhysicalOffset(start)}; }

// ---------------------------------------------------------------------------------------------------------
// Epoch histories

TEST(EpochHistoryTest, ConsistentPointIsTheEndOfTheNewestSharedEpochOnTheShorterSide) {
  const PhysicalOffset zero(0);
  // Same epochs: the shorter log wins (a slave behind its master keeps everything).
  EXPECT_EQ(*FindConsistentPoint({E(1, 0)}, zero, PhysicalOffset(500), {E(1, 0)}, PhysicalOffset(900)),
            PhysicalOffset(500));
  // The follower wrote on in epoch 1 after the leader took over at 1000 (a returning old master).
  EXPECT_EQ(*FindConsistentPoint({E(1, 0)}, zero, PhysicalOffset(1500), {E(1, 0), E(2, 1000)},
                                 PhysicalOffset(3000)),
            PhysicalOffset(1000));
  // Both followed epoch 2; the follower also has an epoch-3 tail the leader never knew (its own short
  // reign): everything from the end of epoch 2 on the leader's side goes.
  EXPECT_EQ(*FindConsistentPoint({E(1, 0), E(2, 100), E(3, 700)}, zero, PhysicalOffset(800),
                                 {E(1, 0), E(2, 100), E(4, 600)}, PhysicalOffset(2000)),
            PhysicalOffset(600));
  // An empty log has nothing to keep or cut.
  EXPECT_EQ(
      *FindConsistentPoint({}, PhysicalOffset(4096), PhysicalOffset(4096), {E(5, 0)}, PhysicalOffset(10)),
      PhysicalOffset(4096));
  // Logs of unrelated masters share no epoch: refused, never guessed.
  auto unrelated = FindConsistentPoint({E(1, 0)}, zero, PhysicalOffset(10), {E(2, 0)}, PhysicalOffset(10));
  ASSERT_FALSE(unrelated.ok());
  EXPECT_EQ(unrelated.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unrelated.status().message().find("share no epoch"), std::string_view::npos);
  // The same epoch number with another start is not the same term.
  EXPECT_EQ(*FindConsistentPoint({E(1, 0), E(2, 50)}, zero, PhysicalOffset(80), {E(1, 0), E(2, 60)},
                                 PhysicalOffset(90)),
            PhysicalOffset(50));
}

TEST(EpochHistoryTest, PersistsAppendsAndTruncationsAndRefusesDisorder) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  ASSERT_TRUE(mem.CreateDirs("/s").ok());
  {
    auto h = EpochHistory::Open(mem, "/s/epochs.json");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ((*h)->LastEpoch(), Epoch(0));
    ASSERT_TRUE((*h)->Append(E(1, 0)).ok());
    ASSERT_TRUE((*h)->Append(E(3, 400)).ok());
    EXPECT_EQ((*h)->Append(E(3, 500)).code(), StatusCode::kInvalidArgument);  // not a newer epoch
    EXPECT_EQ((*h)->Append(E(4, 300)).code(), StatusCode::kInvalidArgument);  // starts before the last
    ASSERT_TRUE((*h)->Append(E(4, 900)).ok());
    ASSERT_TRUE((*h)->TruncateAfter(PhysicalOffset(600)).ok());
  }
  mem.Crash();
  auto h = EpochHistory::Open(mem, "/s/epochs.json");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)->entries(), (std::vector<EpochEntry>{E(1, 0), E(3, 400)}));
  EXPECT_EQ((*h)->LastEpoch(), Epoch(3));
}

TEST(EpochHistoryTest, AnUnreadableFileIsAnErrorThatSaysWhatToDo) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  ASSERT_TRUE(mem.CreateDirs("/s").ok());
  ASSERT_TRUE(io::WriteFileAtomically(mem, "/s/epochs.json",
                                      R"({"epochs":[{"epoch":2,"startOffset":9},)"
                                      R"({"epoch":1,"startOffset":10}]})")
                  .ok());
  auto h = EpochHistory::Open(mem, "/s/epochs.json");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kCorruption);
  EXPECT_NE(h.status().message().find("delete the file and start it as a slave"), std::string_view::npos);
}

// ---------------------------------------------------------------------------------------------------------
// Copying a master's log

struct Pair {
  ManualClock clock;
  io::MemoryFileSystem mem{&clock};
  std::unique_ptr<MessageStore> master, slave;

  explicit Pair(StoreOptions slave_options = {.background_services = false}) {
    auto mc = SmallConfig("/master");
    master = std::make_unique<MessageStore>(mc, mem, clock, StoreOptions{.background_services = false});
    EXPECT_TRUE(master->Open().ok());
    auto sc = SmallConfig("/slave");
    slave = std::make_unique<MessageStore>(sc, mem, clock, slave_options);
    EXPECT_TRUE(slave->Open().ok());
  }

  // Copies the master's bytes from the slave's end in chunks of random sizes (records and blank markers
  // split anywhere), as HA frames would carry them.
  void Copy(std::mt19937& rng, int64_t upto = INT64_MAX) {
    while (slave->MaxPhyOffset().value() < std::min(upto, master->MaxPhyOffset().value())) {
      auto from = slave->MaxPhyOffset();
      auto buf = master->TEST_commit_log().GetDataFrom(from);
      ASSERT_TRUE(buf.ok()) << buf.status();
      size_t n = std::min<size_t>(buf->size, 1 + rng() % 3000);
      n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), upto - from.value()));
      ASSERT_TRUE(slave->AppendReplicated(from, {buf->data, n}).ok());
    }
  }
};

std::string FileBytes(io::MemoryFileSystem& mem, const std::string& path) {
  auto text = io::ReadFileToString(mem, path);
  return text.ok() ? *text : "<" + text.status().ToString() + ">";
}

TEST(ReplicatedAppendTest, ASlaveCopyIsByteIdenticalAndBuildsItsOwnQueuesAndIndex) {
  Pair p;
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    auto r = p.master->PutMessage(
        Message("T" + std::to_string(i % 3), i % 4, std::string(100 + rng() % 2000, 'a' + i % 26),
                "tag" + std::to_string(i % 2), "k" + std::to_string(i), "U" + std::to_string(i)));
    ASSERT_TRUE(r.ok());
    p.clock.AdvanceMillis(3);
    if (i % 37 == 0) p.Copy(rng);
  }
  p.Copy(rng);
  ASSERT_TRUE(p.slave->TEST_DispatchAll().ok());
  ASSERT_TRUE(p.master->TEST_DispatchAll().ok());
  EXPECT_EQ(p.slave->MaxPhyOffset(), p.master->MaxPhyOffset());
  EXPECT_EQ(p.slave->CompleteEnd(), p.master->MaxPhyOffset());
  auto files = p.master->TEST_commit_log().queue().Files();
  ASSERT_GE(files.size(), 5u) << "the workload must roll segments (blank markers)";
  for (const auto& f : files) {
    const std::string name = MappedFile::FileName(f->base_offset());
    EXPECT_EQ(FileBytes(p.mem, "/slave/commitlog/" + name), FileBytes(p.mem, "/master/commitlog/" + name))
        << name;
  }
  for (int q = 0; q < 4; ++q) {
    EXPECT_EQ(p.slave->MaxOffsetInQueue("T1", QueueId(q)), p.master->MaxOffsetInQueue("T1", QueueId(q)));
  }
  EXPECT_EQ(p.slave->QueryMessage("T2", "k200", 4, 0, INT64_MAX).messages.size(), 1u);
  EXPECT_TRUE(VerifyStore(*p.slave).ok());
}

TEST(ReplicatedAppendTest, ACopyThatStopsInsideARecordDispatchesOnlyWholeRecords) {
  Pair p;
  std::vector<PhysicalOffset> at;
  for (int i = 0; i < 5; ++i)
    at.push_back(p.master->PutMessage(Message("T", 0, std::string(1000, 'x')))->wrote_offset);
  std::mt19937 rng(1);
  p.Copy(rng, at[3].value() + 100);  // 100 bytes into message 3
  ASSERT_TRUE(p.slave->TEST_DispatchAll().ok());
  EXPECT_EQ(p.slave->CompleteEnd(), at[3]);
  EXPECT_EQ(p.slave->MaxOffsetInQueue("T", QueueId(0)).value(), 3);
  EXPECT_TRUE(VerifyStore(*p.slave).ok());
  // A crash there: recovery cuts the partial record, and the copy resumes from the cut.
  p.slave.reset();
  p.mem.Crash(0, 1.0);
  auto sc = SmallConfig("/slave");
  p.slave = std::make_unique<MessageStore>(sc, p.mem, p.clock, StoreOptions{.background_services = false});
  ASSERT_TRUE(p.slave->Open().ok());
  EXPECT_EQ(p.slave->MaxPhyOffset(), at[3]);
  p.Copy(rng);
  ASSERT_TRUE(p.slave->TEST_DispatchAll().ok());
  EXPECT_EQ(p.slave->MaxOffsetInQueue("T", QueueId(0)).value(), 5);
}

TEST(ReplicatedAppendTest, AnEmptySlaveMayStartAtALaterSegmentAndOnlyThere) {
  Pair p;
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(p.master->PutMessage(Message("T", 1, std::string(900, 'm'))).ok());
  auto last = p.master->TEST_commit_log().queue().Last();
  const PhysicalOffset base(last->base_offset());
  ASSERT_GT(base.value(), 0);
  const uint8_t junk[4] = {1, 2, 3, 4};
  auto refused = p.slave->AppendReplicated(base + 8, junk);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("segment start"), std::string_view::npos);
  std::mt19937 rng(3);
  ASSERT_TRUE(p.slave->AppendReplicated(base, {last->data(), 10}).ok());
  p.Copy(rng);
  ASSERT_TRUE(p.slave->TEST_DispatchAll().ok());
  ASSERT_TRUE(p.master->TEST_DispatchAll().ok());
  EXPECT_EQ(p.slave->MinPhyOffset(), base);
  EXPECT_EQ(p.slave->MaxOffsetInQueue("T", QueueId(1)), p.master->MaxOffsetInQueue("T", QueueId(1)));
  // The queue starts where the copied segment's first message sits; earlier offsets are too small.
  const QueueOffset first = p.slave->MinOffsetInQueue("T", QueueId(1));
  EXPECT_GT(first.value(), 0);
  auto got = p.slave->GetMessage("T", QueueId(1), first, 4);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, GetMessageStatus::kFound);
  EXPECT_EQ(p.slave->GetMessage("T", QueueId(1), QueueOffset(0), 4)->status,
            GetMessageStatus::kOffsetTooSmall);
  // Bytes that do not continue the log are refused.
  EXPECT_EQ(p.slave->AppendReplicated(p.slave->MaxPhyOffset() + 1, junk).code(),
            StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------------------
// The confirm offset

TEST(ConfirmOffsetTest, ConsumersSeeOnlyWholeRecordsBelowTheConfirmOffsetAcrossARestart) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  const StoreOptions bounded{.background_services = false, .bounded_by_confirm_offset = true};
  std::vector<PhysicalOffset> at;
  {
    MessageStore store(cfg, mem, clock, bounded);
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 10; ++i)
      at.push_back(
          store.PutMessage(Message("T", 0, "m" + std::to_string(i), "", "", "U" + std::to_string(i)))
              ->wrote_offset);
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 0) << "nothing is confirmed yet";
    EXPECT_NE(store.GetMessage("T", QueueId(0), QueueOffset(0), 32)->status, GetMessageStatus::kFound);
    EXPECT_FALSE(store.LookMessageByOffset(at[0]).ok());
    store.SetConfirmOffset(at[4] + 3);  // inside message 4
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 4);
    EXPECT_TRUE(store.LookMessageByOffset(at[3]).ok());
    EXPECT_FALSE(store.LookMessageByOffset(at[4]).ok());
    EXPECT_EQ(store.QueryMessage("T", "U5", 4, 0, INT64_MAX).messages.size(), 0u);
    EXPECT_TRUE(VerifyStore(store).ok());
    // New appends continue the queue after the unconfirmed ones, not after what consumers see.
    auto r = store.PutMessage(Message("T", 0, "next"));
    EXPECT_EQ(r->queue_offset.value(), 10);
  }
  // After a clean restart what was readable stays readable and the rest waits for confirmation again.
  MessageStore store(cfg, mem, clock, bounded);
  ASSERT_TRUE(store.Open().ok());
  EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 4);
  EXPECT_EQ(store.ConfirmOffset(), at[4]);
  auto r = store.PutMessage(Message("T", 0, "after restart"));
  EXPECT_EQ(r->queue_offset.value(), 11) << "queue offsets of unconfirmed records are never reused";
  store.SetConfirmOffset(PhysicalOffset(INT64_MAX));
  ASSERT_TRUE(store.TEST_DispatchAll().ok());
  EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 12);
}

// apache/rocketmq#8239: with SYNC_FLUSH a consumer read data whose flush never happened; a crash then took it
// back and the queue offsets were reused. Here dispatch stops at what is flushed.
TEST(ConfirmOffsetTest, SyncFlushConsumersNeverReadWhatAFailedFlushCouldTakeBack) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  cfg.flush_disk_type = FlushDiskType::kSync;
  cfg.sync_flush_timeout_ms = 50;
  PhysicalOffset lost_at;
  {
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.PutMessage(Message("T", 0, "durable")).ok());
    const PhysicalOffset fourth = store.MaxPhyOffset();
    // Group commit retries a failing device every 10 ms: enough failures to outlast the test.
    faulty.FailNext(io::FsOp::kSync, Status::IOError("injected: device lost"), 1000);
    auto r = store.PutMessage(Message("T", 0, "never durable"));
    ASSERT_FALSE(r.ok());
    lost_at = store.MaxPhyOffset();
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 3)
        << "an unflushed record must not be readable";
    EXPECT_FALSE(store.LookMessageByOffset(fourth).ok());
    faulty.CrashAfter(0);
  }
  mem.Crash(5, 0.0);
  MessageStore store(cfg, mem, clock, StoreOptions{.background_services = false});
  ASSERT_TRUE(store.Open().ok());
  EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 3);
  EXPECT_LT(store.MaxPhyOffset(), lost_at);
}

// ---------------------------------------------------------------------------------------------------------
// Truncation

TEST(TruncateTest, CutsTheLogQueuesIndexAndEpochsAndTheQueuesContinueFromTheCut) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  auto cfg = SmallConfig();
  MessageStore store(cfg, mem, clock, StoreOptions{.background_services = false});
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.epochs().Append(E(1, 0)).ok());
  std::vector<PhysicalOffset> at;
  for (int i = 0; i < 120; ++i) {
    at.push_back(store.PutMessage(Message("T", i % 2, std::string(700, 'a'), "", "K" + std::to_string(i)))
                     ->wrote_offset);
    clock.AdvanceMillis(10);
    if (i == 90) {
      ASSERT_TRUE(store.epochs().Append(E(2, store.MaxPhyOffset().value())).ok());
    }
  }
  ASSERT_TRUE(store.TEST_DispatchAll().ok());
  ASSERT_TRUE(store.TEST_FlushConsumeQueues().ok());
  EXPECT_EQ(store.TruncateTo(at[60] + 1).code(), StatusCode::kInvalidArgument) << "not a record boundary";
  EXPECT_EQ(store.TruncateTo(store.MaxPhyOffset() + 1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store.TruncateTo(at[60]).ok());
  EXPECT_EQ(store.MaxPhyOffset(), at[60]);
  EXPECT_EQ(store.epochs().entries(), std::vector<EpochEntry>{E(1, 0)});
  EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 30);
  EXPECT_EQ(store.QueryMessage("T", "K70", 4, 0, INT64_MAX).messages.size(), 0u);
  EXPECT_FALSE(mem.Exists("/store/truncate"));
  auto r = store.PutMessage(Message("T", 0, "after the cut", "", "K70"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->wrote_offset, at[60]);
  EXPECT_EQ(r->queue_offset.value(), 30);
  ASSERT_TRUE(store.TEST_DispatchAll().ok());
  auto found = store.QueryMessage("T", "K70", 4, 0, INT64_MAX);
  ASSERT_EQ(found.messages.size(), 1u);
  EXPECT_EQ(found.messages[0].offset, at[60]);
  EXPECT_TRUE(VerifyStore(store).ok());
}

// The next queue offsets after a cut come from the consume queues plus the records they do not hold yet, even
// though the index lost its whole file and dispatch restarts from the log's start to rebuild it.
TEST(TruncateTest, QueuesContinueAfterACutAboveWhatDispatchCoveredWhileTheIndexIsRebuilt) {
  ManualClock clock;
  io::MemoryFileSystem mem(&clock);
  MessageStore store(SmallConfig(), mem, clock, StoreOptions{.background_services = false});
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.epochs().Append(E(1, 0)).ok());
  std::vector<PhysicalOffset> at;
  auto put = [&](int i) {
    auto r = store.PutMessage(Message("T", i % 2, std::string(500, 'q'), "", "K" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status();
    at.push_back(r->wrote_offset);
  };
  for (int i = 0; i < 100; ++i) put(i);
  ASSERT_TRUE(store.TEST_DispatchAll().ok());
  for (int i = 100; i < 120; ++i) put(i);  // not dispatched yet (as beyond a slave's confirm offset)
  ASSERT_TRUE(store.TruncateTo(at[110]).ok());
  auto r = store.PutMessage(Message("T", 0, "after the cut", "", "K-after"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->queue_offset.value(), 55) << "50 dispatched + 5 undispatched below the cut in queue 0";
  auto r1 = store.PutMessage(Message("T", 1, "after the cut", "", "K-after-1"));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->queue_offset.value(), 55);
  ASSERT_TRUE(store.TEST_DispatchAll().ok());
  EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 56);
  EXPECT_EQ(store.QueryMessage("T", "K30", 4, 0, INT64_MAX).messages.size(), 1u) << "the index was rebuilt";
  EXPECT_EQ(store.QueryMessage("T", "K112", 4, 0, INT64_MAX).messages.size(), 0u);
  EXPECT_TRUE(VerifyStore(store).ok());
}

TEST(TruncateTest, ACrashAnywhereInsideATruncationLeavesTheOldLogOrTheCutOne) {
  auto cfg = SmallConfig();
  constexpr int kMessages = 80;
  constexpr int kCutAt = 33;
  auto prepare = [&](io::FileSystem& fs, const Clock& clock, std::vector<PhysicalOffset>* at) {
    MessageStore store(cfg, fs, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    ASSERT_TRUE(store.epochs().Append(E(1, 0)).ok());
    for (int i = 0; i < kMessages; ++i) {
      at->push_back(store.PutMessage(Message("T", i % 3, std::string(600, 'z'), "", "K" + std::to_string(i)))
                        ->wrote_offset);
      if (i == 50) {
        ASSERT_TRUE(store.epochs().Append(E(2, store.MaxPhyOffset().value())).ok());
      }
    }
    ASSERT_TRUE(store.TEST_commit_log().FlushAll().ok());
    ASSERT_TRUE(store.TEST_DispatchAll().ok());
    ASSERT_TRUE(store.TEST_FlushConsumeQueues().ok());
  };
  uint64_t total_ops = 0;
  {
    ManualClock clock;
    io::MemoryFileSystem mem(&clock);
    std::vector<PhysicalOffset> at;
    prepare(mem, clock, &at);
    io::FaultInjectionFileSystem faulty(&mem);
    MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    const uint64_t before = faulty.mutation_count();
    ASSERT_TRUE(store.TruncateTo(at[kCutAt]).ok());
    total_ops = faulty.mutation_count() - before;
  }
  ASSERT_GT(total_ops, 5u);
  int cut_seen = 0;
  for (uint64_t k = 0; k <= total_ops; ++k) {
    ManualClock clock;
    io::MemoryFileSystem mem(&clock);
    std::vector<PhysicalOffset> at;
    prepare(mem, clock, &at);
    PhysicalOffset old_end;
    {
      io::FaultInjectionFileSystem faulty(&mem);
      MessageStore store(cfg, faulty, clock, StoreOptions{.background_services = false});
      ASSERT_TRUE(store.Open().ok());
      old_end = store.MaxPhyOffset();
      faulty.CrashAfter(k);
      (void)store.TruncateTo(at[kCutAt]);
    }
    mem.Crash(k, 0.5);
    const std::string context = "crash after " + std::to_string(k) + " of " + std::to_string(total_ops);
    MessageStore store(cfg, mem, clock, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok()) << context;
    const bool cut = store.MaxPhyOffset() == at[kCutAt];
    cut_seen += cut;
    ASSERT_TRUE(cut || store.MaxPhyOffset() == old_end)
        << context << ": log ends at " << store.MaxPhyOffset();
    if (cut) {
      EXPECT_EQ(store.epochs().entries(), std::vector<EpochEntry>{E(1, 0)}) << context;
      EXPECT_EQ(store.MaxOffsetInQueue("T", QueueId(0)).value(), 11) << context;
    } else {
      EXPECT_EQ(store.epochs().LastEpoch(), Epoch(2)) << context;
    }
    VerifyReport rep = VerifyStore(store);
    EXPECT_TRUE(rep.ok()) << context << ": " << rep.first_bad_reason
                          << (rep.problems.empty() ? "" : " / " + rep.problems[0]);
    auto r = store.PutMessage(Message("T", 0, "after"));
    ASSERT_TRUE(r.ok()) << context;
    EXPECT_EQ(r->queue_offset.value(), cut ? 11 : 27) << context;
  }
  EXPECT_GT(cut_seen, 0);
}

}  // namespace
}  // namespace fmq::store
