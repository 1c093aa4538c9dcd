#include "broker/cmd/namesrv_command.h"

#include <signal.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "broker/base/clock.h"
#include "broker/base/logging.h"
#include "broker/base/properties.h"
#include "broker/io/file_system.h"
#include "broker/namesrv/name_server.h"

namespace fmq::cmd {
namespace {

Status ParseInt(const std::string& key, const std::string& v, int64_t* out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return Status::InvalidArgument("config key " + key + ": '" + v + "' is not a number");
  }
  return Status::Ok();
}

}  // namespace

Status ApplyNamesrvProperty(const std::string& key, const std::string& value, namesrv::NameServerConfig* c) {
  int64_t n = 0;
  if (key == "listenPort") {
    FMQ_RETURN_IF_ERROR(ParseInt(key, value, &n));
    if (n < 0 || n > 65535)
      return Status::InvalidArgument("config key listenPort: " + value + " is not a port");
    c->listen_port = static_cast<int>(n);
  } else if (key == "listenAddress") {
    c->listen_host = value;
  } else if (key.starts_with("tls.")) {
    return net::ApplyTlsProperty(key, value, &c->tls);
  } else if (key == "aclEnable") {
    FMQ_RETURN_IF_ERROR(ParsePropertyBool(key, value, &c->acl_enable));
  } else if (key == "aclConfigFile") {
    c->acl_config_file = value;
  } else if (key == "kvConfigPath") {
    c->kv_config_path = value;
  } else if (key == "serverWorkerThreads") {
    FMQ_RETURN_IF_ERROR(ParseInt(key, value, &n));
    if (n < 1 || n > 256) return Status::InvalidArgument("config key serverWorkerThreads must be 1..256");
    c->worker_threads = static_cast<int>(n);
  } else if (key == "scanNotActiveBrokerInterval") {
    FMQ_RETURN_IF_ERROR(ParseInt(key, value, &n));
    if (n < 100) return Status::InvalidArgument("config key scanNotActiveBrokerInterval must be >= 100 ms");
    c->scan_not_active_broker_interval = std::chrono::milliseconds(n);
  } else if (key == "brokerExpiryMillis") {
    FMQ_RETURN_IF_ERROR(ParseInt(key, value, &n));
    if (n < 1000) return Status::InvalidArgument("config key brokerExpiryMillis must be >= 1000 ms");
    c->broker_expiry = std::chrono::milliseconds(n);
  } else {
    return Status::NotFound(key);
  }
  return Status::Ok();
}

namespace {

int RunNamesrv(const std::string& conf_path, const std::string& port_flag) {
  namesrv::NameServerConfig config;
  const char* home = std::getenv("HOME");
  config.kv_config_path = std::string(home ? home : ".") + "/namesrv/kvConfig.json";
  if (!conf_path.empty()) {
    auto text = io::ReadFileToString(io::PosixFileSystem(), conf_path);
    if (!text.ok()) {
      std::cerr << "ferrymq namesrv: cannot read " << conf_path << ": " << text.status().message() << "\n";
      return 2;
    }
    auto props = ParseProperties(*text);
    if (!props.ok()) {
      std::cerr << "ferrymq namesrv: " << conf_path << ": " << props.status().message() << "\n";
      return 2;
    }
    for (const auto& [k, v] : *props) {
      Status s = ApplyNamesrvProperty(k, v, &config);
      if (s.IsNotFound()) {
        GetLogger("namesrv")->warn("ignoring config key {} in {} (not a name server setting of FerryMQ)", k,
                                   conf_path);
      } else if (!s.ok()) {
        std::cerr << "ferrymq namesrv: " << conf_path << ": " << s.message() << "\n";
        return 2;
      }
    }
  }
  if (!port_flag.empty()) {
    Status s = ApplyNamesrvProperty("listenPort", port_flag, &config);
    if (!s.ok()) {
      std::cerr << "ferrymq namesrv: -p: " << s.message() << "\n";
      return 2;
    }
  }

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  namesrv::NameServer server(config, io::PosixFileSystem(), SystemClock());
  Status s = server.Start();
  if (!s.ok()) {
    std::cerr << "ferrymq namesrv: cannot start: " << s.message() << "\n";
    return 1;
  }
  std::cout << "ferrymq namesrv listening on " << config.listen_host << ":" << server.port() << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  GetLogger("namesrv")->info("stopping on signal {}", sig);
  server.Stop();
  return 0;
}

}  // namespace

void AddNamesrvCommand(CLI::App& app, std::function<int()>& action) {
  auto* cmd = app.add_subcommand("namesrv", "the name server, until SIGINT or SIGTERM");
  cmd->footer(R"(namesrv.conf uses RocketMQ's keys:
  listenPort             port to listen on (default 9876)
  listenAddress          address to bind (default 0.0.0.0)
  kvConfigPath           where KV config is kept (default $HOME/namesrv/kvConfig.json)
  serverWorkerThreads    request threads (default 4)
  scanNotActiveBrokerInterval, brokerExpiryMillis   broker liveness (default 10000, 120000 ms)
Other RocketMQ keys are accepted and reported as ignored.)");
  auto conf = std::make_shared<std::string>();
  auto port = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *conf, "namesrv.conf");
  cmd->add_option("-p,--port", *port, "listen port (overrides listenPort)");
  cmd->callback([&action, conf, port] { action = [conf, port] { return RunNamesrv(*conf, *port); }; });
}

}  // namespace fmq::cmd
