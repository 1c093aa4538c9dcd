// `ferrymq namesrv` as a real process: it answers a RocketMQ-protocol client, survives HTTP and random bytes
// on its port, explains a port already in use and a bad config value, and stops cleanly on SIGTERM.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "broker/net/remoting_client.h"
#include "broker/protocol/codes.h"
#include "tests/integration/process_util.h"

namespace fmq {
namespace {

using testing_process::Child;
using testing_process::ReadUntil;
using testing_process::WaitExit;

Child Spawn(const std::vector<std::string>& args) { return testing_process::Spawn(FMQ_FERRYMQ_BIN, args); }

void SendRaw(int port, const std::string& bytes) {
  EXPECT_EQ(testing_process::Exchange(port, bytes), "")
      << "the name server closes a connection that does not speak RocketMQ";
}

class NamesrvProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fmq-ns-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/namesrv.conf") << "listenAddress=127.0.0.1\nlistenPort=0\nkvConfigPath=" << dir_
                                          << "/kv/kvConfig.json\nrocketmqHome=/opt/rocketmq\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(NamesrvProcessTest, ServesClientsSurvivesGarbageAndStopsOnSigterm) {
  Child ns = Spawn({"namesrv", "-c", dir_ + "/namesrv.conf"});
  std::string out = ReadUntil(ns.out, "listening on 127.0.0.1:");
  auto at = out.find("listening on 127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << out;
  const int port = std::stoi(out.substr(at + 23));
  const std::string addr = "127.0.0.1:" + std::to_string(port);

  net::RemotingClient client;
  ASSERT_TRUE(client.Start().ok());
  auto ask = [&] {
    protocol::RemotingCommand req =
        protocol::RemotingCommand::Request(protocol::request_code::kGetRouteInfoByTopic, 0);
    req.ext_fields["topic"] = "TopicTest";
    return client.InvokeSync(addr, req, std::chrono::seconds(10));
  };
  auto r = ask();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, protocol::response_code::kTopicNotExist);

  SendRaw(port, "GET / HTTP/1.1\r\nHost: ns\r\n\r\n");
  std::mt19937 rng(3);
  std::string junk(4096, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  SendRaw(port, junk);
  r = ask();
  ASSERT_TRUE(r.ok()) << "still serving after garbage: " << r.status();

  // A second name server on the same port explains the conflict and exits 1.
  std::ofstream(dir_ + "/second.conf") << "listenAddress=127.0.0.1\nlistenPort=" << port << "\n";
  Child second = Spawn({"namesrv", "-c", dir_ + "/second.conf"});
  std::string second_out = ReadUntil(second.out, "already in use");
  EXPECT_EQ(WaitExit(second.pid), 1);
  EXPECT_NE(second_out.find("already in use by another process"), std::string::npos) << second_out;

  client.Stop();
  kill(ns.pid, SIGTERM);
  EXPECT_EQ(WaitExit(ns.pid), 0);
  std::string rest = ReadUntil(ns.out, "<end of output>");
  EXPECT_NE((out + rest).find("ignoring config key rocketmqHome"), std::string::npos) << out + rest;
  close(ns.out);
  close(second.out);
}

TEST_F(NamesrvProcessTest, ABadConfigValueIsRefusedWithTheFileAndKey) {
  std::ofstream(dir_ + "/bad.conf") << "listenPort=ninety\n";
  Child ns = Spawn({"namesrv", "-c", dir_ + "/bad.conf"});
  std::string out = ReadUntil(ns.out, "<end of output>");
  EXPECT_EQ(WaitExit(ns.pid), 2);
  EXPECT_NE(out.find("bad.conf: config key listenPort: 'ninety' is not a number"), std::string::npos) << out;
  close(ns.out);
  Child missing = Spawn({"namesrv", "-c", dir_ + "/nope.conf"});
  out = ReadUntil(missing.out, "<end of output>");
  EXPECT_EQ(WaitExit(missing.pid), 2);
  EXPECT_NE(out.find("cannot read"), std::string::npos) << out;
  close(missing.out);
}

}  // namespace
}  // namespace fmq
