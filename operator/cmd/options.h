#pragma once

// Command-line options of ferrymq-operator (the contract the Helm chart's Deployment uses; see
// charts/ferrymq-operator/templates/deployment.yaml), parsed with CLI11 like every FerryMQ program. Both
// `--flag=value` and `--flag value` are accepted.

#include <chrono>
#include <string>
#include <vector>

#include "broker/base/status.h"

namespace fmq::op::cmd {

struct Options {
  std::string kubeconfig;  // empty: $KUBECONFIG, then the in-cluster service account
  std::string context;
  std::vector<std::string> namespaces;  // empty: every namespace
  bool leader_elect = true;
  std::string lease_name = "ferrymq-operator";
  std::string lease_namespace;  // empty: $POD_NAMESPACE
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  std::string metrics_bind_address = ":8080";
  std::string health_probe_bind_address = ":8081";
  std::string broker_image = "ferrymq:0.1.0";
  int workers = 2;
  std::chrono::milliseconds topic_drift_check{300'000};
  std::chrono::milliseconds group_status_refresh{30'000};
  // Lease holder identity; empty: "<$POD_NAME or host name>_<random>", so a restarted process of the same pod
  // is a new candidate and never mistakes the Lease of its crashed predecessor for its own.
  std::string identity;
  // Test fault injection (tests/e2e/failover_test.py), never set in production: "exit-after-failover-claim"
  // makes the process exit right after it wrote a failover claim to an HA record, before any broker is
  // touched (the standby must finish the failover, promoting once).
  std::string fault;
};

// The usage text (`--help`), from the same flag definitions the parse uses.
std::string Usage();

// InvalidArgument naming the flag for a bad or unknown flag. `-h`/`--help` gives NotFound (print usage, exit
// 0).
Result<Options> ParseOptions(const std::vector<std::string>& args);

// Durations: fmq::ParseDuration (broker/base/time_codec.h).

}  // namespace fmq::op::cmd
