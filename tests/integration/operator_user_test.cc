// The User reconciler against real brokers with ACL on: a `ferrymq standalone` (name server and group
// prod-broker-0) and a second `ferrymq broker` (group prod-broker-1), both seeded with the operator's and the
// brokers' accounts as a Cluster's pods are (aclSeedFile), a scripted apiserver holding Secrets, and informer
// caches in memory. A producer signing with nothing but the written Secret's keys shows what an application
// gets. Covers create, converged passes that write nothing, drift, rotation with its grace period, and
// revocation on delete (also while a broker cannot be asked).

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/poll.h"
#include "broker/client/producer.h"
#include "operator/controllers/admin_pool.h"
#include "operator/controllers/user_controller.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/resource.h"
#include "operator/kube/testing/fake_apiserver.h"
#include "tests/integration/operator_test_util.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;

constexpr const char* kNs = "mq";
constexpr const char* kOperatorSecret = "operator-secret-0123456789";
constexpr const char* kBrokerSecret = "broker-secret-0123456789";
constexpr const char* kSecretsPath = "/api/v1/namespaces/mq/secrets/";

class OperatorUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_dir_ = std::filesystem::temp_directory_path() / ("fmq-opuser-seed-" + std::to_string(getpid()));
    std::filesystem::create_directories(seed_dir_);
    const std::string seed = (seed_dir_ / "seed.yml").string();
    std::ofstream(seed) << "accounts:\n- accessKey: ferrymq-operator\n  secretKey: " << kOperatorSecret
                        << "\n  admin: true\n- accessKey: ferrymq-broker\n  secretKey: " << kBrokerSecret
                        << "\n  admin: true\n";
    // As a Cluster's pods: ACL on, the seed's accounts written into each broker's file at start.
    ASSERT_NO_FATAL_FAILURE(
        groups_.Start("aclEnable=true\naclSeedFile=" + seed +
                      "\ninnerAccessKey=ferrymq-broker\nregisterNameServerPeriod=1000\n"));
    namesrv_ = groups_.namesrv;

    reader_.Put(kube::kinds::kFerryCluster,
                {{"apiVersion", "ferrymq.io/v1alpha1"},
                 {"kind", "Cluster"},
                 {"metadata", {{"name", "prod"}, {"namespace", kNs}, {"uid", "c1"}}},
                 {"spec", {{"brokers", {{"groups", 2}}}, {"security", {{"acl", {{"enabled", true}}}}}}}});
    PutSecret("prod-credentials", {{"accessKey", "ferrymq-operator"},
                                   {"secretKey", kOperatorSecret},
                                   {"brokerAccessKey", "ferrymq-broker"},
                                   {"brokerSecretKey", kBrokerSecret}});
    // Secrets: GET answers what the store holds (404 otherwise); an apply (PATCH) replaces it.
    for (const std::string name : {"prod-credentials", "orders-app-ferrymq"}) {
      const std::string path = kSecretsPath + name;
      api_.On("GET", path, [this, name](const net::HttpRequest&, std::shared_ptr<net::HttpResponder> r) {
        MutexLock lock(&mu_);
        auto it = secrets_.find(name);
        if (it == secrets_.end()) {
          r->Send(404, "application/json",
                  json{{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"}, {"message", "not found"}}
                      .dump());
        } else {
          r->Send(200, "application/json", it->second.dump());
        }
      });
      api_.On("PATCH", path,
              [this, name](const net::HttpRequest& req, std::shared_ptr<net::HttpResponder> r) {
                MutexLock lock(&mu_);
                secrets_[name] = json::parse(req.body);
                r->Send(200, "application/json", req.body);
              });
    }
    const std::string users = "/apis/ferrymq.io/v1alpha1/namespaces/mq/users/orders-app";
    api_.Reply("PATCH", users, 200, json::object());
    api_.Reply("PATCH", users + "/status", 200, json::object());
    auto kube = kube::Client::New(api_.config());
    ASSERT_TRUE(kube.ok()) << kube.status().ToString();
    kube_ = std::move(*kube);
    admins_ = std::make_unique<AdminPool>(std::chrono::milliseconds(3000),
                                          [this](const std::string&) { return namesrv_; });
    reconciler_ = std::make_unique<UserReconciler>(Deps{.kube = kube_.get(),
                                                        .events = nullptr,
                                                        .reader = &reader_,
                                                        .admins = admins_.get(),
                                                        .clock = &clock_,
                                                        .options = {},
                                                        .work_dir = (seed_dir_ / "work").string()},
                                                   UserOptions{});
    admin_ =
        admins_
            ->For("any", "",
                  {.access_key = "ferrymq-operator", .secret_key = kOperatorSecret, .fingerprint = "test"})
            .value();
    ASSERT_TRUE(WaitForBrokers(2)) << "both brokers registered, signing with the seeded account";
    for (const char* topic : {"orders", "payments"}) {
      ASSERT_TRUE(admin_->CreateTopic(topic, "prod", {}).ok()) << topic;
    }
  }

  void TearDown() override {
    reconciler_.reset();
    admin_.reset();
    admins_.reset();
    groups_.Stop();
    std::filesystem::remove_all(seed_dir_);
  }

  bool WaitForBrokers(size_t n) {
    return PollUntil(
        [&] {
          auto b = RegisteredBrokers(*admin_, "prod");
          return b.ok() && b->size() == n;
        },
        std::chrono::seconds(20));
  }

  void PutSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    json d = json::object();
    for (const auto& [k, v] : data) d[k] = kube::Base64Encode(v);
    MutexLock lock(&mu_);
    secrets_[name] = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}}}, {"data", d}};
  }
  // The decoded data of a Secret the reconciler wrote; empty when there is none.
  std::map<std::string, std::string> SecretData(const std::string& name) {
    MutexLock lock(&mu_);
    std::map<std::string, std::string> out;
    auto it = secrets_.find(name);
    if (it == secrets_.end()) return out;
    for (const auto& [k, v] : it->second["data"].items())
      out[k] = kube::Base64Decode(v.get<std::string>()).value();
    return out;
  }

  json User(json spec = json::object()) {
    spec["clusterRef"] = {{"name", "prod"}};
    spec["topics"] = json::array({{{"name", "orders"}, {"perm", "PUB|SUB"}}});
    spec["groups"] = json::array({{{"name", "orders-consumer"}, {"perm", "SUB"}}});
    return {{"apiVersion", "ferrymq.io/v1alpha1"},
            {"kind", "User"},
            {"metadata",
             {{"name", "orders-app"},
              {"namespace", kNs},
              {"uid", "u1"},
              {"generation", 1},
              {"creationTimestamp", "2026-12-06T00:00:00Z"},
              {"finalizers", {"ferrymq.io/user-revoke"}}}},
            {"spec", spec}};
  }

  // One pass over orders-app; applies the status it wrote to the cache and returns it (null: none written).
  json Pass() {
    api_.ClearRequests();
    Outcome o = reconciler_->Reconcile(std::string(kNs) + "/orders-app");
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    json written;
    for (const auto& r : api_.Requests()) {
      if (r.method == "PATCH" && r.path.ends_with("/users/orders-app/status"))
        written = json::parse(r.body)["status"];
    }
    if (!written.is_null()) {
      json obj = *reader_.Get(kube::kinds::kFerryUser, kNs, "orders-app");
      obj["status"] = written;
      reader_.Put(kube::kinds::kFerryUser, obj);
    }
    return written;
  }
  size_t Writes() {
    size_t n = 0;
    for (const auto& r : api_.Requests()) n += r.method != "GET";
    return n;
  }
  static json Ready(const json& status) { return ReadyCondition(status); }

  // The account `access_key` on the broker at `addr`, or nullopt.
  std::optional<acl::PlainAccessConfig> Account(const std::string& addr, const std::string& access_key) {
    auto config = admin_->GetAclConfig(addr);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (!config.ok()) return std::nullopt;
    for (const auto& a : config->accounts) {
      if (a.access_key == access_key) return a;
    }
    return std::nullopt;
  }
  std::vector<std::string> Brokers() {
    std::vector<std::string> out;
    const auto brokers = RegisteredBrokers(*admin_, "prod");
    EXPECT_TRUE(brokers.ok()) << brokers.status().ToString();
    if (brokers.ok()) {
      for (const auto& [_, addr] : *brokers) out.push_back(addr);
    }
    return out;
  }

  // Sends one message to `topic` signing with (ak, sk), as an application with the Secret's files would.
  Status SendAs(const std::string& ak, const std::string& sk, const std::string& topic) {
    client::ProducerConfig pc;
    pc.group = "orders-producer";
    pc.client.namesrv_addrs = {namesrv_};
    pc.client.access_key = ak;
    pc.client.secret_key = sk;
    pc.retry_times_when_send_failed = 0;
    client::Producer p(pc);
    FMQ_RETURN_IF_ERROR(p.Start());
    client::Message m;
    m.topic = topic;
    m.body = "hello";
    auto r = p.Send(m);
    p.Stop();
    return r.status();
  }

  kube::testing::FakeApiServer api_;
  MemoryReader reader_;
  ManualClock clock_{1'765'000'000'000};
  Mutex mu_;
  std::map<std::string, json> secrets_ FMQ_GUARDED_BY(mu_);
  std::unique_ptr<kube::Client> kube_;
  std::unique_ptr<AdminPool> admins_;
  std::shared_ptr<client::Admin> admin_;
  std::unique_ptr<UserReconciler> reconciler_;
  TwoBrokerGroups groups_;
  std::filesystem::path seed_dir_;
  std::string namesrv_;
};

TEST_F(OperatorUserTest, WritesTheSecretPutsTheAccountOnEveryBrokerAndRevertsDrift) {
  reader_.Put(kube::kinds::kFerryUser, User());
  json s = Pass();
  EXPECT_EQ(Ready(s)["status"], "True") << s.dump();
  EXPECT_EQ(Ready(s)["message"], "account orders-app on 2 broker(s); Secret orders-app-ferrymq");
  EXPECT_EQ(s["accessKey"], "orders-app");
  EXPECT_EQ(s["brokers"], 2);
  auto secret = SecretData("orders-app-ferrymq");
  EXPECT_EQ(secret["accessKey"], "orders-app");
  EXPECT_EQ(secret["secretKey"].size(), 40u);
  EXPECT_EQ(secret["namesrvAddr"], "prod-namesrv-0.prod-namesrv.mq.svc:9876");
  for (const std::string& addr : Brokers()) {
    auto a = Account(addr, "orders-app");
    ASSERT_TRUE(a) << addr;
    EXPECT_EQ(a->secret_key, secret["secretKey"]);
    EXPECT_EQ(a->topic_perms, std::vector<std::string>{"orders=PUB|SUB"});
  }
  // What an application with the Secret's keys may do.
  EXPECT_TRUE(SendAs("orders-app", secret["secretKey"], "orders").ok());
  Status refused = SendAs("orders-app", secret["secretKey"], "payments");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("No default permission for topic:payments"), std::string::npos)
      << refused.ToString();
  EXPECT_FALSE(SendAs("orders-app", "not-the-secret-at-all", "orders").ok());

  EXPECT_TRUE(Pass().is_null()) << "a converged pass writes nothing";
  EXPECT_EQ(Writes(), 0u);

  // Someone widens the account on one broker: the next pass sets it back.
  acl::PlainAccessConfig drifted = *Account(Brokers()[1], "orders-app");
  drifted.topic_perms = {"orders=PUB|SUB", "payments=PUB"};
  ASSERT_TRUE(admin_->UpdateAclAccount(Brokers()[1], drifted).ok());
  Pass();
  EXPECT_EQ(Account(Brokers()[1], "orders-app")->topic_perms, std::vector<std::string>{"orders=PUB|SUB"});
  EXPECT_EQ(SecretData("orders-app-ferrymq")["secretKey"], secret["secretKey"]) << "the secret stays";
}

TEST_F(OperatorUserTest, RotationKeepsTheOldKeyForTheGracePeriodThenRevokesItEverywhere) {
  reader_.Put(kube::kinds::kFerryUser, User({{"rotation", {{"gracePeriodSeconds", 600}}}}));
  ASSERT_EQ(Ready(Pass())["status"], "True");
  const auto before = SecretData("orders-app-ferrymq");

  json obj = *reader_.Get(kube::kinds::kFerryUser, kNs, "orders-app");
  obj["metadata"]["annotations"] = {{"ferrymq.io/rotate", "2026-12-06"}};
  reader_.Put(kube::kinds::kFerryUser, obj);
  json rotating = Pass();
  EXPECT_EQ(Ready(rotating)["reason"], "Rotating") << rotating.dump();
  EXPECT_EQ(rotating["rotations"], 1);
  EXPECT_EQ(rotating["retiring"]["accessKey"], "orders-app");
  json s = Pass();
  EXPECT_EQ(Ready(s)["status"], "True") << s.dump();
  EXPECT_EQ(s["accessKey"], "orders-app-r1");
  const auto after = SecretData("orders-app-ferrymq");
  EXPECT_EQ(after.at("accessKey"), "orders-app-r1");
  EXPECT_NE(after.at("secretKey"), before.at("secretKey"));
  EXPECT_EQ(after.at("retiringAccessKey"), "orders-app");
  for (const std::string& addr : Brokers()) {
    EXPECT_TRUE(Account(addr, "orders-app")) << "the old key works through the grace period";
    EXPECT_TRUE(Account(addr, "orders-app-r1"));
  }
  EXPECT_TRUE(SendAs("orders-app", before.at("secretKey"), "orders").ok());
  EXPECT_TRUE(SendAs("orders-app-r1", after.at("secretKey"), "orders").ok());
  EXPECT_TRUE(Pass().is_null()) << "converged while the old key retires";

  clock_.SetMillis(clock_.NowMillis() + 601'000);
  json retired = Pass();
  EXPECT_FALSE(retired.contains("retiring")) << retired.dump();
  for (const std::string& addr : Brokers()) {
    EXPECT_FALSE(Account(addr, "orders-app")) << addr;
    EXPECT_TRUE(Account(addr, "orders-app-r1")) << addr;
  }
  Pass();
  EXPECT_EQ(SecretData("orders-app-ferrymq").count("retiringAccessKey"), 0u);
  EXPECT_FALSE(SendAs("orders-app", before.at("secretKey"), "orders").ok());
}

TEST_F(OperatorUserTest, DeletionWaitsForABrokerThatIsDownAndRevokesThereWhenItIsBack) {
  reader_.Put(kube::kinds::kFerryUser, User());
  ASSERT_EQ(Ready(Pass())["status"], "True");
  const std::string secret = SecretData("orders-app-ferrymq")["secretKey"];

  // prod-broker-1 is down: the name server forgets it, but its plain_acl.yml still has the account.
  groups_.KillBroker1();
  ASSERT_TRUE(WaitForBrokers(1));
  json obj = *reader_.Get(kube::kinds::kFerryUser, kNs, "orders-app");
  obj["metadata"]["deletionTimestamp"] = "2026-12-06T01:00:00Z";
  reader_.Put(kube::kinds::kFerryUser, obj);
  auto released = [&] {
    for (const auto& r : api_.Requests()) {
      if (r.method == "PATCH" && r.path.ends_with("/users/orders-app")) {
        return json::parse(r.body)["metadata"]["finalizers"] == json::array();
      }
    }
    return false;
  };
  json pending = Pass();
  ASSERT_TRUE(pending.is_object());
  EXPECT_EQ(Ready(pending)["reason"], "RevokePending") << pending.dump();
  EXPECT_NE(Ready(pending)["message"].get<std::string>().find("only 1 of 2 brokers are registered"),
            std::string::npos)
      << pending.dump();
  EXPECT_FALSE(released()) << "the finalizer stays while a broker may still take the key";
  EXPECT_FALSE(Account(Brokers()[0], "orders-app")) << "the live broker revoked it already";

  ASSERT_NO_FATAL_FAILURE(groups_.StartBroker1());
  ASSERT_TRUE(WaitForBrokers(2));
  int still = 0;
  for (const std::string& addr : Brokers()) still += Account(addr, "orders-app").has_value();
  ASSERT_EQ(still, 1) << "the restarted broker still had the account";
  Pass();
  EXPECT_TRUE(released());
  for (const std::string& addr : Brokers()) EXPECT_FALSE(Account(addr, "orders-app")) << addr;
  EXPECT_FALSE(SendAs("orders-app", secret, "orders").ok());
}

TEST_F(OperatorUserTest, DeletionRevokesOnEveryBroker) {
  reader_.Put(kube::kinds::kFerryUser, User());
  ASSERT_EQ(Ready(Pass())["status"], "True");
  json obj = *reader_.Get(kube::kinds::kFerryUser, kNs, "orders-app");
  obj["metadata"]["deletionTimestamp"] = "2026-12-06T01:00:00Z";
  reader_.Put(kube::kinds::kFerryUser, obj);
  Pass();
  for (const std::string& addr : Brokers()) EXPECT_FALSE(Account(addr, "orders-app")) << addr;
  EXPECT_FALSE(SendAs("orders-app", SecretData("orders-app-ferrymq")["secretKey"], "orders").ok());
}

}  // namespace
}  // namespace fmq::op::controllers
