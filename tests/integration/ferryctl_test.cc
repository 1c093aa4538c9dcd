// ferryctl as users run it, against `ferrymq standalone` as a real process: create a topic, send, consume
// (alone and in a group), look a message up by its offset id, read the group's progress.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/process_util.h"

namespace fmq {
namespace {

using testing_process::Child;

struct Output {
  int code = -1;
  std::string text;
};

// Runs ferryctl to completion and returns its exit code and combined output.
Output Ferryctl(const std::string& namesrv, std::vector<std::string> args) {
  args.insert(args.begin(), {"-n", namesrv});
  Child c = testing_process::Spawn(FMQ_FERRYCTL_BIN, args);
  Output o;
  char buf[4096];
  ssize_t n;
  while ((n = read(c.out, buf, sizeof buf)) > 0) o.text.append(buf, static_cast<size_t>(n));
  close(c.out);
  o.code = testing_process::WaitExit(c.pid);
  return o;
}

class FerryctlProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fmq-ferryctl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // 64 MiB segments: a fresh 1 GiB commit-log segment takes seconds to pre-allocate and warm on a small VM,
    // and the first send would wait for it.
    // autoCreateTopicEnable=false as in production: topics must be created, and a send to an unknown one
    // fails on the client side.
    std::ofstream(dir_ + "/broker.conf") << "mappedFileSizeCommitLog=67108864\nautoCreateTopicEnable=false\n";
    broker_ = testing_process::Spawn(FMQ_FERRYMQ_BIN, {"standalone", "-d", dir_, "--namesrv-port", "0",
                                                       "--broker-port", "0", "-c", dir_ + "/broker.conf"});
    const std::string out = testing_process::ReadUntil(broker_.out, "ferrymq standalone: name server");
    int ns_port = 0, broker_port = 0;
    ASSERT_TRUE(testing_process::ParseStandaloneBanner(out, &ns_port, &broker_port)) << out;
    namesrv_ = "127.0.0.1:" + std::to_string(ns_port);
    // Keep reading the broker's output so its logging can never block on a full pipe.
    drain_ = std::thread([fd = broker_.out] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
  }
  void TearDown() override {
    if (broker_.pid > 0) {
      kill(broker_.pid, SIGKILL);
      waitpid(broker_.pid, nullptr, 0);
    }
    if (drain_.joinable()) drain_.join();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::string namesrv_;
  Child broker_;
  std::thread drain_;
};

TEST_F(FerryctlProcessTest, SendsAndConsumesRoundTrip) {
  auto created = Ferryctl(namesrv_, {"topic", "create", "Orders", "-q", "4"});
  ASSERT_EQ(created.code, 0) << created.text;
  EXPECT_NE(created.text.find("created with 4 queues"), std::string::npos) << created.text;

  auto sent = Ferryctl(
      namesrv_, {"send", "Orders", "order payload", "--tag", "paid", "--key", "order-7", "--count", "3"});
  ASSERT_EQ(sent.code, 0) << sent.text;
  // Lines like "msgId=<32 hex> offsetMsgId=<32 hex> queue=broker-a:N offset=N status=SEND_OK".
  std::set<std::string> ids;
  std::string an_offset_id;
  auto field = [](const std::string& line, const std::string& key) {
    auto at = line.find(" " + key + "=");
    if (at == std::string::npos && line.rfind(key + "=", 0) == 0)
      at = static_cast<size_t>(-1);
    else if (at == std::string::npos)
      return std::string();
    const size_t start = at + 1 + key.size() + 1;
    return line.substr(start, line.find(' ', start) - start);
  };
  std::istringstream lines(sent.text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("status=SEND_OK") == std::string::npos) continue;
    const std::string id = field(line, "msgId"), offset_id = field(line, "offsetMsgId");
    EXPECT_EQ(id.size(), 32u) << line;
    EXPECT_EQ(offset_id.size(), 32u) << line;
    EXPECT_NE(line.find("queue=broker-a:"), std::string::npos) << line;
    ids.insert(id);
    an_offset_id = offset_id;
  }
  ASSERT_EQ(ids.size(), 3u) << sent.text;

  // Without a group: every queue from the start, nothing committed.
  auto consumed =
      Ferryctl(namesrv_, {"consume", "Orders", "--from-beginning", "--count", "3", "--timeout", "30"});
  ASSERT_EQ(consumed.code, 0) << consumed.text;
  for (const auto& id : ids) EXPECT_NE(consumed.text.find("msgId=" + id), std::string::npos) << consumed.text;
  EXPECT_NE(consumed.text.find("tags=paid keys=order-7"), std::string::npos) << consumed.text;
  EXPECT_NE(consumed.text.find("body=order payload"), std::string::npos) << consumed.text;

  // In a group: the same three messages, then the group's offsets are committed (no lag left).
  auto grouped = Ferryctl(namesrv_, {"consume", "Orders", "--group", "billing", "--from-beginning", "--count",
                                     "3", "--timeout", "60"});
  ASSERT_EQ(grouped.code, 0) << grouped.text;
  for (const auto& id : ids) EXPECT_NE(grouped.text.find("msgId=" + id), std::string::npos) << grouped.text;
  auto progress = Ferryctl(namesrv_, {"group", "progress", "billing"});
  ASSERT_EQ(progress.code, 0) << progress.text;
  EXPECT_NE(progress.text.find("diff total: 0"), std::string::npos) << progress.text;

  auto message = Ferryctl(namesrv_, {"-o", "json", "message", "get", an_offset_id});
  ASSERT_EQ(message.code, 0) << message.text;
  EXPECT_NE(message.text.find("\"body\":\"order payload\""), std::string::npos) << message.text;
  EXPECT_NE(message.text.find("\"offsetMsgId\":\"" + an_offset_id + "\""), std::string::npos) << message.text;
}

TEST_F(FerryctlProcessTest, ReportsFailuresWithExitCodes) {
  auto route = Ferryctl(namesrv_, {"topic", "route", "NoSuchTopic"});
  EXPECT_EQ(route.code, 1) << route.text;
  EXPECT_NE(route.text.find("No topic route info"), std::string::npos) << route.text;
  EXPECT_EQ(Ferryctl(namesrv_, {"topic"}).code, 2);
  // A topic that does not exist, with auto-creation off: the client's own "No route info" error.
  auto send = Ferryctl(namesrv_, {"send", "NoSuchTopic", "hello"});
  EXPECT_EQ(send.code, 1) << send.text;
  EXPECT_NE(send.text.find("No route info of this topic: NoSuchTopic"), std::string::npos) << send.text;
  auto unreachable = Ferryctl("127.0.0.1:1", {"topic", "list"});
  EXPECT_EQ(unreachable.code, 1) << unreachable.text;
}

}  // namespace
}  // namespace fmq
