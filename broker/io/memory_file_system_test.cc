#include "broker/io/memory_file_system.h"

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/base/clock.h"
#include "broker/base/coding.h"

namespace fmq::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class MemoryFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.CreateDirs("/d").ok()); }

  std::unique_ptr<File> Open(const std::string& path, OpenMode mode = OpenMode::kCreateReadWrite) {
    auto file = fs_.Open(path, mode);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  std::string Read(const std::string& path) {
    auto content = ReadFileToString(fs_, path);
    EXPECT_TRUE(content.ok()) << content.status();
    return content.ok() ? *content : "";
  }

  void Put(const std::string& path, std::string_view content) {
    auto file = Open(path);
    ASSERT_NE(file, nullptr);
    ASSERT_TRUE(file->WriteAt(0, AsBytes(content)).ok());
  }

  // Writes page `i` of `file` filled with `fill`.
  static void WritePage(File& file, uint64_t i, char fill) {
    const std::string page(kPageSize, fill);
    ASSERT_TRUE(file.WriteAt(i * kPageSize, AsBytes(page)).ok());
  }

  ManualClock clock_{1'000};
  MemoryFileSystem fs_{&clock_};
};

TEST_F(MemoryFileSystemTest, WrittenBytesAreReadBackAndReadsStopAtEndOfFile) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("hello world")).ok());
  ASSERT_TRUE(file->WriteAt(20, AsBytes("!")).ok());
  EXPECT_EQ(*file->Size(), 21u);
  EXPECT_EQ(Read("/d/f"), std::string("hello world\0\0\0\0\0\0\0\0\0!", 21));
  uint8_t buf[8];
  EXPECT_EQ(*file->ReadAt(18, buf), 3u);
  EXPECT_EQ(*file->ReadAt(21, buf), 0u);
  EXPECT_EQ(file->path(), "/d/f");
}

TEST_F(MemoryFileSystemTest, DataRangesAreTheRunsOfPagesHoldingANonZeroByte) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->Allocate(10 * kPageSize).ok());
  EXPECT_EQ(*file->DataRanges(0, 10 * kPageSize), std::vector<ByteRange>{});
  WritePage(*file, 2, 'a');
  WritePage(*file, 3, 'b');
  ASSERT_TRUE(file->WriteAt(7 * kPageSize + 100, AsBytes("x")).ok());
  EXPECT_EQ(*file->DataRanges(0, 10 * kPageSize),
            (std::vector<ByteRange>{{2 * kPageSize, 4 * kPageSize}, {7 * kPageSize, 8 * kPageSize}}));
  // Clipped to the asked range (and to the file).
  EXPECT_EQ(
      *file->DataRanges(3 * kPageSize + 5, 7 * kPageSize + 50),
      (std::vector<ByteRange>{{3 * kPageSize + 5, 4 * kPageSize}, {7 * kPageSize, 7 * kPageSize + 50}}));
  EXPECT_EQ(*file->DataRanges(8 * kPageSize, 100 * kPageSize), std::vector<ByteRange>{});
}

TEST_F(MemoryFileSystemTest, OpenInAMissingDirectoryFailsWithNotFound) {
  auto file = fs_.Open("/missing/f", OpenMode::kCreateReadWrite);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(file.status().IsNotFound());
  EXPECT_EQ(file.status().message(), "open /missing/f: No such file or directory");
  EXPECT_TRUE(fs_.Open("/d/nothing", OpenMode::kReadWrite).status().IsNotFound());
  EXPECT_FALSE(fs_.Open("/d", OpenMode::kReadOnly).ok()) << "a directory is not a file";
}

TEST_F(MemoryFileSystemTest, ReadOnlyFilesRejectWritesAndMaps) {
  Put("/d/f", "abc");
  auto file = Open("/d/f", OpenMode::kReadOnly);
  EXPECT_EQ(file->WriteAt(0, AsBytes("x")).code(), StatusCode::kIOError);
  EXPECT_FALSE(file->Truncate(0).ok());
  EXPECT_FALSE(file->Map(1).ok());
  EXPECT_EQ(Read("/d/f"), "abc");
}

TEST_F(MemoryFileSystemTest, PathsAreNormalisedLexically) {
  ASSERT_TRUE(fs_.CreateDirs("/a//b/").ok());
  Put("a/b/./f", "x");
  EXPECT_TRUE(fs_.Exists("/a/b/f"));
  EXPECT_TRUE(fs_.Exists("/a/b/../b/f"));
  EXPECT_TRUE(fs_.IsDirectory("/a/b/"));
  EXPECT_TRUE(fs_.IsDirectory("/"));
  EXPECT_FALSE(fs_.Exists(""));
  EXPECT_THAT(*fs_.ListDir("//a"), ElementsAre("b"));
}

TEST_F(MemoryFileSystemTest, UnsyncedWritesAreLostByCrashWithKeepProbabilityZero) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("durable")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->WriteAt(0, AsBytes("DURABLE and more")).ok());
  fs_.Crash(/*seed=*/1, /*keep_probability=*/0.0);
  EXPECT_EQ(Read("/d/f"), "durable");
  EXPECT_EQ(*file->Size(), 7u) << "open handles see the post-crash content";
  EXPECT_EQ(fs_.UsedBytes(), 7u);
}

TEST_F(MemoryFileSystemTest, UnsyncedWritesAreKeptByCrashWithKeepProbabilityOne) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("durable")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->WriteAt(0, AsBytes("DURABLE and more")).ok());
  file.reset();
  fs_.Crash(/*seed=*/1, /*keep_probability=*/1.0);
  EXPECT_EQ(Read("/d/f"), "DURABLE and more");
  fs_.Crash(/*seed=*/2, /*keep_probability=*/0.0);
  EXPECT_EQ(Read("/d/f"), "DURABLE and more") << "what survived a crash is durable";
}

TEST_F(MemoryFileSystemTest, SyncedDataSurvivesEveryCrash) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    for (double keep : {0.0, 0.3, 1.0}) {
      auto file = Open("/d/f");
      ASSERT_TRUE(file->Truncate(0).ok());
      for (uint64_t i = 0; i < 4; ++i) WritePage(*file, i, 'a' + static_cast<char>(i));
      ASSERT_TRUE(file->Sync().ok());
      file.reset();
      fs_.Crash(seed, keep);
      EXPECT_EQ(Read("/d/f"), std::string(kPageSize, 'a') + std::string(kPageSize, 'b') +
                                  std::string(kPageSize, 'c') + std::string(kPageSize, 'd'));
    }
  }
}

TEST_F(MemoryFileSystemTest, CrashTruncatesAnUnsyncedTailToTheDurableSize) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("0123456789")).ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->WriteAt(10, AsBytes("abcdef")).ok());
  ASSERT_TRUE(file->Truncate(3).ok() && file->Truncate(16).ok()) << "shrink then grow: bytes 3..16 are zero";
  fs_.Crash(0, 0.0);
  EXPECT_EQ(Read("/d/f"), "0123456789");
}

TEST_F(MemoryFileSystemTest, CreatedFilesAndDirectoriesSurviveCrashWithoutSyncDir) {
  ASSERT_TRUE(fs_.CreateDirs("/d/sub").ok());
  Open("/d/sub/f");
  fs_.Crash(0, 0.0);
  EXPECT_TRUE(fs_.IsDirectory("/d/sub"));
  EXPECT_TRUE(fs_.Exists("/d/sub/f"));
  EXPECT_EQ(Read("/d/sub/f"), "");
}

TEST_F(MemoryFileSystemTest, MappingSyncMakesExactlyItsRangeDurableAndUnsyncedMappingPagesAreLost) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->Allocate(4 * kPageSize).ok());
  auto mapping = file->Map(4 * kPageSize);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  uint8_t* data = (*mapping)->data();
  std::memset(data, 'A', kPageSize);                  // page 0: synced below
  std::memset(data + 2 * kPageSize + 100, 'C', 100);  // page 2: only bytes 150..159 synced below
  std::memset(data + 3 * kPageSize, 'D', kPageSize);  // page 3: never synced
  ASSERT_TRUE((*mapping)->Sync(0, kPageSize).ok());
  ASSERT_TRUE((*mapping)->Sync(2 * kPageSize + 150, 10).ok());
  EXPECT_EQ((*mapping)->Sync(3 * kPageSize, 2 * kPageSize).code(), StatusCode::kInvalidArgument);

  fs_.Crash(7, 0.0);
  const std::string content = Read("/d/f");
  ASSERT_EQ(content.size(), 4 * kPageSize) << "Mapping::Sync persisted the allocated size";
  EXPECT_EQ(content.substr(0, kPageSize), std::string(kPageSize, 'A'));
  EXPECT_EQ(content.substr(kPageSize, kPageSize), std::string(kPageSize, '\0'));
  // Mapping::Sync persists exactly its range (see memory_file_system.h), not the rest of the page.
  EXPECT_EQ(content.substr(2 * kPageSize + 100, 50), std::string(50, '\0'));
  EXPECT_EQ(content.substr(2 * kPageSize + 150, 10), std::string(10, 'C'));
  EXPECT_EQ(content.substr(2 * kPageSize + 160, 40), std::string(40, '\0'));
  EXPECT_EQ(content.substr(3 * kPageSize, kPageSize), std::string(kPageSize, '\0'));
  EXPECT_EQ(data[3 * kPageSize], 0) << "a live mapping sees the post-crash content";
}

TEST_F(MemoryFileSystemTest, HalfKeepProbabilityTearsUnsyncedDataAtPageGranularity) {
  constexpr uint64_t kPages = 256;
  auto write_and_crash = [&](uint64_t seed) {
    auto file = Open("/d/f");
    EXPECT_TRUE(file->Truncate(0).ok());
    for (uint64_t i = 0; i < kPages; ++i) WritePage(*file, i, 'o');
    EXPECT_TRUE(file->Sync().ok());
    for (uint64_t i = 0; i < kPages; ++i) WritePage(*file, i, 'n');
    file.reset();
    fs_.Crash(seed, 0.5);
    return Read("/d/f");
  };

  const std::string content = write_and_crash(42);
  ASSERT_EQ(content.size(), kPages * kPageSize);
  int kept = 0;
  int lost = 0;
  for (uint64_t i = 0; i < kPages; ++i) {
    const std::string page = content.substr(i * kPageSize, kPageSize);
    if (page == std::string(kPageSize, 'n')) {
      ++kept;
    } else {
      EXPECT_EQ(page, std::string(kPageSize, 'o')) << "page " << i << " is neither entirely old nor new";
      ++lost;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(lost, 0);
  EXPECT_EQ(write_and_crash(42), content) << "the same seed tears the same pages";
  EXPECT_NE(write_and_crash(43), content);
}

TEST_F(MemoryFileSystemTest, RemovedFileStaysReadableThroughAnOpenMapping) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("still here")).ok());
  auto mapping = file->Map(10);
  ASSERT_TRUE(mapping.ok());
  file.reset();
  ASSERT_TRUE(fs_.Remove("/d/f").ok());
  EXPECT_FALSE(fs_.Exists("/d/f"));
  EXPECT_EQ(fs_.UsedBytes(), 0u) << "a removed file no longer counts";
  EXPECT_EQ(AsChars({(*mapping)->data(), (*mapping)->size()}), "still here");
  EXPECT_TRUE((*mapping)->Sync(0, 10).ok());
}

TEST_F(MemoryFileSystemTest, GrowingAMappedFileBeyondItsBufferFailsWithFailedPrecondition) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->Allocate(kPageSize).ok());
  auto mapping = file->Map(kPageSize);
  ASSERT_TRUE(mapping.ok());
  EXPECT_EQ(file->Allocate(1 << 20).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*file->Size(), kPageSize) << "nothing changed";
  mapping->reset();
  EXPECT_TRUE(file->Allocate(1 << 20).ok());
}

TEST_F(MemoryFileSystemTest, MapBeyondTheEndOfFileFailsWithFailedPrecondition) {
  auto file = Open("/d/f");
  ASSERT_TRUE(file->Allocate(100).ok());
  EXPECT_EQ(file->Map(101).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(file->Map(100).ok());
}

TEST_F(MemoryFileSystemTest, GrowingPastCapacityFailsWithDiskFullAndChangesNothing) {
  fs_.SetCapacity(10 * kPageSize);
  auto a = Open("/d/a");
  ASSERT_TRUE(a->Allocate(6 * kPageSize).ok());
  auto space = fs_.Space("/d");
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->capacity, 10 * kPageSize);
  EXPECT_EQ(space->available, 4 * kPageSize);
  EXPECT_DOUBLE_EQ(space->UsedRatio(), 0.6);

  auto b = Open("/d/b");
  Status full = b->Allocate(5 * kPageSize);
  EXPECT_TRUE(full.IsDiskFull()) << full;
  EXPECT_THAT(std::string(full.message()), HasSubstr("/d/b: No space left on device"));
  EXPECT_TRUE(b->WriteAt(4 * kPageSize, AsBytes("x")).IsDiskFull());
  EXPECT_EQ(*b->Size(), 0u);
  EXPECT_EQ(fs_.UsedBytes(), 6 * kPageSize);

  ASSERT_TRUE(b->Allocate(4 * kPageSize).ok()) << "exactly full is fine";
  EXPECT_DOUBLE_EQ(fs_.Space("/")->UsedRatio(), 1.0);
  ASSERT_TRUE(fs_.Remove("/d/a").ok());
  EXPECT_EQ(fs_.Space("/")->available, 6 * kPageSize);
  EXPECT_TRUE(fs_.Space("/nothing").status().IsNotFound());
}

TEST_F(MemoryFileSystemTest, ModifiedTimeFollowsTheClock) {
  auto file = Open("/d/f");
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 1'000);
  clock_.SetMillis(2'000);
  ASSERT_TRUE(file->WriteAt(0, AsBytes("x")).ok());
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 2'000);
  clock_.SetMillis(3'000);
  ASSERT_TRUE(file->Allocate(kPageSize).ok());
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 3'000);

  auto mapping = file->Map(kPageSize);
  ASSERT_TRUE(mapping.ok());
  clock_.SetMillis(4'000);
  (*mapping)->data()[0] = 'y';
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 3'000) << "mapping writes count from their Sync";
  ASSERT_TRUE((*mapping)->Sync(0, 0).ok());
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 3'000);
  ASSERT_TRUE((*mapping)->Sync(0, 1).ok());
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 4'000);

  fs_.TEST_SetModifiedTimeMillis("/d/f", 5);
  EXPECT_EQ(*fs_.ModifiedTimeMillis("/d/f"), 5);
  EXPECT_TRUE(fs_.ModifiedTimeMillis("/d/missing").status().IsNotFound());
}

TEST_F(MemoryFileSystemTest, SecondLockOnTheSameFileFailsUntilTheFirstIsReleased) {
  auto first = fs_.Lock("/d/lock");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(fs_.Exists("/d/lock"));
  auto second = fs_.Lock("/d//lock");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("is locked by another process"));
  EXPECT_TRUE(fs_.Lock("/d/other").ok());
  first->reset();
  EXPECT_TRUE(fs_.Lock("/d/lock").ok());
  EXPECT_TRUE(fs_.Lock("/missing/lock").status().IsNotFound());
}

TEST_F(MemoryFileSystemTest, ListDirReturnsSortedDirectChildren) {
  ASSERT_TRUE(fs_.CreateDirs("/d/b/deep").ok());
  Open("/d/c");
  Open("/d/a");
  Open("/d/b0");
  Open("/d/b/deep/x");
  EXPECT_THAT(*fs_.ListDir("/d"), ElementsAre("a", "b", "b0", "c"));
  EXPECT_THAT(*fs_.ListDir("/d/b/deep"), ElementsAre("x"));
  EXPECT_THAT(*fs_.ListDir("/"), ElementsAre("d"));
  ASSERT_TRUE(fs_.CreateDirs("/empty").ok());
  EXPECT_THAT(*fs_.ListDir("/empty"), IsEmpty());
  EXPECT_TRUE(fs_.ListDir("/nothing").status().IsNotFound());
  EXPECT_EQ(fs_.ListDir("/d/a").status().code(), StatusCode::kIOError);
}

TEST_F(MemoryFileSystemTest, RemoveRefusesNonEmptyDirectoriesAndRemoveAllRemovesTrees) {
  ASSERT_TRUE(fs_.CreateDirs("/d/x/y").ok());
  Put("/d/x/y/f", "12345");
  Open("/d/x.txt");
  Status not_empty = fs_.Remove("/d/x");
  EXPECT_EQ(not_empty.code(), StatusCode::kFailedPrecondition) << not_empty;
  EXPECT_TRUE(fs_.Remove("/d/none").IsNotFound());
  EXPECT_EQ(fs_.UsedBytes(), 5u);
  ASSERT_TRUE(fs_.RemoveAll("/d/x").ok());
  EXPECT_FALSE(fs_.Exists("/d/x/y/f"));
  EXPECT_FALSE(fs_.Exists("/d/x"));
  EXPECT_TRUE(fs_.Exists("/d/x.txt")) << "a sibling sharing the prefix stays";
  EXPECT_EQ(fs_.UsedBytes(), 0u);
  EXPECT_TRUE(fs_.RemoveAll("/d/x").ok());
  ASSERT_TRUE(fs_.Remove("/d/x.txt").ok());
  ASSERT_TRUE(fs_.Remove("/d").ok());
  EXPECT_FALSE(fs_.Exists("/d"));
}

TEST_F(MemoryFileSystemTest, RenameReplacesAFileAtomically) {
  Put("/d/a", "new");
  Put("/d/b", "old content");
  ASSERT_TRUE(fs_.Rename("/d/a", "/d/b").ok());
  EXPECT_FALSE(fs_.Exists("/d/a"));
  EXPECT_EQ(Read("/d/b"), "new");
  EXPECT_EQ(fs_.UsedBytes(), 3u);
  EXPECT_TRUE(fs_.Rename("/d/a", "/d/c").IsNotFound());
  EXPECT_TRUE(fs_.Rename("/d/b", "/missing/c").IsNotFound());
  ASSERT_TRUE(fs_.CreateDirs("/d/dir").ok());
  EXPECT_FALSE(fs_.Rename("/d/b", "/d/dir").ok()) << "a file cannot replace a directory";
}

TEST_F(MemoryFileSystemTest, RenamingADirectoryMovesItsSubtree) {
  ASSERT_TRUE(fs_.CreateDirs("/d/src/sub").ok());
  Put("/d/src/sub/f", "payload");
  ASSERT_TRUE(fs_.CreateDirs("/d/dst").ok());  // an empty target directory is replaced
  ASSERT_TRUE(fs_.Rename("/d/src", "/d/dst").ok());
  EXPECT_FALSE(fs_.Exists("/d/src"));
  EXPECT_FALSE(fs_.Exists("/d/src/sub/f"));
  EXPECT_EQ(Read("/d/dst/sub/f"), "payload");
  EXPECT_EQ(fs_.Rename("/d/dst", "/d/dst/sub/inner").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(fs_.CreateDirs("/d/full/x").ok());
  EXPECT_EQ(fs_.Rename("/d/dst", "/d/full").code(), StatusCode::kFailedPrecondition);
}

TEST_F(MemoryFileSystemTest, WriteFileAtomicallyWorksAndSurvivesCrash) {
  ASSERT_TRUE(WriteFileAtomically(fs_, "/d/config", "v1").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, "/d/config", "v2").ok());
  fs_.Crash(3, 0.0);
  EXPECT_EQ(Read("/d/config"), "v2");
  EXPECT_FALSE(fs_.Exists("/d/config.tmp"));
}

TEST_F(MemoryFileSystemTest, ConcurrentWritersToDifferentFilesDoNotInterfere) {
  constexpr int kThreads = 4;
  constexpr int kWrites = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      auto file = fs_.Open("/d/f" + std::to_string(t), OpenMode::kCreateReadWrite);
      ASSERT_TRUE(file.ok());
      const std::string chunk(16, static_cast<char>('a' + t));
      for (int i = 0; i < kWrites; ++i) ASSERT_TRUE((*file)->WriteAt(i * chunk.size(), AsBytes(chunk)).ok());
      ASSERT_TRUE((*file)->Sync().ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(Read("/d/f" + std::to_string(t)), std::string(16 * kWrites, static_cast<char>('a' + t)));
  }
  EXPECT_EQ(fs_.UsedBytes(), uint64_t{kThreads} * 16 * kWrites);
}

}  // namespace
}  // namespace fmq::io
