#pragma once

// What the operator's reconciler tests against real brokers share (tests only): MemoryReader, the informer
// caches as a map the test fills itself; TwoBrokerGroups, cluster "prod" as processes (a `ferrymq standalone`
// with the name server and group prod-broker-0, a `ferrymq broker` for prod-broker-1); ReadyCondition.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/controllers/object_reader.h"
#include "operator/kube/resource.h"
#include "tests/integration/process_util.h"

namespace fmq::op::controllers {

// The informer caches: objects by kind, namespace and name.
class MemoryReader : public ObjectReader {
 public:
  void Put(const kube::ResourceKind& kind, nlohmann::json object) {
    const std::string key = Key(kind, object["metadata"].value("namespace", ""), object["metadata"]["name"]);
    objects_[key] = std::move(object);
  }
  void Erase(const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
    objects_.erase(Key(kind, ns, name));
  }
  std::optional<nlohmann::json> Get(const kube::ResourceKind& kind, std::string_view ns,
                                    std::string_view name) const override {
    auto it = objects_.find(Key(kind, std::string(ns), std::string(name)));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<nlohmann::json> List(const kube::ResourceKind& kind, std::string_view ns,
                                   const std::map<std::string, std::string>& labels) const override {
    std::vector<nlohmann::json> out;
    for (const auto& [k, o] : objects_) {
      if (k.rfind(kind.plural + "/", 0) != 0) continue;
      if (!ns.empty() && o["metadata"].value("namespace", "") != ns) continue;
      bool match = true;
      for (const auto& [lk, lv] : labels) {
        match = match && o["metadata"].value("labels", nlohmann::json::object()).value(lk, "") == lv;
      }
      if (match) out.push_back(o);
    }
    return out;
  }

 private:
  static std::string Key(const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
    return kind.plural + "/" + ns + "/" + name;
  }
  std::map<std::string, nlohmann::json> objects_;
};

// The Ready condition of a status (null when it has none).
inline nlohmann::json ReadyCondition(const nlohmann::json& status) {
  if (!status.is_object()) return nullptr;
  for (const auto& c : status.value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == "Ready") return c;
  }
  return nullptr;
}

// Cluster "prod" with two broker groups as processes, in a fresh directory under /tmp. `conf` is added to
// both brokers' broker.conf. Use ASSERT_NO_FATAL_FAILURE(groups.Start(...)).
class TwoBrokerGroups {
 public:
  ~TwoBrokerGroups() { Stop(); }

  void Start(const std::string& conf) {
    char tmpl[] = "/tmp/fmq-opgroups-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    conf_ = std::string(testing_process::kHostDiskConf) +
            "brokerClusterName=prod\nmappedFileSizeCommitLog=16777216\nautoCreateTopicEnable=false\n" + conf;
    std::ofstream(dir + "/b0.conf") << conf_ << "brokerName=prod-broker-0\n";
    standalone_ =
        testing_process::Spawn(FMQ_FERRYMQ_BIN, {"standalone", "-d", dir + "/s", "--namesrv-port", "0",
                                                 "--broker-port", "0", "-c", dir + "/b0.conf"});
    const std::string out = testing_process::ReadUntil(standalone_.out, "ferrymq standalone: name server");
    int ns_port = 0, broker_port = 0;
    ASSERT_TRUE(testing_process::ParseStandaloneBanner(out, &ns_port, &broker_port)) << out;
    namesrv = "127.0.0.1:" + std::to_string(ns_port);
    b0 = "127.0.0.1:" + std::to_string(broker_port);
    Drain(standalone_.out);
    StartBroker1();
  }
  // (Re)starts prod-broker-1 on its store; b1 is its new address.
  void StartBroker1() {
    std::ofstream(dir + "/b1.conf") << conf_
                                    << "brokerName=prod-broker-1\nlistenPort=0\nbrokerIP1=127.0.0.1\n"
                                    << "storePathRootDir=" << dir << "/b1\nnamesrvAddr=" << namesrv << "\n";
    broker1_ = testing_process::Spawn(FMQ_FERRYMQ_BIN, {"broker", "-c", dir + "/b1.conf"});
    const std::string out = testing_process::ReadUntil(broker1_.out, "listening on");
    auto at = out.find("listening on ");
    ASSERT_NE(at, std::string::npos) << out;
    b1 = out.substr(at + 13, out.find(',', at) - at - 13);
    Drain(broker1_.out);
  }
  void KillBroker1() { Kill(&broker1_); }
  void Stop() {
    Kill(&standalone_);
    Kill(&broker1_);
    for (auto& t : drains_) t.join();
    drains_.clear();
    if (!dir.empty()) std::filesystem::remove_all(dir);
    dir.clear();
  }

  std::string dir, namesrv, b0, b1;

 private:
  static void Kill(testing_process::Child* c) {
    if (c->pid <= 0) return;
    kill(c->pid, SIGKILL);
    testing_process::WaitExit(c->pid);
    c->pid = -1;
  }
  void Drain(int fd) {
    drains_.emplace_back([fd] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
  }

  std::string conf_;
  testing_process::Child standalone_, broker1_;
  std::vector<std::thread> drains_;
};

}  // namespace fmq::op::controllers
