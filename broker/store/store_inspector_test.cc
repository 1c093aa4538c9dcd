#include "broker/store/store_inspector.h"

#include <gtest/gtest.h>

#include "broker/base/coding.h"
#include "broker/io/fault_injection_file_system.h"
#include "broker/io/memory_file_system.h"
#include "broker/store/message_store.h"
#include "broker/store/store_test_util.h"

namespace fmq::store {
namespace {

using testing::Message;
using testing::SmallConfig;

class StoreInspectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MessageStore store(SmallConfig(), mem_, clock_, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 120; ++i) {
      auto r = store.PutMessage(Message("T" + std::to_string(i % 2), i % 4, std::string(900, 'a' + i % 26),
                                        "tag" + std::to_string(i % 3)));
      ASSERT_TRUE(r.ok());
      offsets_.push_back(r->wrote_offset.value());
    }
  }

  void Overwrite(const std::string& path, uint64_t at, std::string_view bytes) {
    auto f = mem_.Open(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->WriteAt(at, AsBytes(bytes)).ok());
  }

  ManualClock clock_;
  io::MemoryFileSystem mem_{&clock_};
  std::vector<int64_t> offsets_;
};

TEST_F(StoreInspectorTest, ACleanStoreVerifiesWithEveryMessageCountedAndNothingWritten) {
  io::FaultInjectionFileSystem readonly(&mem_);
  readonly.CrashAfter(0);  // any write would fail: the inspector must not need one
  StoreInspector inspector(readonly, "/store");
  ASSERT_TRUE(inspector.Load().ok());
  auto scan = inspector.ScanCommitLog(-1, nullptr);
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->messages, 120);
  EXPECT_EQ(scan->first_bad_offset, -1);
  EXPECT_EQ(scan->segment_size, 64 * 1024);
  auto queues = inspector.CheckConsumeQueues(scan->min_offset);
  ASSERT_TRUE(queues.ok()) << queues.status();
  EXPECT_EQ(queues->queues.size(), 4u);  // T0:0, T0:2, T1:1, T1:3
  EXPECT_EQ(queues->problem_count, 0) << (queues->problems.empty() ? "" : queues->problems[0]);
  EXPECT_EQ(readonly.mutation_count(), 0u);
}

TEST_F(StoreInspectorTest, ReportsTheFirstBadOffsetOfABitFlipInABody) {
  const int64_t bad = offsets_[70];
  Overwrite("/store/commitlog/" + MappedFile::FileName(bad - bad % (64 * 1024)), bad % (64 * 1024) + 200,
            "#");
  StoreInspector inspector(mem_, "/store");
  ASSERT_TRUE(inspector.Load().ok());
  auto scan = inspector.ScanCommitLog(-1, nullptr);
  EXPECT_EQ(scan->messages, 70);
  EXPECT_EQ(scan->first_bad_offset, bad);
  EXPECT_NE(scan->first_bad_reason.find("CRC"), std::string::npos) << scan->first_bad_reason;
}

TEST_F(StoreInspectorTest, ReportsATornTailAsTheFirstBadOffset) {
  const int64_t end = offsets_.back() + model::StoredMessageSize(900, 2, 9, false, false);
  Overwrite("/store/commitlog/" + MappedFile::FileName(end - end % (64 * 1024)), end % (64 * 1024),
            std::string("\x00\x00\x04\x00\xda\xa3\x20\xa7garbage", 15));
  StoreInspector inspector(mem_, "/store");
  ASSERT_TRUE(inspector.Load().ok());
  auto scan = inspector.ScanCommitLog(-1, nullptr);
  EXPECT_EQ(scan->messages, 120);
  EXPECT_EQ(scan->first_bad_offset, end);
}

TEST_F(StoreInspectorTest, FindsAConsumeQueueEntryThatPointsAtTheWrongRecord) {
  {
    MessageStore store(SmallConfig(), mem_, clock_, StoreOptions{.background_services = false});
    ASSERT_TRUE(store.Open().ok());  // dispatches the queues
  }
  // Entry 3 of T1:1 now points at the record of entry 4.
  uint8_t wrong[8];
  EncodeI64(wrong, offsets_[1 + 4 * 4]);
  Overwrite("/store/consumequeue/T1/1/00000000000000000000", 3 * 20, AsChars(wrong));
  StoreInspector inspector(mem_, "/store");
  ASSERT_TRUE(inspector.Load().ok());
  auto queues = inspector.CheckConsumeQueues(0);
  ASSERT_TRUE(queues.ok());
  ASSERT_EQ(queues->problem_count, 1);
  EXPECT_NE(queues->problems[0].find("T1:1 offset 3 points at a record of T1:1 queue offset 4"),
            std::string::npos)
      << queues->problems[0];
}

TEST_F(StoreInspectorTest, ScansFromAGivenOffsetAndStopsWhenAsked) {
  StoreInspector inspector(mem_, "/store");
  ASSERT_TRUE(inspector.Load().ok());
  std::vector<int64_t> seen;
  auto scan = inspector.ScanCommitLog(offsets_[100], [&](const model::StoredMessageView&, int64_t phys) {
    seen.push_back(phys);
    return seen.size() < 5;
  });
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(seen, std::vector<int64_t>(offsets_.begin() + 100, offsets_.begin() + 105));
}

}  // namespace
}  // namespace fmq::store
