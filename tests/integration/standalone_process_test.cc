// `ferrymq standalone` and `ferrymq broker` as real processes: bad input on both ports, kill -9 during a
// sync-flush produce run, and start-up errors that say what to do.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "broker/base/coding.h"
#include "broker/model/message.h"
#include "broker/net/remoting_client.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "tests/integration/process_util.h"

namespace fmq {
namespace {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;
using testing_process::Child;

Child Spawn(const std::vector<std::string>& args) { return testing_process::Spawn(FMQ_FERRYMQ_BIN, args); }

struct Ports {
  int namesrv = 0;
  int broker = 0;
};

// Waits for the standalone banner and reads the ports from it.
Ports ReadPorts(const Child& c, std::string* out) {
  *out = testing_process::ReadUntil(c.out, "ferrymq standalone: name server");
  Ports p;
  if (!testing_process::ParseStandaloneBanner(*out, &p.namesrv, &p.broker)) return {};
  return p;
}

class StandaloneProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fmq-standalone-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(client_.Start().ok());
  }
  void TearDown() override {
    client_.Stop();
    for (pid_t pid : children_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts standalone on free ports with `conf` as broker.conf.
  Child Start(const std::string& conf = "") {
    std::ofstream(dir_ + "/broker.conf") << testing_process::kHostDiskConf << conf;
    std::vector<std::string> args = {"standalone",    "-d", dir_, "--namesrv-port",     "0",
                                     "--broker-port", "0",  "-c", dir_ + "/broker.conf"};
    Child c = Spawn(args);
    children_.push_back(c.pid);
    std::string out;
    ports_ = ReadPorts(c, &out);
    EXPECT_NE(ports_.broker, 0) << out;
    broker_ = "127.0.0.1:" + std::to_string(ports_.broker);
    return c;
  }

  Result<RemotingCommand> Call(int32_t code, std::map<std::string, std::string> ext, std::string body = "") {
    RemotingCommand req = RemotingCommand::Request(code, 0);
    req.ext_fields = std::move(ext);
    req.body = std::move(body);
    return client_.InvokeSync(broker_, std::move(req), std::chrono::seconds(10));
  }

  void CreateTopic(const std::string& topic, int queues) {
    auto r = Call(rq::kUpdateAndCreateTopic, {{"topic", topic},
                                              {"defaultTopic", "TBW102"},
                                              {"readQueueNums", std::to_string(queues)},
                                              {"writeQueueNums", std::to_string(queues)},
                                              {"perm", "6"},
                                              {"topicFilterType", "SINGLE_TAG"},
                                              {"order", "false"}});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->code, rc::kSuccess);
  }

  std::string dir_;
  Ports ports_;
  std::string broker_;
  net::RemotingClient client_;
  std::vector<pid_t> children_;
};

TEST_F(StandaloneProcessTest, BadInputOnEitherPortClosesOnlyThatConnection) {
  Child c = Start();
  ASSERT_EQ(c.pid, children_.back());
  CreateTopic("Survivor", 1);
  std::mt19937 rng(11);
  for (int port : {ports_.namesrv, ports_.broker}) {
    SCOPED_TRACE("port " + std::to_string(port));
    std::string junk(8192, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    const std::string oversized("\x7f\xff\xff\xff\x00\x00\x00\x10", 8);
    const std::string truncated = std::string("\x00\x00\x00\x64\x00\x00\x00\x20", 8) + "{\"code\":";
    EXPECT_EQ(testing_process::Exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), "");
    EXPECT_EQ(testing_process::Exchange(port, junk), "");
    EXPECT_EQ(testing_process::Exchange(port, oversized), "");
    EXPECT_EQ(testing_process::Exchange(port, truncated, /*half_close=*/true), "");
    // An unknown request code is answered, not dropped.
    RemotingCommand req = RemotingCommand::Request(9999, 0);
    auto r = client_.InvokeSync("127.0.0.1:" + std::to_string(port), req, std::chrono::seconds(10));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->code, rc::kRequestCodeNotSupported);
  }
  // The client connected all along still works, and the process is up.
  EXPECT_TRUE(testing_process::Alive(c.pid));
  auto r = Call(rq::kGetMaxOffset, {{"topic", "Survivor"}, {"queueId", "0"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, rc::kSuccess);
}

TEST_F(StandaloneProcessTest, EveryAcknowledgedSyncFlushSendSurvivesKill9) {
  constexpr int kQueues = 4;
  constexpr int kThreads = 8;
  struct Acked {
    int queue;
    int64_t offset;
    std::string body;
  };
  std::vector<Acked> all_acked;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Child c = Start("flushDiskType=SYNC_FLUSH\nmappedFileSizeCommitLog=67108864\n");
    if (round == 0) CreateTopic("Durable", kQueues);
    std::atomic<bool> stop{false};
    std::atomic<int> acked_count{0};
    std::vector<std::vector<Acked>> acked(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; !stop; ++i) {
          protocol::SendMessageRequestHeader h;
          h.producer_group = "pg";
          h.topic = "Durable";
          h.default_topic = "TBW102";
          h.default_topic_queue_nums = kQueues;
          h.queue_id = (t + i) % kQueues;
          h.born_timestamp = 1;
          h.properties = "";
          RemotingCommand req = RemotingCommand::Request(rq::kSendMessage, 0);
          protocol::SendMessageRequestHeader::V1().Encode(h, &req.ext_fields);
          req.body = "r" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(i);
          const std::string body = req.body;
          auto r = client_.InvokeSync(broker_, std::move(req), std::chrono::seconds(5));
          if (!r.ok()) break;  // the broker is gone
          if (r->code != rc::kSuccess) continue;
          acked[t].push_back(
              {std::stoi(r->ext_fields["queueId"]), std::stoll(r->ext_fields["queueOffset"]), body});
          ++acked_count;
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acked_count < 2000 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GE(acked_count.load(), 2000);
    ASSERT_EQ(kill(c.pid, SIGKILL), 0);  // in the middle of the run
    waitpid(c.pid, nullptr, 0);
    children_.pop_back();
    stop = true;
    for (auto& th : threads) th.join();
    for (auto& v : acked) all_acked.insert(all_acked.end(), v.begin(), v.end());
  }

  // Restart on the same data and read every queue back.
  Start();
  std::map<std::pair<int, int64_t>, std::string> stored;
  for (int q = 0; q < kQueues; ++q) {
    int64_t offset = 0;
    for (int guard = 0; guard < 100000; ++guard) {
      auto r = Call(rq::kPullMessage, {{"consumerGroup", "verify"},
                                       {"topic", "Durable"},
                                       {"queueId", std::to_string(q)},
                                       {"queueOffset", std::to_string(offset)},
                                       {"maxMsgNums", "32"},
                                       {"sysFlag", "4"},
                                       {"commitOffset", "0"},
                                       {"suspendTimeoutMillis", "0"},
                                       {"subscription", "*"},
                                       {"subVersion", "0"}});
      ASSERT_TRUE(r.ok()) << r.status();
      if (r->code != rc::kSuccess) break;
      auto bytes = AsBytes(r->body);
      size_t pos = 0;
      while (pos < bytes.size()) {
        auto m = model::DecodeStoredMessage(bytes.subspan(pos), /*check_crc=*/true);
        ASSERT_TRUE(m.ok()) << m.status();
        stored[{q, m->queue_offset.value()}] = m->body;
        ByteReader size_reader(bytes.subspan(pos, 4));
        int32_t size = 0;
        size_reader.ReadI32(&size);
        pos += static_cast<size_t>(size);
      }
      offset = std::stoll(r->ext_fields["nextBeginOffset"]);
    }
  }
  size_t missing = 0;
  for (const auto& a : all_acked) {
    auto it = stored.find({a.queue, a.offset});
    if (it == stored.end() || it->second != a.body) {
      if (++missing <= 5)
        ADD_FAILURE() << "acknowledged message lost: queue " << a.queue << " offset " << a.offset;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << all_acked.size() << " acknowledged";
  std::printf("kill -9 x2 under SYNC_FLUSH: %zu acknowledged sends, %zu stored, %zu missing\n",
              all_acked.size(), stored.size(), missing);
}

TEST_F(StandaloneProcessTest, StartUpErrorsSayWhatToDo) {
  // A port in use.
  Start();
  Child second = Spawn({"standalone", "-d", dir_ + "/other", "--namesrv-port", "0", "--broker-port",
                        std::to_string(ports_.broker)});
  std::string out = testing_process::ReadUntil(second.out, "\n\n");  // reads to the end
  EXPECT_EQ(testing_process::WaitExit(second.pid), 1);
  EXPECT_NE(out.find("already in use"), std::string::npos) << out;
  EXPECT_NE(out.find("listenPort"), std::string::npos) << out;

  // A bad value for a known key, with the file and key named.
  std::ofstream(dir_ + "/bad.conf") << "flushDiskType=SOMETIMES\n";
  Child bad = Spawn({"broker", "-c", dir_ + "/bad.conf"});
  out = testing_process::ReadUntil(bad.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(bad.pid), 2);
  EXPECT_NE(out.find("flushDiskType"), std::string::npos) << out;
  EXPECT_NE(out.find("bad.conf"), std::string::npos) << out;

  // standalone's --set: a bad value and a malformed pair are refused before anything starts.
  Child bad_set = Spawn({"standalone", "-d", dir_ + "/badset", "--namesrv-port", "0", "--broker-port", "0",
                         "--set", "diskSpaceWarningLevelRatio=1.5"});
  out = testing_process::ReadUntil(bad_set.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(bad_set.pid), 2);
  EXPECT_NE(
      out.find("diskSpaceWarningLevelRatio must be a fraction of the disk in (0, 1], e.g. 0.9; got 1.5"),
      std::string::npos)
      << out;
  Child no_eq = Spawn({"standalone", "-d", dir_ + "/badset", "--set", "brokerIP1"});
  out = testing_process::ReadUntil(no_eq.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(no_eq.pid), 2);
  EXPECT_NE(out.find("--set expects key=value, got 'brokerIP1'"), std::string::npos) << out;

  // ACL: standalone needs the broker's own admin account; an invalid plain_acl.yml stops the start.
  Child no_inner = Spawn({"standalone", "-d", dir_ + "/acl", "--namesrv-port", "0", "--broker-port", "0",
                          "--set", "aclEnable=true"});
  out = testing_process::ReadUntil(no_inner.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(no_inner.pid), 2);
  EXPECT_NE(out.find("aclEnable=true: set innerAccessKey and innerSecretKey to an admin account of " + dir_ +
                     "/acl/store/conf/plain_acl.yml"),
            std::string::npos)
      << out;
  std::filesystem::create_directories(dir_ + "/acl2/store/conf");
  std::ofstream(dir_ + "/acl2/store/conf/plain_acl.yml")
      << "accounts: [{accessKey: inner, secretKey: inner-secret}]\n";
  Child bad_acl =
      Spawn({"standalone", "-d", dir_ + "/acl2", "--namesrv-port", "0", "--broker-port", "0", "--set",
             "aclEnable=true", "--set", "innerAccessKey=inner", "--set", "innerSecretKey=inner-secret"});
  out = testing_process::ReadUntil(bad_acl.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(bad_acl.pid), 1);
  EXPECT_NE(out.find("aclEnable=true: " + dir_ +
                     "/acl2/store/conf/plain_acl.yml: accessKey \"inner\" is too short"),
            std::string::npos)
      << out;
  // An unreadable config file.
  Child missing = Spawn({"broker", "-c", dir_ + "/does-not-exist.conf"});
  out = testing_process::ReadUntil(missing.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(missing.pid), 2);
  EXPECT_NE(out.find("cannot read"), std::string::npos) << out;

  // A name server that cannot be reached: the broker starts, says so, and keeps retrying.
  std::ofstream(dir_ + "/lonely.conf") << "listenPort=0\nbrokerIP1=127.0.0.1\nnamesrvAddr=127.0.0.1:1\n"
                                       << "storePathRootDir=" << dir_ << "/lonely\n";
  // --set overrides a key of the file (the operator announces the pod IP this way).
  Child lonely = Spawn({"broker", "-c", dir_ + "/lonely.conf", "--set", "brokerIP1=127.0.0.3"});
  children_.push_back(lonely.pid);
  out = testing_process::ReadUntil(lonely.out, ")\n");
  EXPECT_NE(out.find("not registered with any name server"), std::string::npos) << out;
  EXPECT_NE(out.find("127.0.0.1:1"), std::string::npos) << out;
  EXPECT_NE(out.find("listening on 127.0.0.3:"), std::string::npos) << out;
  EXPECT_TRUE(testing_process::Alive(lonely.pid));

  Child malformed = Spawn({"broker", "-c", dir_ + "/lonely.conf", "--set", "brokerIP1"});
  out = testing_process::ReadUntil(malformed.out, "\n\n");
  EXPECT_EQ(testing_process::WaitExit(malformed.pid), 2);
  EXPECT_NE(out.find("--set expects key=value"), std::string::npos) << out;
}

}  // namespace
}  // namespace fmq
