// `ferrymq store verify|dump|stats` as operators run them: exit codes, the first bad offset of a damaged
// store, JSON lines from dump, and that the tools change nothing.

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "broker/io/file_system.h"
#include "broker/store/message_store.h"

namespace fmq {
namespace {

struct ToolRun {
  int exit_code;
  std::string out;
};

ToolRun Ferrymq(const std::string& args) {
  std::string cmd = std::string(FMQ_FERRYMQ_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class StoreToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fmq-tool-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store::MessageStoreConfig cfg;
    cfg.store_path_root_dir = dir_;
    cfg.mapped_file_size_commit_log = 1 << 20;
    cfg.mapped_file_size_consume_queue = 20 * 1000;
    cfg.max_message_size = 64 * 1024;
    cfg.max_hash_slot_num = 100;
    cfg.max_index_num = 400;
    // As testing_process::kHostDiskConf: the host disk's fill is not this test's subject.
    cfg.clean_file_forcibly_enable = false;
    cfg.disk_space_warning_level_ratio = 0.999;
    store::MessageStore store(cfg, io::PosixFileSystem(), SystemClock());
    ASSERT_TRUE(store.Open().ok());
    for (int i = 0; i < 50; ++i) {
      model::StoredMessage m;
      m.topic = "ToolTopic";
      m.queue_id = QueueId(i % 2);
      m.body = "body-" + std::to_string(i);
      m.properties = model::EncodeProperties({{"KEYS", "k" + std::to_string(i)}});
      auto r = store.PutMessage(m);
      ASSERT_TRUE(r.ok());
      offsets_.push_back(r->wrote_offset.value());
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::vector<int64_t> offsets_;
};

TEST_F(StoreToolTest, VerifyPassesACleanStoreAndReportsTheFirstBadOffsetOfADamagedOne) {
  ToolRun ok = Ferrymq("store verify " + dir_);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("50 messages"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("first bad offset: none"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("\nOK"), std::string::npos) << ok.out;

  {
    std::fstream f(dir_ + "/commitlog/00000000000000000000", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offsets_[30] + 90);  // message 30 body (starts at byte 88 with IPv4 hosts): covered by its CRC
    f.put('#');
  }
  ToolRun bad = Ferrymq("store verify " + dir_ + " --json");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  auto j = nlohmann::json::parse(bad.out);
  EXPECT_EQ(j["firstBadOffset"], offsets_[30]);
  EXPECT_EQ(j["messages"], 30);
  EXPECT_FALSE(j["clean"].get<bool>());
}

TEST_F(StoreToolTest, DumpPrintsJsonLinesAndStatsSummarises) {
  ToolRun dump = Ferrymq("store dump " + dir_ + " --count 3 --format json");
  EXPECT_EQ(dump.exit_code, 0) << dump.out;
  std::istringstream lines(dump.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["topic"], "ToolTopic");
    EXPECT_EQ(j["body"], "body-" + std::to_string(n));
    EXPECT_EQ(j["properties"]["KEYS"], "k" + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 3);
  ToolRun stats = Ferrymq("store stats " + dir_ + " --json");
  EXPECT_EQ(stats.exit_code, 0) << stats.out;
  auto s = nlohmann::json::parse(stats.out);
  EXPECT_GE(s["commitLog"]["segments"].get<int>(), 1);  // plus the pre-allocated next one, if it was ready
  EXPECT_EQ(s["commitLog"]["endOffset"].get<int64_t>(),
            offsets_.back() + static_cast<int64_t>(model::StoredMessageSize(7, 9, 8, false, false)));
  EXPECT_EQ(s["queues"].size(), 2u);
  EXPECT_FALSE(s["abortMarker"].get<bool>());
}

TEST_F(StoreToolTest, BadUsageAndMissingStoresExitTwoWithAReason) {
  EXPECT_EQ(Ferrymq("store frobnicate " + dir_).exit_code, 2);
  ToolRun missing = Ferrymq("store verify /nonexistent/store");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("no commit log at /nonexistent/store/commitlog"), std::string::npos)
      << missing.out;
}

}  // namespace
}  // namespace fmq
