#include "broker/io/fault_injection_file_system.h"

#include <cstring>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/base/clock.h"
#include "broker/base/coding.h"
#include "broker/io/memory_file_system.h"

namespace fmq::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FaultInjectionFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(base_.CreateDirs("/d").ok()); }

  std::unique_ptr<File> OpenBase(const std::string& path) {
    auto file = base_.Open(path, OpenMode::kCreateReadWrite);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  ManualClock clock_;
  MemoryFileSystem base_{&clock_};
  FaultInjectionFileSystem fs_{&base_};
};

TEST_F(FaultInjectionFileSystemTest, PassesOperationsThroughToTheBase) {
  auto file = fs_.Open("/d/f", OpenMode::kCreateReadWrite);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->WriteAt(0, AsBytes("hello")).ok());
  EXPECT_EQ(*ReadFileToString(base_, "/d/f"), "hello");
  EXPECT_EQ(*ReadFileToString(fs_, "/d/f"), "hello");
  EXPECT_EQ((*file)->path(), "/d/f");
  EXPECT_EQ(*(*file)->Size(), 5u);
  EXPECT_TRUE(fs_.Exists("/d/f"));
  EXPECT_TRUE(fs_.IsDirectory("/d"));
  EXPECT_THAT(*fs_.ListDir("/d"), ElementsAre("f"));
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), *base_.ModifiedTimeMillis("/d/f"));
  EXPECT_EQ(fs_.Space("/")->capacity, base_.Space("/")->capacity);
}

TEST_F(FaultInjectionFileSystemTest, CrashAfterLetsExactlyNMutationsThroughThenFailsEveryMutation) {
  auto file = fs_.Open("/d/f", OpenMode::kCreateReadWrite);  // mutation 1
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(fs_.mutation_count(), 1u);

  fs_.CrashAfter(3);
  EXPECT_FALSE(fs_.crashed());
  int succeeded = 0;
  for (int i = 0; i < 5; ++i) {
    Status status = (*file)->WriteAt(i, AsBytes(std::string(1, static_cast<char>('a' + i))));
    if (status.ok()) {
      ++succeeded;
    } else {
      EXPECT_EQ(status.code(), StatusCode::kIOError);
      EXPECT_THAT(std::string(status.message()), HasSubstr("injected crash: write /d/f"));
    }
  }
  EXPECT_EQ(succeeded, 3);
  EXPECT_TRUE(fs_.crashed());
  EXPECT_EQ(fs_.mutation_count(), 4u);
  EXPECT_EQ(*ReadFileToString(base_, "/d/f"), "abc") << "nothing reached the base after the crash";

  // Every kind of mutation fails and leaves the base untouched.
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE((*file)->Truncate(0).ok());
  EXPECT_FALSE((*file)->Allocate(kPageSize).ok());
  EXPECT_FALSE(fs_.Open("/d/new", OpenMode::kCreateReadWrite).ok());
  EXPECT_FALSE(fs_.CreateDirs("/d/sub").ok());
  EXPECT_FALSE(fs_.Rename("/d/f", "/d/g").ok());
  EXPECT_FALSE(fs_.Remove("/d/f").ok());
  EXPECT_FALSE(fs_.RemoveAll("/d").ok());
  EXPECT_FALSE(fs_.SyncDir("/d").ok());
  EXPECT_FALSE(base_.Exists("/d/new"));
  EXPECT_FALSE(base_.Exists("/d/sub"));
  EXPECT_TRUE(base_.Exists("/d/f"));
  EXPECT_EQ(ReadFileToString(base_, "/d/f")->size(), 3u);
  EXPECT_EQ(fs_.mutation_count(), 4u);

  // Reads keep working.
  uint8_t buf[3];
  EXPECT_EQ(*(*file)->ReadAt(0, buf), 3u);
  EXPECT_EQ(*ReadFileToString(fs_, "/d/f"), "abc");
  EXPECT_TRUE(fs_.Open("/d/f", OpenMode::kReadWrite).ok());
  EXPECT_THAT(*fs_.ListDir("/d"), ElementsAre("f"));
  EXPECT_TRUE(fs_.Space("/d").ok());
  EXPECT_TRUE((*file)->Map(3).ok());
}

TEST_F(FaultInjectionFileSystemTest, CrashAfterZeroCrashesAtOnce) {
  fs_.CrashAfter(0);
  EXPECT_TRUE(fs_.crashed());
  EXPECT_EQ(fs_.CreateDirs("/d/x").code(), StatusCode::kIOError);
  EXPECT_FALSE(base_.Exists("/d/x"));
}

TEST_F(FaultInjectionFileSystemTest, FailedMutationsDoNotUseUpTheCrashBudget) {
  fs_.CrashAfter(1);
  EXPECT_TRUE(fs_.Remove("/d/missing").IsNotFound()) << "fails in the base";
  EXPECT_FALSE(fs_.crashed());
  EXPECT_TRUE(fs_.CreateDirs("/d/x").ok());
  EXPECT_TRUE(fs_.crashed());
  EXPECT_FALSE(fs_.CreateDirs("/d/y").ok());
}

TEST_F(FaultInjectionFileSystemTest, MappingSyncIsAMutationAndMappingDataIsTheBaseMemory) {
  auto file = fs_.Open("/d/f", OpenMode::kCreateReadWrite);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Allocate(2 * kPageSize).ok());
  auto mapping = (*file)->Map(2 * kPageSize);
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ((*mapping)->size(), 2 * kPageSize);
  std::memcpy((*mapping)->data(), "via mapping", 11);
  EXPECT_EQ(ReadFileToString(base_, "/d/f")->substr(0, 11), "via mapping");

  const uint64_t before = fs_.mutation_count();
  fs_.CrashAfter(1);
  EXPECT_TRUE((*mapping)->Sync(0, 11).ok());
  std::memcpy((*mapping)->data() + kPageSize, "lost", 4);
  Status status = (*mapping)->Sync(kPageSize, 4);
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_THAT(std::string(status.message()), HasSubstr("injected crash: msync /d/f"));
  EXPECT_EQ(fs_.mutation_count(), before + 1);

  mapping->reset();
  file->reset();
  base_.Crash(0, 0.0);
  const std::string content = *ReadFileToString(base_, "/d/f");
  EXPECT_EQ(content.substr(0, 11), "via mapping");
  EXPECT_EQ(content.substr(kPageSize, 4), std::string(4, '\0'));
}

TEST_F(FaultInjectionFileSystemTest, FailNextSyncWithDiskFullFailsExactlyOnce) {
  auto file = fs_.Open("/d/f", OpenMode::kCreateReadWrite);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->WriteAt(0, AsBytes("x")).ok());
  const uint64_t before = fs_.mutation_count();
  fs_.FailNext(FsOp::kSync, Status::DiskFull("sync /d/f: No space left on device"));
  Status first = (*file)->Sync();
  EXPECT_TRUE(first.IsDiskFull()) << first;
  EXPECT_EQ(fs_.mutation_count(), before) << "a failed operation is not a mutation";
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(fs_.mutation_count(), before + 2);
  EXPECT_FALSE(fs_.crashed());
}

TEST_F(FaultInjectionFileSystemTest, FailNextWithCountFailsThatManyCallsOfThatOperationOnly) {
  ASSERT_TRUE(OpenBase("/d/f")->WriteAt(0, AsBytes("abc")).ok());
  fs_.FailNext(FsOp::kRead, Status::IOError("read: Input/output error"), 2);
  fs_.FailNext(FsOp::kOpen, Status::IOError("open: Permission denied"));
  EXPECT_EQ(fs_.Open("/d/f", OpenMode::kReadOnly).status().code(), StatusCode::kIOError);
  auto file = fs_.Open("/d/f", OpenMode::kReadOnly);
  ASSERT_TRUE(file.ok());
  uint8_t buf[3];
  EXPECT_FALSE((*file)->ReadAt(0, buf).ok());
  EXPECT_TRUE(fs_.ListDir("/d").ok()) << "other operations are unaffected";
  EXPECT_FALSE((*file)->ReadAt(0, buf).ok());
  EXPECT_EQ(*(*file)->ReadAt(0, buf), 3u);
}

TEST_F(FaultInjectionFileSystemTest, FailNextCoversNonFileOperations) {
  fs_.FailNext(FsOp::kLock, Status::FailedPrecondition("locked"));
  fs_.FailNext(FsOp::kList, Status::IOError("list"));
  fs_.FailNext(FsOp::kRename, Status::IOError("rename"));
  fs_.FailNext(FsOp::kSpace, Status::IOError("statvfs"));
  fs_.FailNext(FsOp::kMap, Status::IOError("mmap"));
  EXPECT_EQ(fs_.Lock("/d/lock").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(base_.Exists("/d/lock")) << "the failure did not reach the base";
  EXPECT_FALSE(fs_.ListDir("/d").ok());
  OpenBase("/d/a");
  EXPECT_FALSE(fs_.Rename("/d/a", "/d/b").ok());
  EXPECT_TRUE(base_.Exists("/d/a"));
  EXPECT_FALSE(fs_.Space("/d").ok());
  auto file = fs_.Open("/d/a", OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE((*file)->Map(0).ok());
  EXPECT_TRUE((*file)->Map(0).ok());
  EXPECT_TRUE(fs_.Lock("/d/lock").ok());
}

TEST_F(FaultInjectionFileSystemTest, SpaceOverrideReplacesSpaceUntilCleared) {
  base_.SetCapacity(1000);
  fs_.SetSpaceOverride(SpaceInfo{.capacity = 100, .available = 5});
  auto space = fs_.Space("/d");
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->capacity, 100u);
  EXPECT_EQ(space->available, 5u);
  EXPECT_DOUBLE_EQ(space->UsedRatio(), 0.95);
  fs_.SetSpaceOverride(std::nullopt);
  EXPECT_EQ(fs_.Space("/d")->capacity, 1000u);
}

TEST_F(FaultInjectionFileSystemTest, MutationCountCountsOnlySuccessfulMutatingOperations) {
  EXPECT_EQ(fs_.mutation_count(), 0u);
  auto file = fs_.Open("/d/f", OpenMode::kCreateReadWrite);  // 1
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->WriteAt(0, AsBytes("abc")).ok());  // 2
  ASSERT_TRUE((*file)->Truncate(2).ok());                 // 3
  ASSERT_TRUE((*file)->Allocate(10).ok());                // 4
  ASSERT_TRUE((*file)->Sync().ok());                      // 5
  ASSERT_TRUE(fs_.CreateDirs("/d/x").ok());               // 6
  ASSERT_TRUE(fs_.SyncDir("/d").ok());                    // 7
  ASSERT_TRUE(fs_.Rename("/d/f", "/d/g").ok());           // 8
  ASSERT_TRUE(fs_.Remove("/d/x").ok());                   // 9
  ASSERT_TRUE(fs_.RemoveAll("/d/none").ok());             // 10
  EXPECT_EQ(fs_.mutation_count(), 10u);

  uint8_t buf[4];
  EXPECT_TRUE((*file)->ReadAt(0, buf).ok());
  EXPECT_TRUE(fs_.Open("/d/g", OpenMode::kReadWrite).ok());
  EXPECT_TRUE(fs_.ListDir("/d").ok());
  EXPECT_TRUE(fs_.Space("/d").ok());
  EXPECT_TRUE(fs_.Lock("/d/lock").ok());
  EXPECT_TRUE(fs_.Exists("/d/g"));
  EXPECT_TRUE(fs_.Open("/d/none", OpenMode::kReadOnly).status().IsNotFound());
  EXPECT_TRUE(fs_.Remove("/d/none").IsNotFound());
  EXPECT_EQ(fs_.mutation_count(), 10u);
}

TEST_F(FaultInjectionFileSystemTest, ResetClearsCrashPendingFailuresAndSpaceOverride) {
  fs_.FailNext(FsOp::kList, Status::IOError("list"));
  fs_.SetSpaceOverride(SpaceInfo{.capacity = 1, .available = 0});
  fs_.CrashAfter(0);
  ASSERT_TRUE(fs_.crashed());
  fs_.Reset();
  EXPECT_FALSE(fs_.crashed());
  EXPECT_TRUE(fs_.CreateDirs("/d/x").ok());
  EXPECT_TRUE(fs_.ListDir("/d").ok());
  EXPECT_EQ(fs_.Space("/d")->capacity, base_.Space("/d")->capacity);
}

}  // namespace
}  // namespace fmq::io
