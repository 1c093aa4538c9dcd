#include "broker/namesrv/route_info_manager.h"

#include "broker/base/logging.h"

namespace fmq::namesrv {

RouteInfoManager::RouteInfoManager(const Clock& clock, std::chrono::milliseconds broker_expiry)
    : clock_(clock), expiry_(broker_expiry) {}

bool RouteInfoManager::RefusedByEpoch(const RegisterBrokerRequest& req, RegisterBrokerResult* result) {
  if (req.broker_id != 0 || !req.epoch) return false;
  MasterEpoch& known = master_epochs_[req.broker_name];
  const bool other_alive = !known.master_addr.empty() && known.master_addr != req.broker_addr &&
                           broker_live_table_.count(known.master_addr) > 0;
  if (*req.epoch > known.epoch || (*req.epoch == known.epoch && !other_alive)) {
    if (*req.epoch > known.epoch && known.epoch > 0) {
      GetLogger("namesrv")->warn("broker {} has a new master epoch={} addr={} (was epoch={} addr={})",
                                 req.broker_name, *req.epoch, req.broker_addr, known.epoch,
                                 known.master_addr);
    }
    known = {*req.epoch, req.broker_addr};
    return false;
  }
  result->refused = true;
  result->master_epoch = known.epoch;
  result->refusal = "master registration of " + req.broker_addr + " for broker " + req.broker_name +
                    " at epoch " + std::to_string(*req.epoch) + " refused: epoch " +
                    std::to_string(known.epoch) + " has master " + known.master_addr;
  if (broker_live_table_.count(known.master_addr)) {
    result->master_addr = known.master_addr;
    result->ha_server_addr = broker_live_table_[known.master_addr].ha_server_addr;
  }
  std::set<int64_t> used;
  if (auto bd = broker_addr_table_.find(req.broker_name); bd != broker_addr_table_.end()) {
    for (const auto& [id, addr] : bd->second.broker_addrs) {
      if (addr != req.broker_addr) used.insert(id);
    }
  }
  result->free_broker_id = 1;
  while (used.count(result->free_broker_id)) ++result->free_broker_id;
  GetLogger("namesrv")->warn("{}", result->refusal);
  return true;
}

RegisterBrokerResult RouteInfoManager::RegisterBroker(const RegisterBrokerRequest& req) {
  MutexLock lock(&mu_);
  RegisterBrokerResult refused;
  if (RefusedByEpoch(req, &refused)) return refused;
  cluster_addr_table_[req.cluster_name].insert(req.broker_name);
  auto& bd = broker_addr_table_[req.broker_name];
  bd.cluster = req.cluster_name;
  bd.broker_name = req.broker_name;
  // One address holds one role: a slave promoted to master re-registers its address under id 0.
  for (auto it = bd.broker_addrs.begin(); it != bd.broker_addrs.end();) {
    it = (it->second == req.broker_addr && it->first != req.broker_id) ? bd.broker_addrs.erase(it)
                                                                       : std::next(it);
  }
  const bool first =
      !bd.broker_addrs.count(req.broker_id) || bd.broker_addrs[req.broker_id] != req.broker_addr;
  bd.broker_addrs[req.broker_id] = req.broker_addr;

  auto& live = broker_live_table_[req.broker_addr];
  const bool changed = first || live.data_version != req.body.data_version;
  if (req.broker_id == 0 && changed) {
    for (const auto& [topic, cfg] : req.body.topic_config_table) {
      topic_queue_table_[topic][req.broker_name] = model::QueueData{
          req.broker_name, cfg.read_queue_nums, cfg.write_queue_nums, cfg.perm, cfg.topic_sys_flag};
      registered_perm_[topic][req.broker_name] = cfg.perm;
    }
  }
  live.last_update_ms = clock_.NowMillis();
  live.data_version = req.body.data_version;
  live.ha_server_addr = req.ha_server_addr;

  RegisterBrokerResult result;
  if (req.broker_id != 0) {
    auto master = bd.broker_addrs.find(0);
    if (master != bd.broker_addrs.end()) {
      auto ml = broker_live_table_.find(master->second);
      if (ml != broker_live_table_.end()) {
        result.ha_server_addr = ml->second.ha_server_addr;
        result.master_addr = master->second;
      }
    }
  }
  return result;
}

void RouteInfoManager::RemoveBrokerAddr(const std::string& addr) {
  broker_live_table_.erase(addr);
  for (auto bit = broker_addr_table_.begin(); bit != broker_addr_table_.end();) {
    auto& addrs = bit->second.broker_addrs;
    for (auto it = addrs.begin(); it != addrs.end();)
      it = it->second == addr ? addrs.erase(it) : std::next(it);
    if (!addrs.empty()) {
      ++bit;
      continue;
    }
    // The broker name has no address left: it leaves its cluster and every topic.
    const std::string name = bit->first;
    for (auto& [cluster, names] : cluster_addr_table_) names.erase(name);
    for (auto cit = cluster_addr_table_.begin(); cit != cluster_addr_table_.end();) {
      cit = cit->second.empty() ? cluster_addr_table_.erase(cit) : std::next(cit);
    }
    for (auto tit = topic_queue_table_.begin(); tit != topic_queue_table_.end();) {
      tit->second.erase(name);
      tit = tit->second.empty() ? topic_queue_table_.erase(tit) : std::next(tit);
    }
    for (auto pit = registered_perm_.begin(); pit != registered_perm_.end();) {
      pit->second.erase(name);
      pit = pit->second.empty() ? registered_perm_.erase(pit) : std::next(pit);
    }
    bit = broker_addr_table_.erase(bit);
  }
}

void RouteInfoManager::UnregisterBroker(const std::string&, const std::string& addr, const std::string&,
                                        int64_t) {
  MutexLock lock(&mu_);
  RemoveBrokerAddr(addr);
}

void RouteInfoManager::RemoveBroker(const std::string& addr) {
  MutexLock lock(&mu_);
  RemoveBrokerAddr(addr);
}

std::vector<std::string> RouteInfoManager::ScanNotActiveBrokers() {
  MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  std::vector<std::string> expired;
  for (const auto& [addr, live] : broker_live_table_) {
    if (now - live.last_update_ms > expiry_.count()) expired.push_back(addr);
  }
  for (const auto& addr : expired) {
    GetLogger("namesrv")->warn("broker expired addr={} silent_for_ms>{}", addr, expiry_.count());
    RemoveBrokerAddr(addr);
  }
  return expired;
}

std::optional<model::TopicRouteData> RouteInfoManager::PickupTopicRouteData(const std::string& topic) const {
  MutexLock lock(&mu_);
  auto it = topic_queue_table_.find(topic);
  if (it == topic_queue_table_.end() || it->second.empty()) return std::nullopt;
  model::TopicRouteData route;
  for (const auto& [name, qd] : it->second) {
    route.queue_datas.push_back(qd);
    auto b = broker_addr_table_.find(name);
    if (b != broker_addr_table_.end()) route.broker_datas.push_back(b->second);
  }
  if (route.broker_datas.empty()) return std::nullopt;
  return route;
}

model::ClusterInfo RouteInfoManager::GetAllClusterInfo() const {
  MutexLock lock(&mu_);
  return {broker_addr_table_, cluster_addr_table_};
}

std::set<std::string> RouteInfoManager::GetAllTopicList() const {
  MutexLock lock(&mu_);
  std::set<std::string> out;
  for (const auto& [topic, queues] : topic_queue_table_) out.insert(topic);
  return out;
}

std::set<std::string> RouteInfoManager::GetTopicsByCluster(const std::string& cluster) const {
  MutexLock lock(&mu_);
  std::set<std::string> out;
  auto c = cluster_addr_table_.find(cluster);
  if (c == cluster_addr_table_.end()) return out;
  for (const auto& [topic, queues] : topic_queue_table_) {
    for (const auto& [name, qd] : queues) {
      if (c->second.count(name)) out.insert(topic);
    }
  }
  return out;
}

void RouteInfoManager::DeleteTopic(const std::string& topic, const std::string& cluster) {
  MutexLock lock(&mu_);
  auto it = topic_queue_table_.find(topic);
  if (it == topic_queue_table_.end()) return;
  if (cluster.empty()) {
    topic_queue_table_.erase(it);
    registered_perm_.erase(topic);
    return;
  }
  auto c = cluster_addr_table_.find(cluster);
  if (c != cluster_addr_table_.end()) {
    auto perms = registered_perm_.find(topic);
    for (const auto& name : c->second) {
      it->second.erase(name);
      if (perms != registered_perm_.end()) perms->second.erase(name);
    }
    if (perms != registered_perm_.end() && perms->second.empty()) registered_perm_.erase(perms);
  }
  if (it->second.empty()) topic_queue_table_.erase(it);
}

int RouteInfoManager::WipeWritePerm(const std::string& broker_name) {
  MutexLock lock(&mu_);
  int count = 0;
  for (auto& [topic, queues] : topic_queue_table_) {
    auto q = queues.find(broker_name);
    if (q == queues.end()) continue;
    q->second.perm &= ~model::perm::kWrite;
    ++count;
  }
  return count;
}

int RouteInfoManager::AddWritePerm(const std::string& broker_name) {
  MutexLock lock(&mu_);
  int count = 0;
  for (auto& [topic, queues] : topic_queue_table_) {
    auto q = queues.find(broker_name);
    if (q == queues.end()) continue;
    q->second.perm = model::perm::kRead | model::perm::kWrite;
    if (auto t = registered_perm_.find(topic); t != registered_perm_.end()) {
      if (auto r = t->second.find(broker_name); r != t->second.end()) q->second.perm = r->second;
    }
    ++count;
  }
  return count;
}

bool RouteInfoManager::IsBrokerTopicConfigChanged(const std::string& addr,
                                                  const model::DataVersion& version) {
  MutexLock lock(&mu_);
  auto it = broker_live_table_.find(addr);
  if (it == broker_live_table_.end() || it->second.data_version != version) return true;
  it->second.last_update_ms = clock_.NowMillis();
  return false;
}

}  // namespace fmq::namesrv
