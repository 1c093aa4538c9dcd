#include "broker/namesrv/name_server.h"

#include <nlohmann/json.hpp>

#include "broker/base/crc32.h"
#include "broker/base/logging.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::namesrv {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using Cmd = protocol::RemotingCommand;

namespace {

// Decodes a request header; on failure fills the SYSTEM_ERROR answer Java gives ("the custom field <x> is
// null").
template <typename H>
bool Decode(const protocol::HeaderSpec<H>& spec, const Cmd& req, Cmd* resp, H* h) {
  Status s = spec.Decode(req.ext_fields, h);
  if (s.ok()) return true;
  resp->code = rc::kSystemError;
  resp->remark = std::string(s.message());
  return false;
}

// For the KV commands, whose key and value are required by some commands only.
bool Present(const std::optional<std::string>& field, const char* name, Cmd* resp) {
  if (field) return true;
  resp->code = rc::kSystemError;
  resp->remark = std::string("the custom field <") + name + "> is null";
  return false;
}

}  // namespace

class NameServer::Housekeeping : public ServiceThread {
 public:
  explicit Housekeeping(NameServer* ns) : ServiceThread("fmq-ns-scan"), ns_(ns) {}

 protected:
  void Run() override {
    while (!IsStopped()) {
      WaitForRunning(ns_->config_.scan_not_active_broker_interval);
      if (!IsStopped()) ns_->routes_.ScanNotActiveBrokers();
    }
  }

 private:
  NameServer* ns_;
};

NameServer::NameServer(NameServerConfig config, io::FileSystem& fs, const Clock& clock)
    : config_(std::move(config)),
      fs_(fs),
      clock_(clock),
      routes_(clock, config_.broker_expiry),
      executor_("fmq-ns", config_.worker_threads, config_.worker_queue_capacity),
      server_(net::ServerConfig{.host = config_.listen_host, .port = config_.listen_port}) {
  server_.Register(
      rq::kRegisterBroker,
      [this](Cmd req, net::Responder responder) {
        Cmd resp = Cmd::ResponseTo(req, rc::kSuccess);
        std::string addr;
        RegisterBroker(req, &resp, &addr);
        if (auto conn = responder.connection(); conn && !addr.empty()) {
          MutexLock lock(&conn_mu_);
          broker_connections_[addr] = conn.get();
        }
        responder.Send(std::move(resp));
      },
      &executor_);
  server_.SetCloseListener([this](net::Connection* c) { OnConnectionClosed(c); });
  Route(rq::kUnregisterBroker, &NameServer::UnregisterBroker);
  Route(rq::kQueryDataVersion, &NameServer::QueryDataVersion);
  Route(rq::kGetRouteInfoByTopic, &NameServer::GetRouteInfo);
  Route(rq::kGetBrokerClusterInfo, &NameServer::GetClusterInfo);
  Route(rq::kGetAllTopicListFromNameServer, &NameServer::GetAllTopicList);
  Route(rq::kGetTopicsByCluster, &NameServer::GetTopicsByCluster);
  Route(rq::kDeleteTopicInNamesrv, &NameServer::DeleteTopic);
  Route(rq::kWipeWritePermOfBroker, &NameServer::WipeWritePerm);
  Route(rq::kAddWritePermOfBroker, &NameServer::AddWritePerm);
  Route(rq::kPutKvConfig, &NameServer::PutKv);
  Route(rq::kGetKvConfig, &NameServer::GetKv);
  Route(rq::kDeleteKvConfig, &NameServer::DeleteKv);
  Route(rq::kGetKvListByNamespace, &NameServer::GetKvList);
}

NameServer::~NameServer() { Stop(); }

void NameServer::Route(int32_t code, void (NameServer::*handler)(const Cmd&, Cmd*)) {
  server_.Register(
      code,
      [this, handler](Cmd req, net::Responder responder) {
        Cmd resp = Cmd::ResponseTo(req, rc::kSuccess);
        (this->*handler)(req, &resp);
        responder.Send(std::move(resp));
      },
      &executor_);
}

Status NameServer::Start() {
  FMQ_RETURN_IF_ERROR(LoadKv());
  if (config_.tls.server_mode != net::TlsMode::kDisabled) {
    auto source = net::TlsContextSource::Create(config_.tls.server, /*client=*/false);
    if (!source.ok()) {
      return source.status().WithContext("tls.server.mode=" +
                                         std::string(net::TlsModeName(config_.tls.server_mode)));
    }
    server_.SetTls(config_.tls.server_mode, *source);
  }
  if (config_.acl_enable) {
    if (config_.acl_config_file.empty()) {
      return Status::InvalidArgument(
          "aclEnable=true needs aclConfigFile, the plain_acl.yml to check writes with");
    }
    acl_ = std::make_unique<acl::AclGuard>(
        fs_, clock_,
        acl::AclGuard::Options{.endpoint = acl::Endpoint::kNameServer, .path = config_.acl_config_file});
    if (Status s = acl_->Start(); !s.ok()) return s.WithContext("aclEnable=true");
    server_.SetRequestFilter([guard = acl_.get()](const std::string& remote, const Cmd& req) {
      return guard->Filter(remote, req);
    });
  }
  FMQ_RETURN_IF_ERROR(executor_.Start());
  FMQ_RETURN_IF_ERROR(server_.Start());
  housekeeping_ = std::make_unique<Housekeeping>(this);
  return housekeeping_->Start();
}

void NameServer::Stop() {
  if (housekeeping_) housekeeping_->Stop();
  server_.Stop();
  executor_.Stop();
  if (acl_) acl_->Stop();
}

void NameServer::OnConnectionClosed(net::Connection* connection) {
  std::vector<std::string> gone;
  {
    MutexLock lock(&conn_mu_);
    for (auto it = broker_connections_.begin(); it != broker_connections_.end();) {
      if (it->second == connection) {
        gone.push_back(it->first);
        it = broker_connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& addr : gone) {
    GetLogger("namesrv")->warn("broker connection closed: removed broker addr={} (onChannelDestroy)", addr);
    routes_.RemoveBroker(addr);
  }
}

void NameServer::RegisterBroker(const Cmd& req, Cmd* resp, std::string* registered_addr) {
  protocol::RegisterBrokerRequestHeader h;
  if (!Decode(protocol::RegisterBrokerRequestHeader::Spec(), req, resp, &h)) return;
  if (h.compressed.value_or(false)) {
    resp->code = rc::kSystemError;
    resp->remark = "compressed registration (compressedRegister=true) is not supported; set it to false";
    return;
  }
  const int32_t crc = h.body_crc32.value_or(0);
  // RocketMQ brokers send UtilAll.crc32 (CRC-32 with the sign bit cleared); FerryMQ brokers before 2026-12
  // sent the whole CRC-32. Both are accepted.
  if (crc != 0 && crc != RocketMqCrc32(req.body) && crc != static_cast<int32_t>(JavaCrc32(req.body))) {
    resp->code = rc::kSystemError;
    resp->remark = "crc32 not match";
    return;
  }
  RegisterBrokerRequest r{h.cluster_name, h.broker_addr, h.broker_name, h.broker_id, h.ha_server_addr, {},
                          h.ferrymq_epoch};
  if (!req.body.empty()) {
    auto body = model::DecodeRegisterBrokerBody(req.body);
    if (!body.ok()) {
      resp->code = rc::kSystemError;
      resp->remark = std::string(body.status().message());
      return;
    }
    r.body = std::move(*body);
  }
  RegisterBrokerResult result = routes_.RegisterBroker(r);
  if (!result.refused) *registered_addr = h.broker_addr;
  if (result.refused) {
    resp->code = rc::kSystemError;
    resp->remark = result.refusal;
    resp->ext_fields["masterEpoch"] = std::to_string(result.master_epoch);
    resp->ext_fields["freeBrokerId"] = std::to_string(result.free_broker_id);
  }
  if (!result.master_addr.empty()) {
    resp->ext_fields["haServerAddr"] = result.ha_server_addr;
    resp->ext_fields["masterAddr"] = result.master_addr;
  }
}

void NameServer::UnregisterBroker(const Cmd& req, Cmd* resp) {
  protocol::BrokerIdentityHeader h;
  if (!Decode(protocol::BrokerIdentityHeader::Spec(), req, resp, &h)) return;
  routes_.UnregisterBroker(h.cluster_name, h.broker_addr, h.broker_name, h.broker_id);
}

void NameServer::QueryDataVersion(const Cmd& req, Cmd* resp) {
  protocol::BrokerIdentityHeader h;
  if (!Decode(protocol::BrokerIdentityHeader::Spec(), req, resp, &h)) return;
  // A body that is not a data version compares as version 0: "changed", so the broker registers in full.
  auto v = model::DecodeDataVersion(req.body);
  resp->ext_fields["changed"] =
      routes_.IsBrokerTopicConfigChanged(h.broker_addr, v.ok() ? *v : model::DataVersion{}) ? "true"
                                                                                            : "false";
}

void NameServer::GetRouteInfo(const Cmd& req, Cmd* resp) {
  protocol::TopicHeader h;
  if (!Decode(protocol::TopicHeader::Spec(), req, resp, &h)) return;
  auto route = routes_.PickupTopicRouteData(h.topic);
  if (!route) {
    resp->code = rc::kTopicNotExist;
    resp->remark = "No topic route info in name server for the topic: " + h.topic;
    return;
  }
  resp->body = model::EncodeTopicRouteData(*route);
}

void NameServer::GetClusterInfo(const Cmd&, Cmd* resp) {
  resp->body = model::EncodeClusterInfo(routes_.GetAllClusterInfo());
}

void NameServer::GetAllTopicList(const Cmd&, Cmd* resp) {
  resp->body = model::EncodeTopicList(routes_.GetAllTopicList());
}

void NameServer::GetTopicsByCluster(const Cmd& req, Cmd* resp) {
  protocol::ClusterHeader h;
  if (!Decode(protocol::ClusterHeader::Spec(), req, resp, &h)) return;
  resp->body = model::EncodeTopicList(routes_.GetTopicsByCluster(h.cluster));
}

void NameServer::DeleteTopic(const Cmd& req, Cmd* resp) {
  protocol::TopicHeader h;
  if (!Decode(protocol::TopicHeader::Spec(), req, resp, &h)) return;
  routes_.DeleteTopic(h.topic, h.cluster_name.value_or(""));
}

void NameServer::WipeWritePerm(const Cmd& req, Cmd* resp) {
  protocol::BrokerNameHeader h;
  if (!Decode(protocol::BrokerNameHeader::Spec(), req, resp, &h)) return;
  resp->ext_fields["wipeTopicCount"] = std::to_string(routes_.WipeWritePerm(h.broker_name));
}

void NameServer::AddWritePerm(const Cmd& req, Cmd* resp) {
  protocol::BrokerNameHeader h;
  if (!Decode(protocol::BrokerNameHeader::Spec(), req, resp, &h)) return;
  resp->ext_fields["addTopicCount"] = std::to_string(routes_.AddWritePerm(h.broker_name));
}

// ---- KV config

Status NameServer::LoadKv() {
  MutexLock lock(&kv_mu_);
  if (config_.kv_config_path.empty() || !fs_.Exists(config_.kv_config_path)) return Status::Ok();
  FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, config_.kv_config_path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("configTable") || !j["configTable"].is_object()) {
    return Status::Corruption("KV config " + config_.kv_config_path +
                              " is not {\"configTable\":{...}}; fix or "
                              "remove it");
  }
  for (const auto& [ns, table] : j["configTable"].items()) {
    if (!table.is_object()) continue;
    for (const auto& [k, v] : table.items()) {
      if (v.is_string()) kv_[ns][k] = v.get<std::string>();
    }
  }
  return Status::Ok();
}

Status NameServer::PersistKv() {
  if (config_.kv_config_path.empty()) return Status::Ok();
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(io::DirName(config_.kv_config_path)));
  nlohmann::json j = {{"configTable", kv_}};
  return io::WriteFileAtomically(fs_, config_.kv_config_path, j.dump(2));
}

void NameServer::PutKv(const Cmd& req, Cmd* resp) {
  protocol::KvConfigHeader h;
  if (!Decode(protocol::KvConfigHeader::Spec(), req, resp, &h) || !Present(h.key, "key", resp) ||
      !Present(h.value, "value", resp)) {
    return;
  }
  MutexLock lock(&kv_mu_);
  kv_[h.name_space][*h.key] = *h.value;
  if (Status s = PersistKv(); !s.ok()) {
    resp->code = rc::kSystemError;
    resp->remark = "KV config not persisted: " + s.ToString();
  }
}

void NameServer::GetKv(const Cmd& req, Cmd* resp) {
  protocol::KvConfigHeader h;
  if (!Decode(protocol::KvConfigHeader::Spec(), req, resp, &h) || !Present(h.key, "key", resp)) return;
  MutexLock lock(&kv_mu_);
  auto ns = kv_.find(h.name_space);
  if (ns == kv_.end() || !ns->second.count(*h.key)) {
    resp->code = rc::kQueryNotFound;
    resp->remark = "No config item, Namespace: " + h.name_space + " Key: " + *h.key;
    return;
  }
  resp->ext_fields["value"] = ns->second[*h.key];
}

void NameServer::DeleteKv(const Cmd& req, Cmd* resp) {
  protocol::KvConfigHeader h;
  if (!Decode(protocol::KvConfigHeader::Spec(), req, resp, &h) || !Present(h.key, "key", resp)) return;
  MutexLock lock(&kv_mu_);
  auto ns = kv_.find(h.name_space);
  if (ns != kv_.end()) {
    ns->second.erase(*h.key);
    if (ns->second.empty()) kv_.erase(ns);
  }
  if (Status s = PersistKv(); !s.ok()) {
    resp->code = rc::kSystemError;
    resp->remark = "KV config not persisted: " + s.ToString();
  }
}

void NameServer::GetKvList(const Cmd& req, Cmd* resp) {
  protocol::KvConfigHeader h;
  if (!Decode(protocol::KvConfigHeader::Spec(), req, resp, &h)) return;
  MutexLock lock(&kv_mu_);
  auto ns = kv_.find(h.name_space);
  if (ns == kv_.end()) {
    resp->code = rc::kQueryNotFound;
    resp->remark = "No config item, Namespace: " + h.name_space;
    return;
  }
  resp->body = nlohmann::json({{"table", ns->second}}).dump();
}

}  // namespace fmq::namesrv
