#pragma once

// Command-line options of ferrymq-operator (the contract the Helm chart's Deployment uses; see
// charts/ferrymq-operator/templates/deployment.yaml). Both `--flag=value` and `--flag value` are accepted.

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

inline constexpr const char* kUsage = R"(usage: ferrymq-operator [flags]

Runs the FerryMQ operator: reconciles Cluster and Topic resources (ferrymq.io/v1alpha1).

  --kubeconfig PATH                 kubeconfig file (default: $KUBECONFIG, else the in-cluster service account)
  --context NAME                    kubeconfig context (default: current-context)
  --namespaces a,b                  namespaces to watch (default: all)
  --leader-elect true|false         act only while holding the Lease (default true)
  --lease-name NAME                 Lease name (default ferrymq-operator)
  --lease-namespace NS              Lease namespace (default $POD_NAMESPACE)
  --lease-duration 15s              how long a Lease is valid without renewal
  --renew-deadline 10s              the leader gives up (and exits) if it cannot renew within this
  --retry-period 2s                 how often candidates try to acquire and leaders renew
  --metrics-bind-address :8080      /metrics
  --health-probe-bind-address :8081 /healthz and /readyz
  --broker-image IMAGE              image of name servers and brokers when a Cluster does not set spec.image
  --workers N                       reconcile workers per controller (default 2)
  --topic-drift-check 5m            how often a synced Topic is compared with the brokers
  --group-status-refresh 30s        how often a ConsumerGroup is compared with the brokers and its clients
                                    and lag are re-read
  --fault exit-after-failover-claim  test fault injection: exit right after claiming a failover in an HA
                                    record (end-to-end tests of leader loss; never in production)
)";

// InvalidArgument naming the flag for a bad or unknown flag. `-h`/`--help` gives NotFound (print usage, exit
// 0).
Result<Options> ParseOptions(const std::vector<std::string>& args);

// "15s", "500ms", "5m", "1h" (a bare number is seconds).
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);
// ":8080" -> {"0.0.0.0", 8080}; "127.0.0.1:9000" -> {"127.0.0.1", 9000}.
Result<std::pair<std::string, int>> ParseBindAddress(const std::string& text);

}  // namespace fmq::op::cmd
