#include "operator/cmd/options.h"

#include <charconv>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "broker/base/time_codec.h"
#include "broker/net/http_server.h"

namespace fmq::op::cmd {
namespace {

// What the flags read before conversion (durations and lists are checked after the parse, naming the flag).
struct RawFlags {
  std::string namespaces;
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  std::string topic_drift_check = "5m";
  std::string group_status_refresh = "30s";
};

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Every flag of the program on `app`, reading into `o` and `raw` (the one definition the parse and the usage
// text share).
void AddFlags(CLI::App& app, Options& o, RawFlags& raw) {
  app.set_help_flag("-h,--help", "print this help and exit");
  // The chart appends extraArgs after its own flags: a flag given again overrides the earlier value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--kubeconfig", o.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, else the in-cluster service account)");
  app.add_option("--context", o.context, "kubeconfig context (default: current-context)");
  app.add_option("--namespaces", raw.namespaces, "namespaces to watch, a,b (default: all)");
  app.add_option("--leader-elect", o.leader_elect, "act only while holding the Lease (true|false)")
      ->default_str("true");
  app.add_option("--lease-name", o.lease_name, "Lease name")->default_str(o.lease_name);
  app.add_option("--lease-namespace", o.lease_namespace, "Lease namespace (default $POD_NAMESPACE)");
  app.add_option("--lease-duration", raw.lease_duration, "how long a Lease is valid without renewal")
      ->default_str(raw.lease_duration);
  app.add_option("--renew-deadline", raw.renew_deadline,
                 "the leader gives up (and exits) if it cannot renew within this")
      ->default_str(raw.renew_deadline);
  app.add_option("--retry-period", raw.retry_period, "how often candidates try to acquire and leaders renew")
      ->default_str(raw.retry_period);
  app.add_option("--metrics-bind-address", o.metrics_bind_address, "/metrics, [host]:port")
      ->default_str(o.metrics_bind_address);
  app.add_option("--health-probe-bind-address", o.health_probe_bind_address,
                 "/healthz and /readyz, [host]:port")
      ->default_str(o.health_probe_bind_address);
  app.add_option("--broker-image", o.broker_image,
                 "image of name servers and brokers when a Cluster does not set spec.image")
      ->default_str(o.broker_image);
  app.add_option("--workers", o.workers, "reconcile workers per controller")
      ->check(CLI::Range(1, 64))
      ->default_str(std::to_string(o.workers));
  app.add_option("--topic-drift-check", raw.topic_drift_check,
                 "how often a synced Topic is compared with the brokers")
      ->default_str(raw.topic_drift_check);
  app.add_option("--group-status-refresh", raw.group_status_refresh,
                 "how often a ConsumerGroup is compared with the brokers and its clients and lag are re-read")
      ->default_str(raw.group_status_refresh);
  app.add_option("--identity", o.identity, "Lease holder identity (default: <$POD_NAME or host>_<random>)");
  app.add_option("--fault", o.fault,
                 "test fault injection: exit right after claiming a failover in an HA record (end-to-end "
                 "tests of leader loss; never in production)")
      ->check(CLI::IsMember({"exit-after-failover-claim"}));
}

constexpr const char* kDescription =
    "Runs the FerryMQ operator: reconciles Cluster, Topic and ConsumerGroup resources (ferrymq.io/v1alpha1). "
    "Durations: 500ms, 15s, 5m, 1h.";

}  // namespace

std::string Usage() {
  Options o;
  RawFlags raw;
  CLI::App app(kDescription, "ferrymq-operator");
  AddFlags(app, o, raw);
  return app.help();
}

Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  RawFlags raw;
  CLI::App app(kDescription, "ferrymq-operator");
  AddFlags(app, o, raw);
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 takes them last first
  } catch (const CLI::CallForHelp&) {
    return Status::NotFound("help");
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  o.namespaces = SplitList(raw.namespaces);
  const std::pair<const char*, std::pair<const std::string*, std::chrono::milliseconds*>> durations[] = {
      {"--lease-duration", {&raw.lease_duration, &o.lease_duration}},
      {"--renew-deadline", {&raw.renew_deadline, &o.renew_deadline}},
      {"--retry-period", {&raw.retry_period, &o.retry_period}},
      {"--topic-drift-check", {&raw.topic_drift_check, &o.topic_drift_check}},
      {"--group-status-refresh", {&raw.group_status_refresh, &o.group_status_refresh}},
  };
  for (const auto& [flag, io] : durations) {
    auto d = fmq::ParseDuration(*io.first);
    if (!d.ok()) return d.status().WithContext(flag);
    *io.second = *d;
  }
  for (const auto& [flag, value] :
       {std::pair<const char*, const std::string*>{"--metrics-bind-address", &o.metrics_bind_address},
        {"--health-probe-bind-address", &o.health_probe_bind_address}}) {
    if (auto a = net::ParseBindAddress(*value); !a.ok()) return a.status().WithContext(flag);
  }
  if (o.renew_deadline >= o.lease_duration) {
    return Status::InvalidArgument("--renew-deadline must be shorter than --lease-duration");
  }
  if (o.retry_period >= o.renew_deadline) {
    return Status::InvalidArgument("--retry-period must be shorter than --renew-deadline");
  }
  if (o.lease_namespace.empty()) {
    if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) o.lease_namespace = ns;
  }
  return o;
}

}  // namespace fmq::op::cmd
