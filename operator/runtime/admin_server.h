#pragma once

// AdminServer: the operator's HTTP endpoints: /metrics (Prometheus text format of a MetricRegistry), /healthz
// and /readyz (named checks; 200 "ok" when all pass, else 500 listing the failures; "?verbose" lists every
// check). The operator runs two: metrics on --metrics-bind-address (:8080) and probes on
// --health-probe-bind-address
// (:8081). A bind address of "0" disables the server (controller-runtime's convention).
//
// Built on net::HttpServer. Created by the composition root; checks and the registry are set before Start()
// and must outlive the server. Thread-safety: Start/Stop from the owner's thread; checks run on the server's
// I/O thread and must be quick and thread-safe.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/base/metrics.h"
#include "broker/base/status.h"
#include "broker/net/http_server.h"

namespace fmq::op::runtime {

// OK when healthy; the message of an error says why not.
using HealthCheck = std::function<Status()>;

class AdminServer {
 public:
  explicit AdminServer(std::string bind_address);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // REQUIRES: before Start(). `registry` is not owned.
  void ServeMetrics(MetricRegistry* registry);
  void AddHealthCheck(std::string name, HealthCheck check);
  void AddReadyCheck(std::string name, HealthCheck check);

  // Binds and serves (nothing for bind address "0"). A bad address or a port in use is an error naming it.
  Status Start();
  void Stop();

  bool enabled() const { return bind_address_ != "0"; }
  // The bound port (after Start()).
  int port() const;

 private:
  void ServeChecks(const std::string& path, const std::vector<std::pair<std::string, HealthCheck>>* checks);

  const std::string bind_address_;
  MetricRegistry* registry_ = nullptr;
  std::vector<std::pair<std::string, HealthCheck>> health_;
  std::vector<std::pair<std::string, HealthCheck>> ready_;
  std::unique_ptr<net::HttpServer> server_;
};

}  // namespace fmq::op::runtime
