// Replication with real processes: a name server and a master with two slaves, each broker a `ferrymq broker`
// process on its own loopback address (127.0.0.2-4), driven by the C++ client and `ferryctl` as users would.
// Covers byte-identical copies, reads from a slave while the master is stopped, failover with `ferryctl ha
// promote` after SIGKILL (nothing acknowledged lost, the unacknowledged tail of the old master cut when it
// returns and is refused by the name server), switchover, the reject and degrade policies, and bad input on
// the replication port.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "broker/base/poll.h"
#include "broker/client/admin.h"
#include "broker/client/producer.h"
#include "broker/client/pull_consumer.h"
#include "tests/integration/process_util.h"

namespace fmq {
namespace {

namespace fs = std::filesystem;
using testing_process::Child;

constexpr const char* kCluster = "ReplCluster";
constexpr const char* kBroker = "broker-r";
constexpr const char* kTopic = "ReplTopic";

// A child process whose output is drained into a buffer (so it never blocks on a full pipe).
class Proc {
 public:
  Proc() = default;
  Proc(const Proc&) = delete;
  ~Proc() { Kill(SIGKILL); }

  // Starts `args` and reads until `banner` appears; returns the output so far.
  std::string Start(const std::vector<std::string>& args, const std::string& banner) {
    child_ = testing_process::Spawn(FMQ_FERRYMQ_BIN, args);
    std::string out = testing_process::ReadUntil(child_.out, banner);
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_ = out;
    }
    drain_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = read(child_.out, buf, sizeof buf)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        log_.append(buf, static_cast<size_t>(n));
      }
    });
    return out;
  }

  void Kill(int sig) {
    if (child_.pid <= 0) return;
    if (sig == SIGSTOP) {
      // Returns once every thread has stopped: a test that then sends "while the slaves are frozen" must not
      // race a slave that is still replicating (a loaded machine delays the stop by milliseconds).
      EXPECT_TRUE(testing_process::StopAndWait(child_.pid)) << "pid " << child_.pid << " did not stop";
      return;
    }
    kill(child_.pid, sig);
    if (sig == SIGCONT) return;
    waitpid(child_.pid, nullptr, 0);
    child_.pid = -1;
    if (drain_.joinable()) drain_.join();
    close(child_.out);
  }

  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

 private:
  Child child_;
  std::thread drain_;
  std::mutex mu_;
  std::string log_;
};

struct Broker {
  std::string ip;
  std::string dir;
  std::string conf;
  std::string address;  // ip:port
  int ha_port = 0;
  std::unique_ptr<Proc> proc;
};

class ReplicationProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fmq-repl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/namesrv.conf") << "listenPort=0\nkvConfigPath=" << dir_ << "/kv.json\n";
    const std::string out = namesrv_.Start({"namesrv", "-c", dir_ + "/namesrv.conf"}, "listening on");
    auto at = out.find("listening on 0.0.0.0:");
    ASSERT_NE(at, std::string::npos) << out;
    namesrv_addr_ = "127.0.0.1:" + std::to_string(std::stoi(out.substr(at + 21)));
    client::ClientOptions o;
    o.namesrv_addrs = {namesrv_addr_};
    o.instance_name = "admin";
    admin_ = std::make_unique<client::Admin>(o);
    ASSERT_TRUE(admin_->Start().ok());
  }

  void TearDown() override {
    if (HasFailure()) {
      for (auto& [name, b] : brokers_) {
        if (b.proc)
          std::cerr << "---- " << name << " (" << b.address << ") output:\n" << b.proc->log() << "\n";
      }
    }
    admin_->Stop();
    brokers_.clear();
    namesrv_.Kill(SIGKILL);
    fs::remove_all(dir_);
  }

  // Writes the broker's config (once) and starts it; the process learns its master from the name server.
  Broker& StartBroker(const std::string& name, const std::string& ip, const std::string& role, int id,
                      const std::string& extra = "", const std::string& broker_name = kBroker,
                      const std::vector<std::string>& args = {}) {
    Broker& b = brokers_[name];
    if (b.conf.empty()) {
      b.ip = ip;
      b.dir = dir_ + "/" + name;
      fs::create_directories(b.dir);
      b.conf = b.dir + "/broker.conf";
      std::ofstream(b.conf)
          << "brokerClusterName=" << kCluster << "\nbrokerName=" << broker_name << "\nbrokerId=" << id
          << "\nbrokerRole=" << role << "\nlistenAddress=" << ip << "\nbrokerIP1=" << ip
          << "\nlistenPort=0\nstorePathRootDir=" << b.dir << "/store\nnamesrvAddr=" << namesrv_addr_
          << "\nmappedFileSizeCommitLog=1048576\nmaxMessageSize=65536\nregisterNameServerPeriod=10000"
          << "\nhaSlaveReportInterval=100\nhaMaxTimeSlaveNotCatchup=3000\nslaveTimeout=2000"
          << "\nhaSyncMetadataInterval=500\n"
          << testing_process::kHostDiskConf << extra;
    }
    b.proc = std::make_unique<Proc>();
    std::vector<std::string> argv = {"broker", "-c", b.conf};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = b.proc->Start(argv, "listening on");
    auto at = out.find("listening on ");
    auto comma = out.find(", replication port ", at);
    EXPECT_TRUE(at != std::string::npos && comma != std::string::npos) << out;
    if (at == std::string::npos || comma == std::string::npos) return b;
    b.address = out.substr(at + 13, comma - at - 13);
    b.ha_port = std::stoi(out.substr(comma + 19));
    return b;
  }

  model::HaStatusBody Status(const Broker& b) {
    auto s = admin_->HaStatus(b.address);
    return s.ok() ? *s : model::HaStatusBody{};
  }

  bool WaitInSync(const Broker& master, int copies) {
    return PollUntil([&] { return Status(master).in_sync_copies == copies; }, std::chrono::seconds(20));
  }

  bool WaitCaughtUp(const Broker& slave, const Broker& master) {
    return PollUntil(
        [&] {
          const auto s = Status(slave);
          return s.max_offset > 0 && s.max_offset == Status(master).max_offset;
        },
        std::chrono::seconds(20));
  }

  std::unique_ptr<client::Producer> NewProducer(int retries = 2) {
    client::ProducerConfig pc;
    pc.group = "ReplProducer";
    pc.client.namesrv_addrs = {namesrv_addr_};
    pc.client.instance_name = "p" + std::to_string(++instances_);
    pc.retry_times_when_send_failed = retries;
    pc.send_timeout = std::chrono::milliseconds(5'000);
    auto p = std::make_unique<client::Producer>(pc);
    EXPECT_TRUE(p->Start().ok());
    return p;
  }

  // Sends `n` messages with bodies `prefix-i`; returns the bodies acknowledged SEND_OK.
  std::set<std::string> Send(client::Producer& p, const std::string& prefix, int n, int* not_ok = nullptr,
                             const std::string& topic = kTopic) {
    std::set<std::string> ok;
    for (int i = 0; i < n; ++i) {
      client::Message m;
      m.topic = topic;
      m.body = prefix + "-" + std::to_string(i) + "-" + std::string(200 + (i * 131) % 3000, 'a' + i % 26);
      auto r = p.Send(m);
      if (r.ok() && r->status == client::SendStatus::kSendOk) {
        ok.insert(m.body);
      } else if (not_ok) {
        ++*not_ok;
      }
    }
    return ok;
  }

  // Every message of the topic as a fresh consumer group reads it (from whichever member serves reads).
  std::multiset<std::string> ReadAll() {
    client::PullConsumerConfig cc;
    cc.group = "ReplReader" + std::to_string(++instances_);
    cc.client.namesrv_addrs = {namesrv_addr_};
    cc.client.instance_name = "r" + std::to_string(instances_);
    client::PullConsumer c(cc);
    std::multiset<std::string> got;
    EXPECT_TRUE(c.Start().ok());
    auto queues = c.FetchSubscribeQueues(kTopic);
    EXPECT_TRUE(queues.ok()) << queues.status();
    if (!queues.ok()) return got;
    client::Subscription sub;
    sub.topic = kTopic;
    sub.expression = "*";
    for (const auto& q : *queues) {
      int64_t offset = 0;
      for (int empty = 0; empty < 3;) {
        auto r = c.Pull(q, sub, offset, 32, std::chrono::milliseconds(0));
        if (!r.ok() || r->status != client::PullStatus::kFound) {
          ++empty;
          if (r.ok() && r->status == client::PullStatus::kOffsetIllegal) offset = r->next_begin_offset;
          continue;
        }
        for (const auto& m : r->messages) got.insert(m.body);
        offset = r->next_begin_offset;
      }
    }
    c.Stop();
    return got;
  }

  // Commit-log segments holding data below `end`, compared byte for byte.
  static void ExpectSameLog(const Broker& a, const Broker& b, int64_t end) {
    for (const auto& entry : fs::directory_iterator(a.dir + "/store/commitlog")) {
      const std::string name = entry.path().filename();
      if (std::stoll(name) >= end) continue;
      std::ifstream fa(entry.path(), std::ios::binary),
          fb(b.dir + "/store/commitlog/" + name, std::ios::binary);
      ASSERT_TRUE(fb.good()) << b.dir << " lacks segment " << name;
      std::string da((std::istreambuf_iterator<char>(fa)), {}), db((std::istreambuf_iterator<char>(fb)), {});
      EXPECT_TRUE(da == db) << "segment " << name << " differs between " << a.address << " and " << b.address;
    }
  }

  std::string dir_;
  Proc namesrv_;
  std::string namesrv_addr_;
  std::unique_ptr<client::Admin> admin_;
  std::map<std::string, Broker> brokers_;
  int instances_ = 0;
};

TEST_F(ReplicationProcessTest, SlavesHoldByteIdenticalLogsAndServeReadsWhileTheMasterIsStopped) {
  Broker& m = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0);
  Broker& s1 = StartBroker("s1", "127.0.0.3", "SLAVE", 1);
  Broker& s2 = StartBroker("s2", "127.0.0.4", "SLAVE", 2);
  ASSERT_TRUE(WaitInSync(m, 3)) << "slaves learn the master from the name server and catch up";
  client::CreateTopicOptions to;
  to.read_queue_nums = to.write_queue_nums = 4;
  ASSERT_TRUE(admin_->CreateTopic(kTopic, kCluster, to).ok());
  auto producer = NewProducer();
  const auto acked = Send(*producer, "a", 1500);
  ASSERT_EQ(acked.size(), 1500u);
  producer->Stop();
  ASSERT_TRUE(WaitCaughtUp(s1, m));
  ASSERT_TRUE(WaitCaughtUp(s2, m));
  const int64_t end = Status(m).max_offset;
  ASSERT_GT(end, 2 * 1048576) << "the run must span several segments";
  ExpectSameLog(m, s1, end);
  ExpectSameLog(m, s2, end);
  // The slaves copied the topic too (it was created on the master only).
  ASSERT_TRUE(PollUntil(
      [&] {
        return admin_->GetAllTopicConfig(s1.address).ok() &&
               admin_->GetAllTopicConfig(s1.address)->count(kTopic) == 1;
      },
      std::chrono::seconds(10)));
  // The master goes away (clean stop: it unregisters); a fresh consumer group reads everything from a slave.
  m.proc->Kill(SIGTERM);
  const auto read = ReadAll();
  EXPECT_EQ(read.size(), acked.size());
  EXPECT_EQ(std::set<std::string>(read.begin(), read.end()), acked);
}

TEST_F(ReplicationProcessTest,
       PromoteAfterSigkillLosesNothingAndTheOldMasterRejoinsWithoutItsUnacknowledgedTail) {
  Broker& m = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0);
  Broker& s1 = StartBroker("s1", "127.0.0.3", "SLAVE", 1);
  Broker& s2 = StartBroker("s2", "127.0.0.4", "SLAVE", 2);
  ASSERT_TRUE(WaitInSync(m, 3));
  client::CreateTopicOptions to;
  to.read_queue_nums = to.write_queue_nums = 4;
  ASSERT_TRUE(admin_->CreateTopic(kTopic, kCluster, to).ok());
  auto producer = NewProducer(/*retries=*/0);
  auto acked = Send(*producer, "before", 300);
  ASSERT_EQ(acked.size(), 300u);
  // Both slaves freeze: the master stores what it is sent but can acknowledge nothing. It sends more than the
  // sockets to the frozen slaves can buffer, so part of it exists on the master only (a divergent tail).
  s1.proc->Kill(SIGSTOP);
  s2.proc->Kill(SIGSTOP);
  std::atomic<int> answered{0}, acked_during{0};
  std::set<std::string> unacked_bodies;
  for (int i = 0; i < 400; ++i) {
    client::Message msg;
    msg.topic = kTopic;
    msg.body = "unacked-" + std::to_string(i) + "-" + std::string(60'000, 'u');
    unacked_bodies.insert(msg.body);
    producer->SendAsync(msg, [&](Result<client::SendResult> r) {
      if (r.ok() && r->status == client::SendStatus::kSendOk) ++acked_during;
      ++answered;
    });
  }
  ASSERT_TRUE(PollUntil([&] { return answered.load() == 400; }, std::chrono::seconds(30)));
  EXPECT_EQ(acked_during.load(), 0) << "nothing may be acknowledged without a slave";
  const int64_t old_master_end = Status(m).max_offset;
  m.proc->Kill(SIGKILL);
  s1.proc->Kill(SIGCONT);
  {
    // With the master dead and one slave still frozen, only one member can be fenced where two are needed:
    // the failover changes nothing.
    Child refused = testing_process::Spawn(
        FMQ_FERRYCTL_BIN, {"-n", namesrv_addr_, "ha", "promote", kBroker, "--member", m.address});
    const std::string out = testing_process::ReadUntil(refused.out, "\x01");
    close(refused.out);
    EXPECT_EQ(testing_process::WaitExit(refused.pid), 1) << out;
    EXPECT_NE(
        out.find("only 1 of 3 members of broker-r are reachable; with minInSyncReplicas=2 at least 2 must be "
                 "fenced"),
        std::string::npos)
        << out;
    EXPECT_EQ(Status(s1).promised_epoch, 0) << "nothing was fenced";
  }
  s2.proc->Kill(SIGCONT);
  // Failover with ferryctl, as an operator would run it.
  Child ctl = testing_process::Spawn(FMQ_FERRYCTL_BIN,
                                     {"-n", namesrv_addr_, "ha", "promote", kBroker, "--member", m.address});
  const std::string ctl_out = testing_process::ReadUntil(ctl.out, "\x01");
  close(ctl.out);
  ASSERT_EQ(testing_process::WaitExit(ctl.pid), 0) << ctl_out;
  EXPECT_NE(ctl_out.find("is master of epoch 2"), std::string::npos) << ctl_out;
  EXPECT_NE(ctl_out.find("quorum:      2 fenced of 3 members, 2 needed with minInSyncReplicas=2"),
            std::string::npos)
      << ctl_out;
  Broker* promoted = Status(s1).role == "SLAVE" ? &s2 : &s1;
  Broker* other = promoted == &s1 ? &s2 : &s1;
  ASSERT_EQ(Status(*promoted).role, "SYNC_MASTER");
  ASSERT_TRUE(WaitInSync(*promoted, 2)) << "the other slave follows the new master";
  producer->Stop();
  producer = NewProducer();
  const auto after = Send(*producer, "after", 200);
  EXPECT_EQ(after.size(), 200u);
  acked.insert(after.begin(), after.end());
  // The old master returns with its old role and epoch: the name server refuses it, it stops taking writes,
  // follows the new master, cuts what nobody acknowledged and copies the new log.
  Broker& back = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0);
  ASSERT_TRUE(PollUntil([&] { return Status(back).role == "SLAVE"; }, std::chrono::seconds(20)))
      << "the returning master must be demoted";
  ASSERT_TRUE(WaitCaughtUp(back, *promoted));
  ASSERT_LT(Status(*promoted).epochs.back().start_offset, old_master_end)
      << "the frozen slaves must not have received the whole tail";
  ExpectSameLog(*promoted, back, Status(*promoted).max_offset);
  ExpectSameLog(*promoted, *other, Status(*promoted).max_offset);
  EXPECT_NE(back.proc->log().find("truncating the commit log"), std::string::npos)
      << "the old master's tail must have been cut";
  // Total-queue accounting: every acknowledged message is read; every message read was sent; messages whose
  // send failed may be read (they reached the slaves' socket buffers before the crash: "recovered").
  const auto read = ReadAll();
  std::set<std::string> unique(read.begin(), read.end());
  int recovered = 0;
  for (const auto& body : acked)
    EXPECT_TRUE(unique.count(body)) << "acknowledged message lost: " << body.substr(0, 20);
  for (const auto& body : unique) {
    const bool sent = acked.count(body) || unacked_bodies.count(body);
    EXPECT_TRUE(sent) << "unexpected message: " << body.substr(0, 20);
    recovered += unacked_bodies.count(body) > 0;
  }
  EXPECT_LT(recovered, 400) << "the tail beyond the slaves' copies must be gone";
  std::cout << "recovered (send failed, read anyway): " << recovered << " of 400\n";
}

// The operator runs a group's members from one broker.conf (a master role) and tells each pod its ordinal.
TEST_F(ReplicationProcessTest, MembersSharingOneConfTakeTheirFirstRoleFromTheMemberIndex) {
  Broker& m = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0, "", kBroker, {"--member-index", "0"});
  // As the operator passes it: the pod's name, whose ordinal is the index.
  Broker& s2 =
      StartBroker("s2", "127.0.0.4", "SYNC_MASTER", 0, "", kBroker, {"--member-index", "prod-broker-0-2"});
  EXPECT_EQ(Status(m).role, "SYNC_MASTER");
  EXPECT_EQ(Status(m).broker_id, 0);
  EXPECT_EQ(Status(s2).role, "SLAVE");
  EXPECT_EQ(Status(s2).broker_id, 2);
  ASSERT_TRUE(WaitInSync(m, 2)) << "the member started as a slave copies the member started as master";

  // Member 0 needs a master role to start from.
  const std::string slave_conf = dir_ + "/slave.conf";
  std::ofstream(slave_conf) << "brokerClusterName=" << kCluster << "\nbrokerName=" << kBroker
                            << "\nbrokerRole=SLAVE\nbrokerId=1\nlistenPort=0\nstorePathRootDir=" << dir_
                            << "/bad\n";
  std::string out;
  const int rc = testing_process::RunToEnd(
      testing_process::Spawn(FMQ_FERRYMQ_BIN, {"broker", "-c", slave_conf, "--member-index", "0"}), &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--member-index 0 starts the group's master, but broker.conf names brokerRole=SLAVE"),
            std::string::npos)
      << out;
  const int bad = testing_process::RunToEnd(
      testing_process::Spawn(FMQ_FERRYMQ_BIN, {"broker", "-c", slave_conf, "--member-index", "pod-x"}), &out);
  EXPECT_EQ(bad, 2) << out;
  EXPECT_NE(out.find("--member-index expects a number (0-1024) or a StatefulSet pod name ending in "
                     "-<ordinal>, got 'pod-x'"),
            std::string::npos)
      << out;
}

TEST_F(ReplicationProcessTest, SwitchoverHandsTheGroupToASlaveWithoutLosingAnything) {
  Broker& m = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0);
  Broker& s1 = StartBroker("s1", "127.0.0.3", "SLAVE", 1);
  ASSERT_TRUE(WaitInSync(m, 2));
  client::CreateTopicOptions to;
  to.read_queue_nums = to.write_queue_nums = 2;
  ASSERT_TRUE(admin_->CreateTopic(kTopic, kCluster, to).ok());
  auto producer = NewProducer();
  auto acked = Send(*producer, "one", 200);
  Child ctl = testing_process::Spawn(FMQ_FERRYCTL_BIN,
                                     {"-n", namesrv_addr_, "ha", "switchover", kBroker, "--to", s1.address});
  const std::string ctl_out = testing_process::ReadUntil(ctl.out, "\x01");
  close(ctl.out);
  ASSERT_EQ(testing_process::WaitExit(ctl.pid), 0) << ctl_out;
  EXPECT_EQ(Status(s1).role, "SYNC_MASTER");
  EXPECT_EQ(Status(m).role, "SLAVE");
  ASSERT_TRUE(WaitInSync(s1, 2)) << "the old master follows the new one";
  producer->Stop();
  producer = NewProducer();
  const auto after = Send(*producer, "two", 200);
  EXPECT_EQ(after.size(), 200u);
  acked.insert(after.begin(), after.end());
  const auto read = ReadAll();
  EXPECT_EQ(std::set<std::string>(read.begin(), read.end()), acked);
}

TEST_F(ReplicationProcessTest, ASlaveFindsItsMasterRestartedOnANewAddressWithinSeconds) {
  // As a recreated pod does, the master comes back on another address. The slave, no longer copying, asks
  // the name server at every 3 s check rather than at its next 60 s registration.
  const std::string slow = "registerNameServerPeriod=60000\n";
  Broker& m = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0, slow);
  StartBroker("s1", "127.0.0.3", "SLAVE", 1, slow);
  ASSERT_TRUE(WaitInSync(m, 2));
  const std::string old = m.address;
  m.proc->Kill(SIGKILL);                                  // waits for the exit
  StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0, slow);  // listenPort=0: another port
  ASSERT_NE(m.address, old);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(PollUntil([&] { return Status(m).in_sync_copies == 2; }, std::chrono::seconds(15)))
      << "the slave still follows " << old;
  std::cerr
      << "slave in sync with the restarted master after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
      << " ms\n";
  auto producer = NewProducer();
  EXPECT_EQ(Send(*producer, "after", 20).size(), 20u);
}

TEST_F(ReplicationProcessTest, RejectRefusesAndDegradeAcknowledgesWhileTheSlaveIsAwayAndBothRecover) {
  for (const std::string policy : {"reject", "degrade"}) {
    SCOPED_TRACE(policy);
    const std::string group = "broker-" + policy, topic = "Topic-" + policy;
    Broker& m = StartBroker("m-" + policy, policy == "reject" ? "127.0.0.5" : "127.0.0.7", "SYNC_MASTER", 0,
                            "whenBelowMinInSync=" + policy + "\n", group);
    Broker& s =
        StartBroker("s-" + policy, policy == "reject" ? "127.0.0.6" : "127.0.0.8", "SLAVE", 1, "", group);
    ASSERT_TRUE(WaitInSync(m, 2));
    client::CreateTopicOptions to;
    to.read_queue_nums = to.write_queue_nums = 2;
    ASSERT_TRUE(admin_->CreateTopicAt(m.address, topic, to).ok());
    ASSERT_TRUE(PollUntil([&] { return admin_->GetTopicRoute(topic).ok(); }, std::chrono::seconds(10)));
    auto producer = NewProducer(/*retries=*/0);
    ASSERT_TRUE(PollUntil([&] { return Send(*producer, "warm", 1, nullptr, topic).size() == 1; },
                          std::chrono::seconds(10)));
    s.proc->Kill(SIGTERM);
    ASSERT_TRUE(PollUntil([&] { return Status(m).in_sync_copies == 1; }, std::chrono::seconds(10)));
    client::Message msg;
    msg.topic = topic;
    msg.body = "while-away";
    auto r = producer->Send(msg);
    if (policy == "reject") {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->status, client::SendStatus::kSlaveNotAvailable);
      EXPECT_FALSE(Status(m).degraded);
      EXPECT_FALSE(Status(m).writable);
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->status, client::SendStatus::kSendOk);
      EXPECT_TRUE(Status(m).degraded);
      auto rt = admin_->BrokerRuntimeInfo(m.address);
      ASSERT_TRUE(rt.ok());
      EXPECT_EQ(rt->at("haDegraded"), "true");
    }
    StartBroker("s-" + policy, "", "SLAVE", 1, "", group);
    ASSERT_TRUE(WaitInSync(m, 2));
    EXPECT_FALSE(Status(m).degraded);
    r = producer->Send(msg);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, client::SendStatus::kSendOk);
    producer->Stop();
  }
}

TEST_F(ReplicationProcessTest, GarbageOrHttpOnTheReplicationPortClosesOnlyThatConnection) {
  Broker& m = StartBroker("m", "127.0.0.2", "SYNC_MASTER", 0);
  Broker& s1 = StartBroker("s1", "127.0.0.3", "SLAVE", 1);
  ASSERT_TRUE(WaitInSync(m, 2));
  auto exchange = [&](const std::string& bytes) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(m.ha_port));
    inet_pton(AF_INET, m.ip.c_str(), &sa.sin_addr);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    ssize_t n;
    std::string got;
    while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    EXPECT_EQ(n, 0) << "the master neither answered nor closed within 10 s";
    close(fd);
    return got;
  };
  exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  exchange(std::string("\x7f\x01\x02\x03\x04\x05\x06\x07\xff\xfe", 10) + std::string(100, '\xee'));
  const std::string bad_hello =
      std::string("\xFE\x46\x4D\x51\x48\x41\x00\x01", 8) + std::string("\x00\x00\x00\x05{xyz}", 9);
  const std::string answer = exchange(bad_hello);
  EXPECT_NE(answer.find("BAD_HELLO"), std::string::npos) << answer;
  EXPECT_EQ(Status(m).in_sync_copies, 2) << "the real slave stays connected";
  client::CreateTopicOptions to;
  to.read_queue_nums = to.write_queue_nums = 2;
  ASSERT_TRUE(admin_->CreateTopic(kTopic, kCluster, to).ok());
  auto producer = NewProducer();
  EXPECT_EQ(Send(*producer, "ok", 20).size(), 20u);
  (void)s1;
}

}  // namespace
}  // namespace fmq
