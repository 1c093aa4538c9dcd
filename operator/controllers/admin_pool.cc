#include "operator/controllers/admin_pool.h"

#include <utility>

namespace fmq::op::controllers {

AdminPool::AdminPool(std::chrono::milliseconds rpc_timeout, Dial dial)
    : rpc_timeout_(rpc_timeout), dial_(std::move(dial)) {}

AdminPool::~AdminPool() {
  std::map<std::string, std::shared_ptr<client::Admin>> admins;
  {
    MutexLock lock(&mu_);
    admins.swap(admins_);
  }
  for (auto& [_, admin] : admins) admin->Stop();
}

Result<std::shared_ptr<client::Admin>> AdminPool::For(const std::string& namesrv_addrs,
                                                      const std::string& owner, const Security& security) {
  std::shared_ptr<client::Admin> dropped, replaced;  // declared first: released after the lock
  MutexLock lock(&mu_);
  if (!owner.empty()) {
    auto [it, inserted] = owners_.try_emplace(owner, namesrv_addrs);
    if (!inserted && it->second != namesrv_addrs) {
      const std::string old = std::exchange(it->second, namesrv_addrs);
      dropped = ForgetUnownedLocked(old);
    }
  }
  if (auto it = admins_.find(namesrv_addrs); it != admins_.end()) {
    if (fingerprints_[namesrv_addrs] == security.fingerprint) return it->second;
    replaced = std::move(it->second);  // the Cluster's security changed: a new client signs and connects anew
    admins_.erase(it);
  }
  client::ClientOptions o;
  o.namesrv_addrs = client::ClientOptions::ParseNamesrvAddrs(dial_ ? dial_(namesrv_addrs) : namesrv_addrs);
  o.instance_name = "ferrymq-operator";
  o.rpc_timeout = rpc_timeout_;
  o.access_key = security.access_key;
  o.secret_key = security.secret_key;
  if (security.tls_files) {
    FMQ_ASSIGN_OR_RETURN(o.tls, net::TlsContextSource::Create(*security.tls_files, /*client=*/true));
  }
  auto admin = std::make_shared<client::Admin>(o);
  FMQ_RETURN_IF_ERROR(admin->Start());
  admins_[namesrv_addrs] = admin;
  fingerprints_[namesrv_addrs] = security.fingerprint;
  return admin;
}

void AdminPool::Release(const std::string& owner) {
  std::shared_ptr<client::Admin> dropped;  // declared first: released (and stopped) after the lock
  MutexLock lock(&mu_);
  auto it = owners_.find(owner);
  if (it == owners_.end()) return;
  const std::string addrs = it->second;
  owners_.erase(it);
  dropped = ForgetUnownedLocked(addrs);
}

std::shared_ptr<client::Admin> AdminPool::ForgetUnownedLocked(const std::string& namesrv_addrs) {
  for (const auto& [o, addrs] : owners_) {
    if (addrs == namesrv_addrs) return nullptr;
  }
  auto it = admins_.find(namesrv_addrs);
  if (it == admins_.end()) return nullptr;
  // Admin's destructor stops it once the last holder (the caller, or a reconcile in flight) lets go.
  std::shared_ptr<client::Admin> admin = std::move(it->second);
  admins_.erase(it);
  fingerprints_.erase(namesrv_addrs);
  return admin;
}

size_t AdminPool::size() const {
  MutexLock lock(&mu_);
  return admins_.size();
}

Result<std::map<std::string, std::string>> RegisteredBrokers(client::Admin& admin,
                                                             const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto info, admin.GetClusterInfo());
  std::map<std::string, std::string> out;
  auto names = info.cluster_addr_table.find(cluster);
  if (names == info.cluster_addr_table.end()) return out;
  for (const std::string& name : names->second) {
    auto b = info.broker_addr_table.find(name);
    if (b == info.broker_addr_table.end()) continue;
    for (const auto& [id, addr] : b->second.broker_addrs) out[name + "/" + std::to_string(id)] = addr;
  }
  return out;
}

Result<std::map<std::string, std::string>> RegisteredMasters(client::Admin& admin,
                                                             const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto brokers, RegisteredBrokers(admin, cluster));
  std::map<std::string, std::string> out;
  for (const auto& [member, addr] : brokers) {
    if (member.ends_with("/0")) out[member.substr(0, member.size() - 2)] = addr;  // brokerId 0: the master
  }
  return out;
}

}  // namespace fmq::op::controllers
