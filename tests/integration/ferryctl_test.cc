// ferryctl as users run it, against `ferrymq standalone` as a real process: create a topic, send, consume
// (alone and in a group), look a message up by its offset id, read the group's progress.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "broker/base/poll.h"
#include "broker/client/push_consumer.h"
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
  Output o;
  o.code = testing_process::RunToEnd(testing_process::Spawn(FMQ_FERRYCTL_BIN, args), &o.text);
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
    // Every delay level 1 s: a message that fails twice reaches the dead-letter queue within seconds.
    std::ofstream(dir_ + "/broker.conf")
        << testing_process::kHostDiskConf << "mappedFileSizeCommitLog=67108864\nautoCreateTopicEnable=false\n"
        << "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s\n";
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

// A group's life with ferryctl: created with a retry budget of one, its failing consumer fills the
// dead-letter queue, `dlq list` shows the letters with their original topic, `message query` tells their
// consume state, an offline reset rewinds the group, `dlq resend` redelivers letters to that group only, and
// deleting the group or the topic is refused while clients use them.
TEST_F(FerryctlProcessTest, GroupsDeadLettersQueriesAndResets) {
  ASSERT_EQ(Ferryctl(namesrv_, {"topic", "create", "Jobs", "-q", "1"}).code, 0);
  auto created = Ferryctl(namesrv_, {"group", "create", "workers", "--retry-max-times", "1"});
  ASSERT_EQ(created.code, 0) << created.text;
  EXPECT_NE(created.text.find("retryMaxTimes=1"), std::string::npos) << created.text;
  EXPECT_NE(Ferryctl(namesrv_, {"group", "list"}).text.find("workers"), std::string::npos);
  auto sent = Ferryctl(namesrv_, {"send", "Jobs", "job body", "--key", "job-key", "--count", "2"});
  ASSERT_EQ(sent.code, 0) << sent.text;

  client::PushConsumerConfig cc;
  cc.group = "workers";
  cc.client.namesrv_addrs = {namesrv_};
  cc.client.instance_name = "failing";
  cc.consume_from_where = model::ConsumeFromWhere::kFirstOffset;
  cc.max_reconsume_times = 1;
  {
    client::PushConsumer failing(cc);
    failing.Subscribe("Jobs", "*");
    failing.SetListener(
        [](const std::vector<client::MessageExt>&) { return client::ConsumeStatus::kReconsumeLater; });
    ASSERT_TRUE(failing.Start().ok());
    // Delivered, sent back, redelivered after 1 s, sent back again: dead letters.
    ASSERT_TRUE(PollUntil(
        [&] {
          auto l = Ferryctl(namesrv_, {"-o", "json", "dlq", "list", "workers"});
          return l.code == 0 && nlohmann::json::parse(l.text, nullptr, false).size() == 2;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(500)));
    // Still online: the group cannot be deleted.
    auto refused = Ferryctl(namesrv_, {"group", "delete", "workers"});
    EXPECT_EQ(refused.code, 1) << refused.text;
    EXPECT_NE(refused.text.find("group workers has 1 consumer(s) online"), std::string::npos) << refused.text;
    failing.Stop();
  }
  auto letters = nlohmann::json::parse(Ferryctl(namesrv_, {"-o", "json", "dlq", "list", "workers"}).text);
  ASSERT_EQ(letters.size(), 2u);
  for (const auto& l : letters) {
    EXPECT_EQ(l["originalTopic"], "Jobs");
    EXPECT_EQ(l["body"], "job body");
    EXPECT_EQ(l["keys"], "job-key");
  }
  auto table = Ferryctl(namesrv_, {"dlq", "list", "workers"});
  EXPECT_NE(table.text.find("2 dead letter(s) of group workers"), std::string::npos) << table.text;

  // By key, with the group's state: consumed (the failures were handed to the retry topic).
  auto q = Ferryctl(namesrv_, {"message", "query", "-t", "Jobs", "--key", "job-key", "-g", "workers"});
  ASSERT_EQ(q.code, 0) << q.text;
  EXPECT_EQ(std::count(q.text.begin(), q.text.end(), '\n'), 2) << q.text;
  EXPECT_NE(q.text.find("group=workers state=CONSUMED"), std::string::npos) << q.text;
  const std::string first_letter = letters[0]["msgId"];
  auto by_id = Ferryctl(namesrv_, {"message", "query", "-t", "Jobs", "--id", first_letter});
  ASSERT_EQ(by_id.code, 0) << by_id.text;
  EXPECT_NE(by_id.text.find("msgId=" + first_letter), std::string::npos) << by_id.text;

  // Offline reset to the beginning: the group reads both messages again when it starts.
  auto reset = Ferryctl(namesrv_, {"group", "reset", "workers", "-t", "Jobs", "--to", "earliest"});
  ASSERT_EQ(reset.code, 0) << reset.text;
  EXPECT_NE(reset.text.find("no client online"), std::string::npos) << reset.text;

  std::mutex mu;
  std::vector<client::MessageExt> got;
  cc.client.instance_name = "working";
  cc.max_reconsume_times = 16;
  client::PushConsumer working(cc);
  working.Subscribe("Jobs", "*");
  working.SetListener([&](const std::vector<client::MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    got.insert(got.end(), msgs.begin(), msgs.end());
    return client::ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(working.Start().ok());
  auto received = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  };
  ASSERT_TRUE(
      PollUntil([&] { return received() >= 2; }, std::chrono::seconds(30), std::chrono::milliseconds(50)));

  // One letter, then all: each arrives once more, as a message of Jobs, to this group.
  auto one = Ferryctl(namesrv_, {"dlq", "resend", "workers", "--msg-id", first_letter});
  ASSERT_EQ(one.code, 0) << one.text;
  EXPECT_NE(one.text.find(first_letter + " -> %RETRY%workers (for Jobs)"), std::string::npos) << one.text;
  ASSERT_TRUE(
      PollUntil([&] { return received() >= 3; }, std::chrono::seconds(30), std::chrono::milliseconds(50)));
  ASSERT_EQ(Ferryctl(namesrv_, {"dlq", "resend", "workers", "--all"}).code, 0);
  ASSERT_TRUE(
      PollUntil([&] { return received() >= 5; }, std::chrono::seconds(30), std::chrono::milliseconds(50)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // nothing more may arrive
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(got.size(), 5u);
    for (const auto& m : got) {
      EXPECT_EQ(m.topic, "Jobs");
      EXPECT_EQ(m.body, "job body");
      EXPECT_EQ(m.keys, "job-key");
    }
  }
  EXPECT_EQ(Ferryctl(namesrv_, {"dlq", "resend", "workers", "--msg-id", "NOPE"}).code, 1);
  working.Stop();

  // Offline now: the group goes, with its offsets.
  auto deleted = Ferryctl(namesrv_, {"group", "delete", "workers", "--remove-offsets"});
  ASSERT_EQ(deleted.code, 0) << deleted.text;
  EXPECT_EQ(Ferryctl(namesrv_, {"group", "list"}).text.find("workers"), std::string::npos);

  // Sent to within the last minute: a producer is online, so the topic stays unless forced.
  auto busy = Ferryctl(namesrv_, {"topic", "delete", "Jobs"});
  EXPECT_EQ(busy.code, 1) << busy.text;
  EXPECT_NE(busy.text.find("topic Jobs is producing by online producers"), std::string::npos) << busy.text;
  ASSERT_EQ(Ferryctl(namesrv_, {"topic", "delete", "Jobs", "--force"}).code, 0);
  EXPECT_EQ(Ferryctl(namesrv_, {"topic", "route", "Jobs"}).code, 1);
}

// The dial test: every message sent to the broker group comes back, in order with --orderly; a topic without
// a route, or a broker that stopped, fails with exit 1.
TEST_F(FerryctlProcessTest, ProbeSendsAndReadsBackEveryMessage) {
  ASSERT_EQ(Ferryctl(namesrv_, {"topic", "create", "Probe", "-q", "4"}).code, 0);
  ASSERT_EQ(Ferryctl(namesrv_, {"send", "Probe", "other traffic", "--count", "3"}).code, 0);
  for (bool orderly : {false, true}) {
    std::vector<std::string> args = {"-o", "json", "probe", "Probe", "--count", "20", "--size", "300"};
    if (orderly) args.push_back("--orderly");
    auto probe = Ferryctl(namesrv_, args);
    ASSERT_EQ(probe.code, 0) << probe.text;
    const auto j = nlohmann::json::parse(probe.text.substr(0, probe.text.find('\n')));
    ASSERT_EQ(j["groups"].size(), 1u) << probe.text;
    const auto& g = j["groups"][0];
    EXPECT_TRUE(j["ok"].get<bool>()) << probe.text;
    EXPECT_EQ(g["sent"], 20) << probe.text;
    EXPECT_EQ(g["received"], 20) << probe.text;
    EXPECT_EQ(g["lost"], 0) << probe.text;
    EXPECT_EQ(g["duplicated"], 0) << probe.text;
    EXPECT_GT(g["e2eMsMax"].get<double>(), 0) << probe.text;
  }
  auto text = Ferryctl(namesrv_, {"probe", "Probe", "--count", "2"});
  EXPECT_EQ(text.code, 0) << text.text;
  EXPECT_NE(text.text.find("E2E_P99_MS"), std::string::npos) << text.text;
  auto no_route = Ferryctl(namesrv_, {"probe", "NoSuchTopic"});
  EXPECT_EQ(no_route.code, 1) << no_route.text;

  kill(broker_.pid, SIGSTOP);  // the broker and name server stop answering
  auto stopped = Ferryctl(namesrv_, {"probe", "Probe", "--timeout", "3"});
  kill(broker_.pid, SIGCONT);
  EXPECT_EQ(stopped.code, 1) << stopped.text;
}

TEST_F(FerryctlProcessTest, TopShowsTrafficPerTopicAndTheLargestLagsAndTopicStatsPerBroker) {
  ASSERT_EQ(Ferryctl(namesrv_, {"topic", "create", "Busy", "-q", "2"}).code, 0);
  ASSERT_EQ(Ferryctl(namesrv_, {"topic", "create", "Quiet", "-q", "2"}).code, 0);
  ASSERT_EQ(Ferryctl(namesrv_, {"send", "Busy", "hello", "--count", "30"}).code, 0);
  auto consumed = Ferryctl(
      namesrv_, {"consume", "Busy", "-g", "top_g", "--from-beginning", "--count", "10", "--timeout", "30"});
  ASSERT_EQ(consumed.code, 0) << consumed.text;

  nlohmann::json j;
  // The group's commit reaches the broker with the consumer's shutdown; the lag reads it.
  ASSERT_TRUE(PollUntil(
      [&] {
        auto top = Ferryctl(namesrv_, {"-o", "json", "top"});
        if (top.code != 0) return false;
        j = nlohmann::json::parse(top.text.substr(0, top.text.find('\n')));
        for (const auto& g : j["lags"]) {
          if (g["group"] == "top_g" && g["topic"] == "Busy" && g["lag"] == 20) return true;
        }
        return false;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(300)))
      << j.dump();
  ASSERT_GE(j["topics"].size(), 2u) << j.dump();
  EXPECT_EQ(j["topics"][0]["topic"], "Busy") << j.dump();  // busiest first
  EXPECT_DOUBLE_EQ(j["topics"][0]["inTps"].get<double>(), 30.0 / 60) << j.dump();
  EXPECT_GT(j["topics"][0]["outTps"].get<double>(), 0) << j.dump();
  EXPECT_DOUBLE_EQ(j["inTps"].get<double>(), 30.0 / 60) << j.dump();

  auto text = Ferryctl(namesrv_, {"top", "--limit", "1", "--interval", "1", "--count", "2"});
  ASSERT_EQ(text.code, 0) << text.text;
  EXPECT_NE(text.text.find("in 0.5 msg/s"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("quieter topics not shown"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("GROUP"), text.text.rfind("GROUP")) << text.text;  // two rounds, a table each

  auto stats = Ferryctl(namesrv_, {"topic", "stats", "Busy"});
  ASSERT_EQ(stats.code, 0) << stats.text;
  EXPECT_NE(stats.text.find("STORED_LAST_MINUTE"), std::string::npos) << stats.text;
  const size_t per_broker = stats.text.find("STORED_LAST_MINUTE");
  const std::string row = stats.text.substr(stats.text.find('\n', per_broker) + 1);
  std::istringstream fields(row);
  std::string broker, queues, messages, day, time, minute;
  fields >> broker >> queues >> messages >> day >> time >> minute;
  EXPECT_EQ(queues, "2") << stats.text;
  EXPECT_EQ(messages, "30") << stats.text;
  EXPECT_EQ(minute, "30") << stats.text;
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

// ACL: a standalone with aclEnable; ferryctl manages accounts signed as an admin, never shows secrets, and
// the accounts it sets and deletes take effect at once.
TEST(FerryctlAclTest, ManagesAccountsOnEveryBrokerSignedAsAnAdmin) {
  char tmpl[] = "/tmp/fmq-ferryctl-acl-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/store/conf");
  std::ofstream(dir + "/store/conf/plain_acl.yml")
      << "accounts:\n"
      << "  - {accessKey: broker-inner, secretKey: inner-secret, admin: true}\n"
      << "  - {accessKey: ops-admin, secretKey: ops-admin-secret, admin: true}\n";
  std::ofstream(dir + "/broker.conf")
      << testing_process::kHostDiskConf << "mappedFileSizeCommitLog=67108864\n"
      << "aclEnable=true\ninnerAccessKey=broker-inner\ninnerSecretKey=inner-secret\n";
  Child broker = testing_process::Spawn(FMQ_FERRYMQ_BIN, {"standalone", "-d", dir, "--namesrv-port", "0",
                                                          "--broker-port", "0", "-c", dir + "/broker.conf"});
  const std::string banner = testing_process::ReadUntil(broker.out, "ferrymq standalone: name server");
  int ns_port = 0, broker_port = 0;
  ASSERT_TRUE(testing_process::ParseStandaloneBanner(banner, &ns_port, &broker_port)) << banner;
  std::thread drain([fd = broker.out] {
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  });
  const std::string ns = "127.0.0.1:" + std::to_string(ns_port);
  const std::vector<std::string> as_admin = {"--access-key", "ops-admin", "--secret-key", "ops-admin-secret"};
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), as_admin.begin(), as_admin.end());
    return Ferryctl(ns, args);
  };

  Output o = Ferryctl(ns, {"acl", "list"});
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("No accessKey is configured"), std::string::npos) << o.text;

  o = admin({"acl", "set", "app-billing", "--account-secret", "billing-secret", "--topic-perm", "orders=PUB",
             "--group-perm", "billing=SUB"});
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("account app-billing set on broker-a/0"), std::string::npos) << o.text;
  o = admin({"acl", "list"});
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("app-billing"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("orders=PUB"), std::string::npos) << o.text;
  EXPECT_EQ(o.text.find("billing-secret"), std::string::npos) << "secrets are never printed: " << o.text;
  EXPECT_EQ(o.text.find("ops-admin-secret"), std::string::npos) << o.text;

  const std::vector<std::string> as_app = {"--access-key", "app-billing", "--secret-key", "billing-secret"};
  auto app = [&](std::vector<std::string> args) {
    args.insert(args.begin(), as_app.begin(), as_app.end());
    return Ferryctl(ns, args);
  };
  o = app({"send", "orders", "hello"});
  EXPECT_EQ(o.code, 0) << "the new account sends at once: " << o.text;
  o = app({"acl", "list"});
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("Need admin permission for request code=54"), std::string::npos) << o.text;

  o = admin({"acl", "set", "app-other", "--account-secret", "other-secret", "--topic-perm", "orders=WRITE"});
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("orders=WRITE"), std::string::npos) << o.text;

  o = admin({"acl", "delete", "app-billing"});
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("account app-billing deleted on broker-a/0"), std::string::npos) << o.text;
  o = admin({"acl", "delete", "app-billing"});
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("account app-billing was not on broker-a/0"), std::string::npos) << o.text;
  o = app({"send", "orders", "revoked"});
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("No acl config for app-billing"), std::string::npos) << o.text;

  kill(broker.pid, SIGKILL);
  waitpid(broker.pid, nullptr, 0);
  drain.join();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fmq
