#include "operator/runtime/admin_server.h"

#include "broker/base/logging.h"

namespace fmq::op::runtime {

AdminServer::AdminServer(std::string bind_address) : bind_address_(std::move(bind_address)) {}

AdminServer::~AdminServer() { Stop(); }

void AdminServer::ServeMetrics(MetricRegistry* registry) { registry_ = registry; }

void AdminServer::AddHealthCheck(std::string name, HealthCheck check) {
  health_.emplace_back(std::move(name), std::move(check));
}

void AdminServer::AddReadyCheck(std::string name, HealthCheck check) {
  ready_.emplace_back(std::move(name), std::move(check));
}

void AdminServer::ServeChecks(const std::string& path,
                              const std::vector<std::pair<std::string, HealthCheck>>* checks) {
  server_->Handle(path, [checks](const net::HttpRequest& req, std::shared_ptr<net::HttpResponder> r) {
    bool verbose = req.QueryParams().count("verbose") > 0;
    bool ok = true;
    std::string body;
    for (const auto& [name, check] : *checks) {
      Status s = check();
      if (s.ok()) {
        if (verbose) body += "[+]" + name + " ok\n";
      } else {
        ok = false;
        body += "[-]" + name + " failed: " + std::string(s.message()) + "\n";
      }
    }
    if (verbose || !ok) body += ok ? "ok\n" : "check failed\n";
    if (!verbose && ok) body = "ok";
    r->Send(ok ? 200 : 500, "text/plain; charset=utf-8", body);
  });
}

Status AdminServer::Start() {
  if (!enabled()) return Status::Ok();
  if (server_) return Status::FailedPrecondition("admin server on " + bind_address_ + " already started");
  FMQ_ASSIGN_OR_RETURN(auto addr, net::ParseBindAddress(bind_address_));
  server_ = std::make_unique<net::HttpServer>(net::HttpServerConfig{.host = addr.first, .port = addr.second});
  if (registry_ != nullptr) {
    MetricRegistry* registry = registry_;
    server_->Handle("/metrics", [registry](const net::HttpRequest&, std::shared_ptr<net::HttpResponder> r) {
      r->Send(200, std::string(MetricRegistry::kContentType), registry->Render());
    });
  }
  if (!health_.empty() || !ready_.empty() || registry_ == nullptr) {
    ServeChecks("/healthz", &health_);
    ServeChecks("/readyz", &ready_);
  }
  Status s = server_->Start();
  if (!s.ok()) return s.WithContext("cannot serve on " + bind_address_);
  GetLogger("runtime")->info("serving address={} metrics={} probes={}", bind_address_, registry_ != nullptr,
                             !health_.empty() || !ready_.empty());
  return Status::Ok();
}

void AdminServer::Stop() {
  if (server_) server_->Stop();
}

int AdminServer::port() const { return server_ ? server_->port() : 0; }

}  // namespace fmq::op::runtime
