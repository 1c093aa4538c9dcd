#include "broker/server/broker_registrar.h"

#include <algorithm>

#include "broker/base/crc32.h"
#include "broker/base/logging.h"
#include "broker/base/properties.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::server {

namespace rq = protocol::request_code;
using protocol::RemotingCommand;

BrokerRegistrar::BrokerRegistrar(RegistrarConfig config, const BrokerConfig& broker,
                                 TopicConfigManager& topics, net::RemotingClient& client, ha::HaService* ha)
    : ServiceThread("fmq-register"),
      config_(std::move(config)),
      broker_(broker),
      topics_(topics),
      client_(client),
      ha_(ha) {}

BrokerRegistrar::~BrokerRegistrar() { Stop(); }

Status BrokerRegistrar::RegisterNow() {
  model::TopicConfigSerializeWrapper wrapper = topics_.Snapshot();
  if ((broker_.broker_permission & model::perm::kWrite) == 0 ||
      (broker_.broker_permission & model::perm::kRead) == 0) {
    // A broker without read or write permission announces its topics with its own permission (RocketMQ).
    for (auto& [name, t] : wrapper.topic_config_table) t.perm = broker_.broker_permission;
  }
  const std::string body = model::EncodeRegisterBrokerBody(wrapper);
  protocol::RegisterBrokerRequestHeader h;
  h.broker_name = broker_.broker_name;
  h.broker_addr = config_.broker_addr;
  h.cluster_name = broker_.cluster_name;
  h.ha_server_addr = config_.ha_server_addr;
  h.broker_id = ha_ ? ha_->broker_id() : broker_.broker_id;
  if (ha_) h.ferrymq_epoch = ha_->epoch();
  h.compressed = false;
  // RocketMQ's UtilAll.crc32 (sign bit cleared), which Apache name servers check.
  h.body_crc32 = RocketMqCrc32(body);
  Status last = Status::Unavailable("no name server configured (namesrvAddr)");
  bool any = false;
  std::function<void()> refused;  // reported once every name server was tried
  for (const auto& ns : config_.name_servers) {
    RemotingCommand req = RemotingCommand::Request(rq::kRegisterBroker, 0);
    protocol::RegisterBrokerRequestHeader::Spec().Encode(h, &req.ext_fields);
    req.body = body;
    auto r = client_.InvokeSync(ns, req, config_.timeout);
    if (!r.ok()) {
      last = r.status().WithContext("register with name server " + ns);
      GetLogger("server")->warn("registration failed namesrv={} error={}", ns, last.ToString());
      continue;
    }
    auto field = [&](const char* name) {
      auto it = r->ext_fields.find(name);
      return it == r->ext_fields.end() ? std::string() : it->second;
    };
    if (r->code != protocol::response_code::kSuccess) {
      last =
          Status::Unavailable("name server " + ns + " refused the registration: " + r->remark.value_or(""));
      GetLogger("server")->warn("registration refused namesrv={} remark={}", ns, r->remark.value_or(""));
      if (const std::string epoch = field("masterEpoch"); ha_ && !epoch.empty()) {
        int64_t e = 0, id = 0;
        (void)ParsePropertyNumber("masterEpoch", epoch, &e);
        (void)ParsePropertyNumber("freeBrokerId", field("freeBrokerId"), &id);
        refused = [this, e, id, master = field("masterAddr"), ha = field("haServerAddr")] {
          ha_->OnRegistrationRefused(static_cast<int32_t>(e), master, ha, id);
        };
      }
      continue;
    }
    any = true;
    if (const std::string master = field("masterAddr"); !master.empty()) {
      {
        MutexLock lock(&mu_);
        master_addr_ = master;
      }
      if (ha_) ha_->OnMasterLearned(master, field("haServerAddr"));
    }
  }
  if (refused) refused();
  return any ? Status::Ok() : last;
}

void BrokerRegistrar::UnregisterAll() {
  protocol::BrokerIdentityHeader h{broker_.broker_name, config_.broker_addr, broker_.cluster_name,
                                   ha_ ? ha_->broker_id() : broker_.broker_id};
  for (const auto& ns : config_.name_servers) {
    RemotingCommand req = RemotingCommand::Request(rq::kUnregisterBroker, 0);
    protocol::BrokerIdentityHeader::Spec().Encode(h, &req.ext_fields);
    auto r = client_.InvokeSync(ns, req, config_.timeout);
    if (!r.ok())
      GetLogger("server")->warn("unregister failed namesrv={} error={}", ns, r.status().ToString());
  }
}

std::string BrokerRegistrar::master_addr() const {
  MutexLock lock(&mu_);
  return master_addr_;
}

void BrokerRegistrar::Run() {
  const auto period =
      std::clamp(config_.period, std::chrono::milliseconds(10'000), std::chrono::milliseconds(60'000));
  while (!IsStopped()) {
    WaitForRunning(period);
    if (!IsStopped()) (void)RegisterNow();  // failures are logged; the next round retries
  }
}

}  // namespace fmq::server
