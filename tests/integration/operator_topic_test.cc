// The Topic reconciler against real brokers: a `ferrymq standalone` (name server and group prod-broker-0) and
// a second `ferrymq broker` (group prod-broker-1) as processes, a scripted apiserver that records the
// operator's writes, and informer caches held in memory. Covers the paths the e2e test does not reach
// cheaply: conflict, queue-shrink refusal and its annotation, a dropped group (also while its master is
// down), a group leaving the cluster (scale-in), a topic waiting for its consumer groups on a new group
// (scale out), blocked deletion, force-delete and Retain.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/clock.h"
#include "operator/controllers/admin_pool.h"
#include "operator/controllers/object_reader.h"
#include "operator/controllers/topic_controller.h"
#include "operator/kube/client.h"
#include "operator/kube/resource.h"
#include "operator/kube/testing/fake_apiserver.h"
#include "tests/integration/operator_test_util.h"

namespace fmq::op::controllers {
namespace {

using nlohmann::json;

constexpr const char* kNs = "mq";

std::string RunToEnd(testing_process::Child c) {
  std::string out;
  testing_process::RunToEnd(c, &out);
  return out;
}

class OperatorTopicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(groups_.Start(""));
    namesrv_ = groups_.namesrv;

    reader_.Put(kube::kinds::kFerryCluster,
                {{"apiVersion", "ferrymq.io/v1alpha1"},
                 {"kind", "Cluster"},
                 {"metadata", {{"name", "prod"}, {"namespace", kNs}, {"uid", "c1"}}},
                 {"spec", {{"brokers", {{"groups", 2}}}}}});
    auto kube = kube::Client::New(api_.config());
    ASSERT_TRUE(kube.ok()) << kube.status().ToString();
    kube_ = std::move(*kube);
    // Status and finalizer writes succeed and are recorded; the test applies them to its caches itself.
    for (const std::string name : {"orders", "orders-dup", "gone", "kept", "payments"}) {
      const std::string path = "/apis/ferrymq.io/v1alpha1/namespaces/mq/topics/" + name;
      api_.Reply("PATCH", path, 200, json::object());
      api_.Reply("PATCH", path + "/status", 200, json::object());
    }
    admins_ = std::make_unique<AdminPool>(std::chrono::milliseconds(3000),
                                          [this](const std::string&) { return namesrv_; });
    reconciler_ = std::make_unique<TopicReconciler>(Deps{.kube = kube_.get(),
                                                         .events = nullptr,
                                                         .reader = &reader_,
                                                         .admins = admins_.get(),
                                                         .clock = &SystemClock(),
                                                         .options = {}},
                                                    TopicOptions{});
    admin_ = admins_->For("any").value();
    ASSERT_TRUE(WaitForMasters(2)) << "both broker groups registered";
  }

  void TearDown() override {
    reconciler_.reset();
    admin_.reset();
    admins_.reset();
    groups_.Stop();
  }

  bool WaitForMasters(size_t n) {
    for (int i = 0; i < 100; ++i) {
      auto m = RegisteredMasters(*admin_, "prod");
      if (m.ok() && m->size() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  json Topic(const std::string& name, const std::string& topic_name, const std::string& created,
             json spec = {}) {
    spec["clusterRef"] = {{"name", "prod"}};
    spec["topicName"] = topic_name;
    if (!spec.contains("queues")) spec["queues"] = {{"write", 8}, {"read", 8}};
    return {{"apiVersion", "ferrymq.io/v1alpha1"},
            {"kind", "Topic"},
            {"metadata",
             {{"name", name},
              {"namespace", kNs},
              {"uid", "uid-" + name},
              {"generation", 1},
              {"creationTimestamp", created},
              {"finalizers", {"ferrymq.io/topic-cleanup"}}}},
            {"spec", spec}};
  }

  // Runs one pass over `name`; applies the status it wrote to the cache (as the watch would) and returns that
  // status (null when it wrote none).
  json Pass(const std::string& name) {
    api_.ClearRequests();
    Outcome o = reconciler_->Reconcile(std::string(kNs) + "/" + name);
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    json written;
    for (const auto& r : api_.Requests()) {
      if (r.method == "PATCH" && r.path.ends_with("/topics/" + name + "/status")) {
        written = json::parse(r.body)["status"];
      }
    }
    if (!written.is_null()) {
      json obj = *reader_.Get(kube::kinds::kFerryTopic, kNs, name);
      obj["status"] = written;
      reader_.Put(kube::kinds::kFerryTopic, obj);
    }
    return written;
  }
  // The finalizer patch of the last pass, or null.
  json FinalizerPatch(const std::string& name) {
    json patch;
    for (const auto& r : api_.Requests()) {
      if (r.method == "PATCH" && r.path.ends_with("/topics/" + name)) patch = json::parse(r.body);
    }
    return patch;
  }

  static json Ready(const json& status) { return ReadyCondition(status); }

  // {read, write} queues of `topic` on the broker at `addr`; nullopt when it does not have it.
  std::optional<std::pair<int, int>> Queues(const std::string& addr, const std::string& topic) {
    auto table = admin_->GetAllTopicConfig(addr);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    if (!table.ok()) return std::nullopt;
    auto it = table->find(topic);
    if (it == table->end()) return std::nullopt;
    return std::pair{it->second.read_queue_nums, it->second.write_queue_nums};
  }

  kube::testing::FakeApiServer api_;
  MemoryReader reader_;
  std::unique_ptr<kube::Client> kube_;
  std::unique_ptr<AdminPool> admins_;
  std::shared_ptr<client::Admin> admin_;
  std::unique_ptr<TopicReconciler> reconciler_;
  TwoBrokerGroups groups_;
  std::string namesrv_;
};

TEST_F(OperatorTopicTest, CreatesRefusesAConflictAndASilentShrinkAndRemovesDroppedGroupsLevelBased) {
  reader_.Put(kube::kinds::kFerryTopic, Topic("orders", "orders", "2026-12-01T00:00:00Z"));
  json s = Pass("orders");
  EXPECT_EQ(Ready(s)["status"], "True") << s.dump();
  EXPECT_EQ(Ready(s)["reason"], "Synced");
  EXPECT_EQ(Ready(s)["message"], "topic orders is on prod-broker-0, prod-broker-1 as specified");
  EXPECT_EQ(s["brokerGroups"].size(), 2u) << s.dump();
  EXPECT_EQ(Queues(groups_.b0, "orders"), (std::pair{8, 8}));
  EXPECT_EQ(Queues(groups_.b1, "orders"), (std::pair{8, 8}));
  EXPECT_TRUE(Pass("orders").is_null()) << "a converged pass writes nothing";

  // A second Topic for the same broker-side name: the older one keeps it.
  reader_.Put(kube::kinds::kFerryTopic, Topic("orders-dup", "orders", "2026-12-02T00:00:00Z",
                                              {{"queues", {{"write", 2}, {"read", 2}}}}));
  json dup = Pass("orders-dup");
  EXPECT_EQ(Ready(dup)["reason"], "ResourceConflict") << dup.dump();
  EXPECT_EQ(Ready(dup)["message"], "topic orders is managed by Topic mq/orders");
  EXPECT_EQ(Queues(groups_.b0, "orders"), (std::pair{8, 8})) << "the newer Topic changed nothing";

  // Fewer queues: refused (messages in the removed queues would never be consumed), until annotated.
  json orders = *reader_.Get(kube::kinds::kFerryTopic, kNs, "orders");
  orders["spec"]["queues"] = {{"write", 4}, {"read", 4}};
  reader_.Put(kube::kinds::kFerryTopic, orders);
  json refused = Pass("orders");
  EXPECT_EQ(Ready(refused)["reason"], "QueueShrinkRefused") << refused.dump();
  EXPECT_NE(Ready(refused)["message"].get<std::string>().find("ferrymq.io/allow-queue-shrink"),
            std::string::npos)
      << refused.dump();
  EXPECT_EQ(Queues(groups_.b0, "orders"), (std::pair{8, 8}));
  orders = *reader_.Get(kube::kinds::kFerryTopic, kNs, "orders");
  orders["metadata"]["annotations"] = {{"ferrymq.io/allow-queue-shrink", "true"}};
  reader_.Put(kube::kinds::kFerryTopic, orders);
  EXPECT_EQ(Ready(Pass("orders"))["reason"], "Synced");
  EXPECT_EQ(Queues(groups_.b0, "orders"), (std::pair{4, 4}));
  EXPECT_EQ(Queues(groups_.b1, "orders"), (std::pair{4, 4}));

  // prod-broker-1 dropped from spec.brokerGroups: the topic leaves it.
  orders = *reader_.Get(kube::kinds::kFerryTopic, kNs, "orders");
  orders["spec"]["brokerGroups"] = {"prod-broker-0"};
  reader_.Put(kube::kinds::kFerryTopic, orders);
  json dropped = Pass("orders");
  EXPECT_EQ(Ready(dropped)["reason"], "Synced") << dropped.dump();
  EXPECT_EQ(dropped["brokerGroups"].size(), 1u) << dropped.dump();
  EXPECT_EQ(Queues(groups_.b1, "orders"), std::nullopt);

  // Back on both, then dropped while prod-broker-1's master is down: it stays recorded, and every pass tries
  // again (level-based) until the master is back.
  orders = *reader_.Get(kube::kinds::kFerryTopic, kNs, "orders");
  orders["spec"].erase("brokerGroups");
  reader_.Put(kube::kinds::kFerryTopic, orders);
  EXPECT_EQ(Ready(Pass("orders"))["reason"], "Synced");
  ASSERT_EQ(Queues(groups_.b1, "orders"), (std::pair{4, 4}));
  groups_.KillBroker1();
  ASSERT_TRUE(WaitForMasters(1)) << "the name server drops the dead broker";
  orders = *reader_.Get(kube::kinds::kFerryTopic, kNs, "orders");
  orders["spec"]["brokerGroups"] = {"prod-broker-0"};
  reader_.Put(kube::kinds::kFerryTopic, orders);
  json pending = Pass("orders");
  EXPECT_EQ(Ready(pending)["reason"], "BrokerError") << pending.dump();
  EXPECT_NE(Ready(pending)["message"].get<std::string>().find("prod-broker-1: no master registered"),
            std::string::npos)
      << pending.dump();
  EXPECT_EQ(pending["brokerGroups"].size(), 2u) << "the dropped group stays recorded: " << pending.dump();
  ASSERT_NO_FATAL_FAILURE(groups_.StartBroker1());
  ASSERT_TRUE(WaitForMasters(2));
  ASSERT_EQ(Queues(groups_.b1, "orders"), (std::pair{4, 4})) << "its store kept the topic";
  json cleaned = Pass("orders");
  EXPECT_EQ(Ready(cleaned)["reason"], "Synced") << cleaned.dump();
  EXPECT_EQ(cleaned["brokerGroups"].size(), 1u) << cleaned.dump();
  EXPECT_EQ(Queues(groups_.b1, "orders"), std::nullopt);
}

TEST_F(OperatorTopicTest, AGroupLeavingTheClusterKeepsItsTopicAndANewGroupGetsTopicsAfterTheConsumerGroups) {
  reader_.Put(kube::kinds::kFerryTopic, Topic("orders", "orders", "2026-12-01T00:00:00Z"));
  ASSERT_EQ(Ready(Pass("orders"))["reason"], "Synced");
  auto set_groups = [&](int n) {
    json cluster = *reader_.Get(kube::kinds::kFerryCluster, kNs, "prod");
    cluster["spec"]["brokers"]["groups"] = n;
    reader_.Put(kube::kinds::kFerryCluster, cluster);
  };
  // spec.brokers.groups 2 -> 1: prod-broker-1 is leaving; its consumers drain the topic there, so it is only
  // forgotten in status, never deleted (the scale-in removes the whole group once drained).
  set_groups(1);
  json leaving = Pass("orders");
  EXPECT_EQ(Ready(leaving)["reason"], "Synced") << leaving.dump();
  EXPECT_EQ(leaving["brokerGroups"].size(), 1u) << leaving.dump();
  EXPECT_EQ(Queues(groups_.b1, "orders"), (std::pair{8, 8})) << "the leaving group kept the topic";

  // Back to 2 groups with a ConsumerGroup applied on prod-broker-0 only (as right after a scale out): a new
  // topic lands on prod-broker-1 only once the consumer group is there too.
  set_groups(2);
  json cg = {{"apiVersion", "ferrymq.io/v1alpha1"},
             {"kind", "ConsumerGroup"},
             {"metadata", {{"name", "billing"}, {"namespace", kNs}, {"uid", "cg1"}}},
             {"spec", {{"clusterRef", {{"name", "prod"}}}}},
             {"status", {{"groupName", "billing"}, {"brokerGroups", {"prod-broker-0"}}}}};
  reader_.Put(kube::kinds::kFerryConsumerGroup, cg);
  reader_.Put(kube::kinds::kFerryTopic, Topic("payments", "payments", "2026-12-01T00:00:00Z"));
  json waiting = Pass("payments");
  EXPECT_EQ(Ready(waiting)["reason"], "WaitingForConsumerGroups") << waiting.dump();
  EXPECT_EQ(
      Ready(waiting)["message"],
      "topic payments is created on prod-broker-1 (after consumer groups billing) have their config there");
  EXPECT_EQ(Queues(groups_.b0, "payments"), (std::pair{8, 8}));
  EXPECT_EQ(Queues(groups_.b1, "payments"), std::nullopt);
  cg["status"]["brokerGroups"] = {"prod-broker-0", "prod-broker-1"};
  reader_.Put(kube::kinds::kFerryConsumerGroup, cg);
  EXPECT_EQ(Ready(Pass("payments"))["reason"], "Synced");
  EXPECT_EQ(Queues(groups_.b1, "payments"), (std::pair{8, 8}));
  // The topic that already was on prod-broker-1 needs no wait: it is there.
  EXPECT_EQ(Ready(Pass("orders"))["reason"], "Synced");
}

TEST_F(OperatorTopicTest, DeletionWaitsForRecentWritesUnlessForcedAndRetainLeavesTheBrokersAlone) {
  reader_.Put(kube::kinds::kFerryTopic, Topic("gone", "gone", "2026-12-01T00:00:00Z"));
  reader_.Put(kube::kinds::kFerryTopic,
              Topic("kept", "kept", "2026-12-01T00:00:00Z", {{"deletionPolicy", "Retain"}}));
  ASSERT_EQ(Ready(Pass("gone"))["reason"], "Synced");
  // Retain carries no finalizer: the pass removes the one the fixture put there, and nothing else.
  Pass("kept");
  json unfinalized = FinalizerPatch("kept");
  ASSERT_FALSE(unfinalized.is_null());
  EXPECT_EQ(unfinalized["metadata"]["finalizers"], json::array()) << unfinalized.dump();
  json kept = *reader_.Get(kube::kinds::kFerryTopic, kNs, "kept");
  kept["metadata"]["finalizers"] = json::array();
  reader_.Put(kube::kinds::kFerryTopic, kept);
  ASSERT_EQ(Ready(Pass("kept"))["reason"], "Synced");

  // A message written just now stands for an online producer: deletion waits.
  std::string sent =
      RunToEnd(testing_process::Spawn(FMQ_FERRYCTL_BIN, {"-n", namesrv_, "send", "gone", "hello"}));
  ASSERT_NE(sent.find("status=SEND_OK"), std::string::npos) << sent;
  // The consume queue is built asynchronously: wait until the broker's stats show the write, as they would
  // long before anyone deletes a Topic in practice.
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    auto stats = admin_->TopicStats("gone");
    if (stats.ok()) {
      for (const auto& [mq, offset] : *stats) seen = seen || offset.last_update_timestamp > 0;
    }
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(seen) << "the broker's topic stats never showed the message";
  json gone = *reader_.Get(kube::kinds::kFerryTopic, kNs, "gone");
  gone["metadata"]["deletionTimestamp"] = "2026-12-05T10:00:00Z";
  reader_.Put(kube::kinds::kFerryTopic, gone);
  json blocked = Pass("gone");
  EXPECT_EQ(Ready(blocked)["reason"], "DeletionBlocked") << blocked.dump();
  EXPECT_NE(Ready(blocked)["message"].get<std::string>().find(
                "topic gone is in use by producers (a message was written "),
            std::string::npos)
      << blocked.dump();
  EXPECT_NE(Ready(blocked)["message"].get<std::string>().find(
                "; stop them or set the annotation ferrymq.io/force-delete=\"true\""),
            std::string::npos)
      << blocked.dump();
  EXPECT_TRUE(FinalizerPatch("gone").is_null()) << "the finalizer stays while blocked";
  EXPECT_NE(Queues(groups_.b0, "gone"), std::nullopt);

  // Forced: removed from every broker, the finalizer goes.
  gone = *reader_.Get(kube::kinds::kFerryTopic, kNs, "gone");
  gone["metadata"]["annotations"] = {{"ferrymq.io/force-delete", "true"}};
  reader_.Put(kube::kinds::kFerryTopic, gone);
  Pass("gone");
  json released = FinalizerPatch("gone");
  ASSERT_FALSE(released.is_null());
  EXPECT_EQ(released["metadata"]["finalizers"], json::array()) << released.dump();
  EXPECT_EQ(Queues(groups_.b0, "gone"), std::nullopt);
  EXPECT_EQ(Queues(groups_.b1, "gone"), std::nullopt);

  // Retain: deleting the Topic releases nothing but the finalizer; the brokers keep the topic.
  kept = *reader_.Get(kube::kinds::kFerryTopic, kNs, "kept");
  kept["metadata"]["deletionTimestamp"] = "2026-12-05T10:00:00Z";
  kept["metadata"]["finalizers"] = {"ferrymq.io/topic-cleanup"};  // a finalizer someone else left
  reader_.Put(kube::kinds::kFerryTopic, kept);
  Pass("kept");
  ASSERT_FALSE(FinalizerPatch("kept").is_null());
  EXPECT_EQ(Queues(groups_.b0, "kept"), (std::pair{8, 8}));
  EXPECT_EQ(Queues(groups_.b1, "kept"), (std::pair{8, 8}));
}

}  // namespace
}  // namespace fmq::op::controllers
