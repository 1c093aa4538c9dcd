#include "operator/controllers/admin_pool.h"

namespace fmq::op::controllers {

AdminPool::AdminPool(std::chrono::milliseconds rpc_timeout) : rpc_timeout_(rpc_timeout) {}

AdminPool::~AdminPool() {
  std::map<std::string, std::shared_ptr<client::Admin>> admins;
  {
    MutexLock lock(&mu_);
    admins.swap(admins_);
  }
  for (auto& [_, admin] : admins) admin->Stop();
}

Result<std::shared_ptr<client::Admin>> AdminPool::For(const std::string& namesrv_addrs) {
  MutexLock lock(&mu_);
  if (auto it = admins_.find(namesrv_addrs); it != admins_.end()) return it->second;
  client::ClientOptions o;
  o.namesrv_addrs = client::ClientOptions::ParseNamesrvAddrs(namesrv_addrs);
  o.instance_name = "ferrymq-operator";
  o.rpc_timeout = rpc_timeout_;
  auto admin = std::make_shared<client::Admin>(o);
  FMQ_RETURN_IF_ERROR(admin->Start());
  admins_[namesrv_addrs] = admin;
  return admin;
}

void AdminPool::Forget(const std::string& namesrv_addrs) {
  std::shared_ptr<client::Admin> admin;
  {
    MutexLock lock(&mu_);
    auto it = admins_.find(namesrv_addrs);
    if (it == admins_.end()) return;
    admin = std::move(it->second);
    admins_.erase(it);
  }
  admin->Stop();  // calls in flight on other threads hold their own reference
}

Result<std::map<std::string, std::string>> RegisteredMasters(client::Admin& admin,
                                                             const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto info, admin.GetClusterInfo());
  std::map<std::string, std::string> out;
  auto names = info.cluster_addr_table.find(cluster);
  if (names == info.cluster_addr_table.end()) return out;
  for (const std::string& name : names->second) {
    auto b = info.broker_addr_table.find(name);
    if (b == info.broker_addr_table.end()) continue;
    if (auto m = b->second.broker_addrs.find(0); m != b->second.broker_addrs.end()) out[name] = m->second;
  }
  return out;
}

}  // namespace fmq::op::controllers
