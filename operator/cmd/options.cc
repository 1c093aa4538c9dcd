#include "operator/cmd/options.h"

#include <charconv>
#include <cstdlib>

namespace fmq::op::cmd {
namespace {

Status ParseBool(const std::string& flag, const std::string& v, bool* out) {
  if (v == "true" || v == "1") {
    *out = true;
  } else if (v == "false" || v == "0") {
    *out = false;
  } else {
    return Status::InvalidArgument(flag + ": expected true or false, got '" + v + "'");
  }
  return Status::Ok();
}

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

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 0)
    return Status::InvalidArgument("not a duration: '" + text + "' (e.g. 15s, 500ms)");
  std::string unit(p, text.data() + text.size());
  if (unit.empty() || unit == "s") return std::chrono::milliseconds(n * 1000);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "m") return std::chrono::milliseconds(n * 60'000);
  if (unit == "h") return std::chrono::milliseconds(n * 3'600'000);
  return Status::InvalidArgument("not a duration: '" + text + "' (units: ms, s, m, h)");
}

Result<std::pair<std::string, int>> ParseBindAddress(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("bind address '" + text + "' needs :port");
  std::string host = text.substr(0, colon);
  int port = -1;
  auto [p, ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
  if (ec != std::errc() || p != text.data() + text.size() || port < 0 || port > 65535) {
    return Status::InvalidArgument("bind address '" + text + "': bad port");
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : host, port);
}

Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (flag == "-h" || flag == "--help") return Status::NotFound("help");
    if (flag.rfind("--", 0) != 0) return Status::InvalidArgument("unexpected argument '" + flag + "'");
    if (size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::InvalidArgument(flag + " needs a value");
    }
    auto duration = [&](std::chrono::milliseconds* out) -> Status {
      FMQ_ASSIGN_OR_RETURN(*out, ParseDuration(value));
      return Status::Ok();
    };
    Status st;
    if (flag == "--kubeconfig") {
      o.kubeconfig = value;
    } else if (flag == "--context") {
      o.context = value;
    } else if (flag == "--namespaces") {
      o.namespaces = SplitList(value);
    } else if (flag == "--leader-elect") {
      st = ParseBool(flag, value, &o.leader_elect);
    } else if (flag == "--lease-name") {
      o.lease_name = value;
    } else if (flag == "--lease-namespace") {
      o.lease_namespace = value;
    } else if (flag == "--lease-duration") {
      st = duration(&o.lease_duration);
    } else if (flag == "--renew-deadline") {
      st = duration(&o.renew_deadline);
    } else if (flag == "--retry-period") {
      st = duration(&o.retry_period);
    } else if (flag == "--metrics-bind-address") {
      o.metrics_bind_address = value;
      st = ParseBindAddress(value).status();
    } else if (flag == "--health-probe-bind-address") {
      o.health_probe_bind_address = value;
      st = ParseBindAddress(value).status();
    } else if (flag == "--broker-image") {
      o.broker_image = value;
    } else if (flag == "--workers") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), o.workers);
      if (ec != std::errc() || p != value.data() + value.size() || o.workers < 1 || o.workers > 64) {
        st = Status::InvalidArgument("--workers: expected 1..64, got '" + value + "'");
      }
    } else if (flag == "--topic-drift-check") {
      st = duration(&o.topic_drift_check);
    } else if (flag == "--group-status-refresh") {
      st = duration(&o.group_status_refresh);
    } else if (flag == "--identity") {
      o.identity = value;
    } else if (flag == "--fault") {
      if (value != "exit-after-failover-claim") {
        st = Status::InvalidArgument("--fault: the only fault is exit-after-failover-claim, got '" + value +
                                     "'");
      }
      o.fault = value;
    } else {
      return Status::InvalidArgument("unknown flag " + flag);
    }
    if (!st.ok()) return st.message().find(flag) == 0 ? st : st.WithContext(flag);
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
