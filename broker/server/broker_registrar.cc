#include "broker/server/broker_registrar.h"

#include <algorithm>
#include <set>

#include "broker/base/crc32.h"
#include "broker/base/logging.h"
#include "broker/base/properties.h"
#include "broker/base/strings.h"
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

Status BrokerRegistrar::RegisterNow() { return RegisterWith(Resolve()); }

void BrokerRegistrar::RegisterSoon() {
  register_soon_.store(true);
  Wakeup();
}

Status BrokerRegistrar::RegisterWith(const std::vector<std::string>& targets) {
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
  for (const auto& ns : targets) {
    RemotingCommand req = RemotingCommand::Request(rq::kRegisterBroker, 0);
    protocol::RegisterBrokerRequestHeader::Spec().Encode(h, &req.ext_fields);
    req.body = body;
    auto r = client_.InvokeSync(ns, req, config_.timeout);
    if (!r.ok()) {
      last = r.status().WithContext("register with name server " + ns);
      bool first_failure;
      {
        MutexLock lock(&mu_);
        registered_.erase(ns);
        first_failure = failing_.insert(ns).second;
      }
      // Retried every check (3 s): warn once per outage, not at every try.
      GetLogger("server")->log(first_failure ? spdlog::level::warn : spdlog::level::debug,
                               "registration failed namesrv={} error={}", ns, last.ToString());
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
      {
        MutexLock lock(&mu_);
        registered_.erase(ns);
        refused_.insert(ns);
      }
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
    bool recovered;
    {
      MutexLock lock(&mu_);
      registered_[ns] = wrapper.data_version;
      refused_.erase(ns);
      recovered = failing_.erase(ns) > 0;
    }
    if (recovered) GetLogger("server")->info("registered with name server {} again", ns);
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
  for (const auto& ns : name_server_addresses()) {
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

std::map<std::string, bool> BrokerRegistrar::name_server_states() const {
  MutexLock lock(&mu_);
  std::map<std::string, bool> out;
  for (const auto& a : addresses_) out[a] = registered_.count(a) > 0;
  return out;
}

std::vector<std::string> BrokerRegistrar::name_server_addresses() const {
  MutexLock lock(&mu_);
  return addresses_;
}

std::vector<std::string> BrokerRegistrar::Resolve() {
  std::vector<std::string> out;
  for (const auto& entry : config_.name_servers) {
    auto r = config_.resolve ? config_.resolve(entry) : net::ResolveAddresses(entry);
    std::vector<std::string> addrs;
    {
      MutexLock lock(&mu_);
      if (r.ok()) {
        auto& known = resolved_[entry];
        if (known != *r && !known.empty()) {
          GetLogger("server")->info("name servers of {} changed: {} (were {})", entry, JoinStrings(*r, ","),
                                    JoinStrings(known, ","));
        }
        known = *r;
      } else if (!resolved_.count(entry)) {
        GetLogger("server")->warn("name server {} does not resolve ({}); registering with the name as given",
                                  entry, r.status().message());
      }
      auto it = resolved_.find(entry);
      addrs = it != resolved_.end() ? it->second : std::vector<std::string>{entry};
    }
    for (auto& a : addrs) {
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
    }
  }
  MutexLock lock(&mu_);
  addresses_ = out;
  for (auto it = registered_.begin(); it != registered_.end();) {
    it = std::find(out.begin(), out.end(), it->first) == out.end() ? registered_.erase(it) : std::next(it);
  }
  return out;
}

int BrokerRegistrar::CheckNow() {
  const std::vector<std::string> targets = Resolve();
  std::map<std::string, model::DataVersion> registered;
  std::set<std::string> refused;
  {
    MutexLock lock(&mu_);
    registered = registered_;
    refused = refused_;
  }
  protocol::BrokerIdentityHeader h{broker_.broker_name, config_.broker_addr, broker_.cluster_name,
                                   ha_ ? ha_->broker_id() : broker_.broker_id};
  // A slave that is not copying asks every name server where its master is: the master may have restarted on
  // a new address (a recreated pod), and the registration's answer names it. Until then a SYNC_MASTER lacks
  // its in-sync slaves.
  if (ha_ != nullptr && !ha_->is_master() && !ha_->copying()) {
    (void)RegisterWith(targets);
    return static_cast<int>(targets.size());
  }
  std::vector<std::string> stale;
  for (const auto& ns : targets) {
    if (refused.count(ns)) continue;  // asked again at the next full round, not every check
    auto known = registered.find(ns);
    if (known == registered.end()) {
      stale.push_back(ns);
      continue;
    }
    RemotingCommand req = RemotingCommand::Request(rq::kQueryDataVersion, 0);
    protocol::BrokerIdentityHeader::Spec().Encode(h, &req.ext_fields);
    req.body = model::EncodeDataVersion(known->second);
    auto r = client_.InvokeSync(ns, req, config_.timeout);
    if (!r.ok() || r->code != protocol::response_code::kSuccess) continue;  // the full round reports it
    if (auto c = r->ext_fields.find("changed"); c != r->ext_fields.end() && c->second == "true") {
      stale.push_back(ns);
    }
  }
  if (stale.empty()) return 0;
  GetLogger("server")->info("name server(s) {} do not hold this broker's registration: registering",
                            JoinStrings(stale, ","));
  (void)RegisterWith(stale);
  return static_cast<int>(stale.size());
}

void BrokerRegistrar::Run() {
  const auto period =
      std::clamp(config_.period, std::chrono::milliseconds(10'000), std::chrono::milliseconds(60'000));
  auto last_full = std::chrono::steady_clock::now();
  while (!IsStopped()) {
    WaitForRunning(std::min(config_.check_period, period));
    if (IsStopped()) break;
    const auto now = std::chrono::steady_clock::now();
    if (register_soon_.exchange(false) || now - last_full >= period) {
      (void)RegisterNow();  // failures are logged; the next round retries
      last_full = now;
    } else {
      (void)CheckNow();
    }
  }
}

}  // namespace fmq::server
