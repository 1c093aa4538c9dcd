#include "broker/cmd/broker_command.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "broker/base/clock.h"
#include "broker/base/logging.h"
#include "broker/base/properties.h"
#include "broker/cmd/namesrv_command.h"
#include "broker/io/file_system.h"
#include "broker/namesrv/name_server.h"
#include "broker/server/broker_controller.h"

namespace fmq::cmd {
namespace {

constexpr const char* kBrokerFooter =
    R"(broker.conf uses RocketMQ's keys, for example:
  brokerClusterName=DefaultCluster   brokerName=broker-a   brokerId=0 (0 = master)
  namesrvAddr=127.0.0.1:9876         listenPort=10911      brokerIP1=<address clients use>
  storePathRootDir=/data/store       flushDiskType=ASYNC_FLUSH|SYNC_FLUSH
  autoCreateTopicEnable=false        autoCreateSubscriptionGroup=false   (production)
  deleteWhen=04  fileReservedTime=72  diskMaxUsedSpaceRatio=75
--set overrides one key of broker.conf (repeatable; the operator passes brokerIP1=$(POD_IP) this way).
--member-index N|<pod>-N: member N of a broker group whose members share one broker.conf (a StatefulSet's
pod ordinal, given as N or as the pod's name): member 0 starts as the group's master (brokerId 0, the master role broker.conf names), member N>0 as a
SLAVE with brokerId N. Only the first start: afterwards <storePathRootDir>/ha.json records the role.
Without -n and namesrvAddr, $NAMESRV_ADDR names the name servers.
Unknown keys are reported and ignored; a bad value stops the start (exit 2).)";

struct BrokerArgs {
  std::string conf, namesrv, port;
  std::vector<std::string> set;
  std::string member_index;  // empty: not given
};

struct StandaloneArgs {
  std::string data_dir, conf, namesrv_port = "9876", broker_port = "10911";
  std::vector<std::string> set;
};

struct Configs {
  server::BrokerConfig broker;
  store::MessageStoreConfig store;
};

// Applies one key to the broker and the store configs (some keys, such as brokerName, are both's).
// Returns false (after printing) on a bad value.
bool ApplyKey(const std::string& source, const std::string& key, const std::string& value, Configs* c,
              const char* program) {
  Status b = server::ApplyBrokerProperty(key, value, &c->broker);
  Status s = c->store.ApplyProperty(key, value);
  if (b.IsNotFound() && s.IsNotFound()) {
    GetLogger("server")->warn("ignoring config key {} in {} (not a FerryMQ broker setting)", key, source);
    return true;
  }
  for (const Status& st : {b, s}) {
    if (!st.ok() && !st.IsNotFound()) {
      std::cerr << program << ": " << source << ": " << st.message() << "\n";
      return false;
    }
  }
  return true;
}

bool LoadConfFile(const std::string& path, Configs* c, const char* program) {
  auto text = io::ReadFileToString(io::PosixFileSystem(), path);
  if (!text.ok()) {
    std::cerr << program << ": cannot read " << path << ": " << text.status().message() << "\n";
    return false;
  }
  auto props = ParseProperties(*text);
  if (!props.ok()) {
    std::cerr << program << ": " << path << ": " << props.status().message() << "\n";
    return false;
  }
  for (const auto& [k, v] : *props) {
    if (!ApplyKey(path, k, v, c, program)) return false;
  }
  return true;
}

// --set key=value (repeatable), applied after the file: a command line overrides broker.conf.
bool ApplySets(const std::vector<std::string>& sets, Configs* c, const char* program) {
  for (const std::string& kv : sets) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << program << ": --set expects key=value, got '" << kv << "'\n";
      return false;
    }
    if (!ApplyKey("--set", kv.substr(0, eq), kv.substr(eq + 1), c, program)) return false;
  }
  return true;
}

// --member-index N or <pod>-N: the first-start role of member N of a group whose members share one
// broker.conf.
bool ApplyMemberIndex(const std::string& given, Configs* c, const char* program) {
  if (given.empty()) return true;
  const size_t dash = given.rfind('-');
  const std::string digits = dash == std::string::npos ? given : given.substr(dash + 1);
  int64_t index = -1;
  if (!digits.empty() && digits.size() <= 4 &&
      std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    index = std::stoll(digits);
  }
  if (index < 0 || index > 1024) {
    std::cerr << program << ": --member-index expects a number (0-1024) or a StatefulSet pod name ending in "
              << "-<ordinal>, got '" << given << "'\n";
    return false;
  }
  ha::ReplicationConfig& r = c->broker.replication;
  if (index == 0) {
    if (r.is_slave()) {
      std::cerr << program
                << ": --member-index 0 starts the group's master, but broker.conf names brokerRole=SLAVE; "
                   "name the master's role (SYNC_MASTER or ASYNC_MASTER)\n";
      return false;
    }
    c->broker.broker_id = 0;
  } else {
    r.role = ha::BrokerRole::kSlave;
    c->broker.broker_id = index;
  }
  return true;
}

sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

std::string HomeDir() {
  const char* home = std::getenv("HOME");
  return home && *home ? home : ".";
}

int RunBroker(const BrokerArgs& args) {
  constexpr const char* kProgram = "ferrymq broker";
  Configs c;
  c.store.store_path_root_dir = HomeDir() + "/store";
  const std::string &conf = args.conf, &namesrv = args.namesrv, &port = args.port;
  if (!conf.empty() && !LoadConfFile(conf, &c, kProgram)) return 2;
  if (!ApplySets(args.set, &c, kProgram)) return 2;
  if (!namesrv.empty() && !ApplyKey("-n", "namesrvAddr", namesrv, &c, kProgram)) return 2;
  if (!port.empty() && !ApplyKey("-p", "listenPort", port, &c, kProgram)) return 2;
  if (!ApplyMemberIndex(args.member_index, &c, kProgram)) return 2;
  if (c.broker.namesrv_addr.empty()) {
    if (const char* env = std::getenv("NAMESRV_ADDR"); env && *env) c.broker.namesrv_addr = env;
  }
  if (Status s = c.store.Validate(); !s.ok()) {
    std::cerr << kProgram << ": " << s.message() << "\n";
    return 2;
  }
  sigset_t stop = BlockStopSignals();
  server::BrokerController broker(c.broker, c.store, io::PosixFileSystem(), SystemClock());
  if (Status s = broker.Start(); !s.ok()) {
    std::cerr << kProgram << ": cannot start: " << s.message() << "\n";
    broker.Stop();
    return 1;
  }
  std::cout << "ferrymq broker " << c.broker.broker_name << " listening on " << broker.address()
            << ", replication port " << broker.ha_port() << " (cluster " << c.broker.cluster_name
            << ", name servers " << (c.broker.namesrv_addr.empty() ? "none" : c.broker.namesrv_addr) << ")"
            << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  GetLogger("server")->info("stopping on signal {}", sig);
  broker.Stop();
  return 0;
}

int RunStandalone(const StandaloneArgs& args) {
  constexpr const char* kProgram = "ferrymq standalone";
  const std::string data_dir = args.data_dir.empty() ? HomeDir() + "/ferrymq" : args.data_dir;
  const std::string &conf = args.conf, &ns_port = args.namesrv_port, &broker_port = args.broker_port;
  namesrv::NameServerConfig ns;
  ns.listen_host = "0.0.0.0";
  ns.kv_config_path = data_dir + "/namesrv/kvConfig.json";
  if (Status s = ApplyNamesrvProperty("listenPort", ns_port, &ns); !s.ok()) {
    std::cerr << kProgram << ": --namesrv-port: " << s.message() << "\n";
    return 2;
  }
  Configs c;
  c.store.store_path_root_dir = data_dir + "/store";
  c.broker.broker_ip1 = "127.0.0.1";
  if (!ApplyKey("--broker-port", "listenPort", broker_port, &c, kProgram)) return 2;
  if (!conf.empty() && !LoadConfFile(conf, &c, kProgram)) return 2;
  if (!ApplySets(args.set, &c, kProgram)) return 2;
  c.broker.namesrv_addr = "127.0.0.1:" + std::to_string(ns.listen_port);
  ns.tls = c.broker.tls;  // one port policy for both; the broker reaches its name server as a TLS client then
  if (c.broker.tls.server_mode == net::TlsMode::kEnforcing) c.broker.tls.client_enable = true;
  if (c.broker.acl_enable) {
    // One plain_acl.yml for both: the name server checks the broker's registration with it, so the broker
    // needs an admin account of that file to sign with.
    ns.acl_enable = true;
    ns.acl_config_file = c.broker.acl_config_file.empty()
                             ? c.store.store_path_root_dir + "/conf/plain_acl.yml"
                             : c.broker.acl_config_file;
    if (c.broker.inner_access_key.empty()) {
      std::cerr << kProgram
                << ": aclEnable=true: set innerAccessKey and innerSecretKey to an admin account of "
                << ns.acl_config_file
                << " (the broker signs its registration with the name server with it)\n";
      return 2;
    }
  }
  if (Status s = c.store.Validate(); !s.ok()) {
    std::cerr << kProgram << ": " << s.message() << "\n";
    return 2;
  }

  sigset_t stop = BlockStopSignals();
  namesrv::NameServer name_server(ns, io::PosixFileSystem(), SystemClock());
  if (Status s = name_server.Start(); !s.ok()) {
    std::cerr << kProgram << ": cannot start the name server: " << s.message() << "\n";
    return 1;
  }
  c.broker.namesrv_addr = "127.0.0.1:" + std::to_string(name_server.port());
  server::BrokerController broker(c.broker, c.store, io::PosixFileSystem(), SystemClock());
  if (Status s = broker.Start(); !s.ok()) {
    std::cerr << kProgram << ": cannot start the broker: " << s.message() << "\n";
    broker.Stop();
    name_server.Stop();
    return 1;
  }
  std::cout << "ferrymq standalone: name server 127.0.0.1:" << name_server.port() << ", broker "
            << broker.address() << " (cluster " << c.broker.cluster_name << ", broker "
            << c.broker.broker_name << "), data in " << data_dir << "\n"
            << "  try: ferryctl -n 127.0.0.1:" << name_server.port() << " send TestTopic 'hello'"
            << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  GetLogger("server")->info("stopping on signal {}", sig);
  broker.Stop();
  name_server.Stop();
  return 0;
}

}  // namespace

void AddBrokerCommand(CLI::App& app, std::function<int()>& action) {
  auto* cmd = app.add_subcommand("broker", "a broker, until SIGINT or SIGTERM");
  cmd->footer(kBrokerFooter);
  auto a = std::make_shared<BrokerArgs>();
  cmd->add_option("-c,--config", a->conf, "broker.conf");
  cmd->add_option("-n,--namesrv", a->namesrv, "name servers (overrides namesrvAddr)");
  cmd->add_option("-p,--port", a->port, "listen port (overrides listenPort)");
  cmd->add_option("--set", a->set, "key=value overriding broker.conf (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--member-index", a->member_index,
                  "member N (or pod <name>-N) of a group sharing one broker.conf: 0 starts as master, N as "
                  "SLAVE brokerId N (first start only)");
  cmd->callback([&action, a] { action = [a] { return RunBroker(*a); }; });
}

void AddStandaloneCommand(CLI::App& app, std::function<int()>& action) {
  auto* cmd = app.add_subcommand("standalone", "name server and broker in one process");
  cmd->footer(
      "Everything lives under one data directory (default $HOME/ferrymq): the broker's store in "
      "<dataDir>/store, the name server's KV config in <dataDir>/namesrv. Defaults: name server "
      "127.0.0.1:9876, broker 127.0.0.1:10911, topics and groups created on first use. broker.conf may set "
      "any broker key (see `ferrymq broker --help`).");
  auto a = std::make_shared<StandaloneArgs>();
  cmd->add_option("-d,--data-dir", a->data_dir, "data directory (default $HOME/ferrymq)");
  cmd->add_option("-c,--config", a->conf, "broker.conf");
  cmd->add_option("--namesrv-port", a->namesrv_port, "name server port (0: any free port)")
      ->capture_default_str();
  cmd->add_option("--broker-port", a->broker_port, "broker port (0: any free port)")->capture_default_str();
  cmd->add_option("--set", a->set, "key=value overriding broker.conf (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->callback([&action, a] { action = [a] { return RunStandalone(*a); }; });
}

}  // namespace fmq::cmd
