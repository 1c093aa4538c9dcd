#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/base/clock.h"
#include "broker/base/coding.h"
#include "broker/io/file_system.h"

namespace fmq::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadAll(File& file) {
  auto size = file.Size();
  EXPECT_TRUE(size.ok()) << size.status();
  std::string out(*size, '\0');
  auto n = file.ReadAt(0, {reinterpret_cast<uint8_t*>(out.data()), out.size()});
  EXPECT_TRUE(n.ok()) << n.status();
  out.resize(*n);
  return out;
}

// Each test runs in a fresh directory under /tmp, removed afterwards.
class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fmq_io_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override { EXPECT_TRUE(fs_.RemoveAll(dir_).ok()); }

  std::string Path(std::string_view name) const { return JoinPath(dir_, name); }

  std::unique_ptr<File> Create(std::string_view name) {
    auto file = fs_.Open(Path(name), OpenMode::kCreateReadWrite);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  FileSystem& fs_ = PosixFileSystem();
  std::string dir_;
};

TEST_F(PosixFileSystemTest, WriteAtThenReadAtReturnsTheSameBytes) {
  auto file = Create("data");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("hello world")).ok());
  ASSERT_TRUE(file->WriteAt(6, AsBytes("WORLD")).ok());
  EXPECT_EQ(*file->Size(), 11u);
  EXPECT_EQ(ReadAll(*file), "hello WORLD");

  uint8_t buf[16];
  auto n = file->ReadAt(6, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u) << "a read crossing the end of file returns what is there";
  EXPECT_EQ(*file->ReadAt(11, buf), 0u);
  EXPECT_EQ(*file->ReadAt(100, buf), 0u);
}

TEST_F(PosixFileSystemTest, ReopenedFileKeepsContentAndReadOnlyRejectsWrites) {
  ASSERT_TRUE(Create("data")->WriteAt(0, AsBytes("abc")).ok());
  auto file = fs_.Open(Path("data"), OpenMode::kReadOnly);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ReadAll(**file), "abc");
  EXPECT_FALSE((*file)->WriteAt(0, AsBytes("x")).ok());
}

TEST_F(PosixFileSystemTest, AllocateGrowsTheFileAndNeverShrinksIt) {
  auto file = Create("data");
  ASSERT_TRUE(file->Allocate(3 * kPageSize).ok());
  EXPECT_EQ(*file->Size(), 3 * kPageSize);
  ASSERT_TRUE(file->Allocate(kPageSize).ok());
  EXPECT_EQ(*file->Size(), 3 * kPageSize);
  EXPECT_EQ(ReadAll(*file), std::string(3 * kPageSize, '\0'));
}

TEST_F(PosixFileSystemTest, TruncateShrinksAndExtendsWithZeros) {
  auto file = Create("data");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("abcdef")).ok());
  ASSERT_TRUE(file->Truncate(3).ok());
  ASSERT_TRUE(file->Truncate(5).ok());
  EXPECT_EQ(ReadAll(*file), std::string("abc\0\0", 5));
}

TEST_F(PosixFileSystemTest, MappingWritesAreVisibleThroughTheFileAndSurviveClosingIt) {
  auto file = Create("data");
  ASSERT_TRUE(file->Allocate(2 * kPageSize).ok());
  auto mapping = file->Map(2 * kPageSize);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  ASSERT_EQ((*mapping)->size(), 2 * kPageSize);
  std::memcpy((*mapping)->data() + kPageSize + 10, "mapped", 6);
  EXPECT_TRUE((*mapping)->Sync(kPageSize + 10, 6).ok());
  EXPECT_TRUE((*mapping)->Sync(0, 0).ok());
  EXPECT_TRUE((*mapping)->Sync(0, 2 * kPageSize).ok());
  EXPECT_FALSE((*mapping)->Sync(kPageSize, 2 * kPageSize).ok()) << "range beyond the mapping";

  uint8_t buf[6];
  ASSERT_EQ(*file->ReadAt(kPageSize + 10, buf), 6u);
  EXPECT_EQ(AsChars(buf), "mapped");

  file.reset();
  ASSERT_TRUE(fs_.Remove(Path("data")).ok());
  EXPECT_EQ(std::string_view(reinterpret_cast<char*>((*mapping)->data()) + kPageSize + 10, 6), "mapped");
}

// The file systems FerryMQ stores on (ext4, xfs, tmpfs) know which preallocated blocks were never written; a
// file system that cannot tell would report the whole range (still correct, only slower for recovery).
TEST_F(PosixFileSystemTest, DataRangesCoverEveryWrittenByteAndLeaveOutTheNeverWrittenPreallocation) {
  constexpr size_t kSize = 64 << 20;
  auto file = Create("segment");
  ASSERT_TRUE(file->Allocate(kSize).ok());
  auto mapping = file->Map(kSize);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  std::memcpy((*mapping)->data() + 10, "mapped", 6);  // written through the mapping, never synced
  ASSERT_TRUE(file->WriteAt(40 << 20, AsBytes("written")).ok());
  auto ranges = file->DataRanges(0, kSize);
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  uint64_t covered = 0;
  bool has_mapped = false, has_written = false, ordered = true;
  uint64_t last_end = 0;
  for (const ByteRange& r : *ranges) {
    covered += r.end - r.begin;
    has_mapped |= r.begin <= 10 && r.end >= 16;
    has_written |= r.begin <= (40u << 20) && r.end >= (40u << 20) + 7;
    ordered &= r.begin >= last_end && r.end > r.begin && r.end <= kSize;
    last_end = r.end;
  }
  EXPECT_TRUE(has_mapped && has_written && ordered) << ranges->size() << " ranges";
  EXPECT_LT(covered, kSize / 2) << "the never-written preallocation was reported as data";
  auto tail = file->DataRanges(41 << 20, kSize);
  ASSERT_TRUE(tail.ok());
  for (const ByteRange& r : *tail) EXPECT_GE(r.begin, 41u << 20);
  EXPECT_EQ(*file->DataRanges(5, 5), std::vector<ByteRange>{});
}

TEST_F(PosixFileSystemTest, MapBeyondTheEndOfFileFailsWithFailedPrecondition) {
  auto file = Create("data");
  ASSERT_TRUE(file->Allocate(kPageSize).ok());
  auto mapping = file->Map(2 * kPageSize);
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(mapping.status().message()), HasSubstr(Path("data")));
}

TEST_F(PosixFileSystemTest, SyncSucceedsOnFilesAndDirectories) {
  auto file = Create("data");
  ASSERT_TRUE(file->WriteAt(0, AsBytes("x")).ok());
  EXPECT_TRUE(file->Sync().ok());
  EXPECT_TRUE(fs_.SyncDir(dir_).ok());
  EXPECT_TRUE(fs_.SyncDir(Path("missing")).IsNotFound());
}

TEST_F(PosixFileSystemTest, RenameReplacesTheTarget) {
  ASSERT_TRUE(Create("a")->WriteAt(0, AsBytes("new")).ok());
  ASSERT_TRUE(Create("b")->WriteAt(0, AsBytes("old content")).ok());
  ASSERT_TRUE(fs_.Rename(Path("a"), Path("b")).ok());
  EXPECT_FALSE(fs_.Exists(Path("a")));
  EXPECT_EQ(*ReadFileToString(fs_, Path("b")), "new");
  Status missing = fs_.Rename(Path("a"), Path("c"));
  EXPECT_TRUE(missing.IsNotFound()) << missing;
}

TEST_F(PosixFileSystemTest, ListDirReturnsSortedNamesWithoutDotEntries) {
  Create("b");
  Create("a");
  ASSERT_TRUE(fs_.CreateDirs(Path("c/d")).ok());
  auto names = fs_.ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("a", "b", "c"));
  EXPECT_TRUE(fs_.ListDir(Path("missing")).status().IsNotFound());
}

TEST_F(PosixFileSystemTest, CreateDirsCreatesParentsAndAcceptsExistingDirectories) {
  ASSERT_TRUE(fs_.CreateDirs(Path("x/y/z")).ok());
  EXPECT_TRUE(fs_.IsDirectory(Path("x/y/z")));
  EXPECT_TRUE(fs_.CreateDirs(Path("x/y/z")).ok());
  EXPECT_TRUE(fs_.CreateDirs(Path("x/y/z/")).ok());
  Create("file");
  EXPECT_FALSE(fs_.CreateDirs(Path("file/sub")).ok());
  EXPECT_FALSE(fs_.IsDirectory(Path("file")));
  EXPECT_TRUE(fs_.Exists(Path("file")));
}

TEST_F(PosixFileSystemTest, RemoveRefusesNonEmptyDirectoriesAndRemoveAllRemovesTrees) {
  ASSERT_TRUE(fs_.CreateDirs(Path("t/u")).ok());
  Create("t/u/f");
  EXPECT_EQ(fs_.Remove(Path("t")).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs_.Remove(Path("nothing")).IsNotFound());
  ASSERT_TRUE(fs_.RemoveAll(Path("t")).ok());
  EXPECT_FALSE(fs_.Exists(Path("t")));
  EXPECT_TRUE(fs_.RemoveAll(Path("t")).ok()) << "missing is fine";
  Create("f");
  EXPECT_TRUE(fs_.Remove(Path("f")).ok());
  EXPECT_FALSE(fs_.Exists(Path("f")));
}

TEST_F(PosixFileSystemTest, SecondLockOnTheSamePathFailsUntilTheFirstIsReleased) {
  auto first = fs_.Lock(Path("lock"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = fs_.Lock(Path("lock"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("is locked by another process"));
  first->reset();
  EXPECT_TRUE(fs_.Lock(Path("lock")).ok());
}

TEST_F(PosixFileSystemTest, SpaceReportsNonzeroCapacity) {
  auto space = fs_.Space(dir_);
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_GT(space->capacity, 0u);
  EXPECT_LE(space->available, space->capacity);
  EXPECT_GE(space->UsedRatio(), 0.0);
  EXPECT_LE(space->UsedRatio(), 1.0);
}

// The used ratio is df's Use%: blocks reserved for root count neither as used nor as capacity (build and
// cloud volumes may reserve most of the disk; counting reservations as used set off retention early).
TEST_F(PosixFileSystemTest, UsedRatioIsWhatDfReports) {
  FILE* df = ::popen(("df -P '" + dir_ + "' 2>/dev/null").c_str(), "r");
  ASSERT_NE(df, nullptr);
  char line[512];
  std::string last;
  while (std::fgets(line, sizeof line, df) != nullptr) last = line;
  ASSERT_EQ(::pclose(df), 0) << "df -P failed";
  // "Filesystem 1024-blocks Used Available Capacity Mounted-on": Capacity is Use% rounded up.
  unsigned long long blocks = 0, used = 0, avail = 0;
  int pcent = -1;
  ASSERT_EQ(std::sscanf(last.c_str(), "%*s %llu %llu %llu %d%%", &blocks, &used, &avail, &pcent), 4) << last;
  auto space = fs_.Space(dir_);
  ASSERT_TRUE(space.ok()) << space.status();
  // Other processes write meanwhile; a point either side of df's rounded-up figure is the same answer.
  EXPECT_NEAR(space->UsedRatio() * 100.0, static_cast<double>(pcent), 1.5) << last;
  EXPECT_NEAR(static_cast<double>(space->available) / 1024.0, static_cast<double>(avail),
              static_cast<double>(avail) * 0.05 + 1024.0 * 1024.0);
}

TEST_F(PosixFileSystemTest, ModifiedTimeIsCloseToTheSystemClock) {
  ASSERT_TRUE(Create("f")->WriteAt(0, AsBytes("x")).ok());
  auto mtime = fs_.ModifiedTimeMillis(Path("f"));
  ASSERT_TRUE(mtime.ok());
  EXPECT_NEAR(static_cast<double>(*mtime), static_cast<double>(SystemClock().NowMillis()), 60'000.0);
  EXPECT_TRUE(fs_.ModifiedTimeMillis(Path("missing")).status().IsNotFound());
}

TEST_F(PosixFileSystemTest, ErrorMessagesNameTheOperationThePathAndTheReason) {
  auto file = fs_.Open(Path("missing"), OpenMode::kReadOnly);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(file.status().IsNotFound());
  EXPECT_EQ(file.status().message(), "open " + Path("missing") + ": No such file or directory");

  auto nested = fs_.Open(Path("no/such/dir"), OpenMode::kCreateReadWrite);
  EXPECT_TRUE(nested.status().IsNotFound());
  EXPECT_THAT(std::string(nested.status().message()), HasSubstr(Path("no/such/dir")));
}

TEST_F(PosixFileSystemTest, WriteFileAtomicallyReplacesContentAndLeavesNoTemporaryFile) {
  const std::string path = Path("config.json");
  ASSERT_TRUE(WriteFileAtomically(fs_, path, "first, longer content").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, path, "second").ok());
  EXPECT_EQ(*ReadFileToString(fs_, path), "second");
  EXPECT_FALSE(fs_.Exists(path + ".tmp"));
  EXPECT_TRUE(ReadFileToString(fs_, Path("missing")).status().IsNotFound());
}

TEST(FileUtilTest, JoinPathPutsExactlyOneSlashBetweenParts) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a//", "/b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
}

TEST(FileUtilTest, DirNameAndBaseNameFollowPosix) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("a/b/"), "a");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("/"), "/");
  EXPECT_EQ(DirName("a//b"), "a");
  EXPECT_EQ(DirName(""), ".");
  EXPECT_EQ(BaseName("a/b/c"), "c");
  EXPECT_EQ(BaseName("a/b/"), "b");
  EXPECT_EQ(BaseName("c"), "c");
  EXPECT_EQ(BaseName("/"), "/");
  EXPECT_EQ(BaseName(""), ".");
}

}  // namespace
}  // namespace fmq::io
