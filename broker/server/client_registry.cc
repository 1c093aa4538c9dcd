#include "broker/server/client_registry.h"

#include <algorithm>

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"

namespace fmq::server {

ClientRegistry::ClientRegistry(const Clock& clock) : clock_(clock) {}

std::vector<std::weak_ptr<net::Connection>> ClientRegistry::Members(const Group& g) {
  std::vector<std::weak_ptr<net::Connection>> out;
  for (const auto& [key, ch] : g.channels) out.push_back(ch.conn);
  return out;
}

void ClientRegistry::Notify(const std::string& group,
                            const std::vector<std::weak_ptr<net::Connection>>& members) {
  for (const auto& weak : members) {
    auto conn = weak.lock();
    if (!conn || conn->closed()) continue;
    protocol::RemotingCommand req =
        protocol::RemotingCommand::Request(protocol::request_code::kNotifyConsumerIdsChanged, 0);
    req.flag |= protocol::kFlagOneway;
    req.ext_fields["consumerGroup"] = group;
    conn->Send(std::move(req));
  }
}

bool ClientRegistry::RegisterConsumer(const model::ConsumerData& data, ClientChannel channel, bool notify) {
  std::vector<std::weak_ptr<net::Connection>> members;
  bool changed = false;
  {
    MutexLock lock(&mu_);
    const net::Connection* key = channel.conn.lock().get();
    channel.last_update_ms = clock_.NowMillis();
    std::map<std::string, std::string> subs;
    for (const auto& sub : data.subscriptions) subs[sub.topic] = sub.expression_type + ":" + sub.sub_string;
    channel.subscriptions.clear();
    for (const auto& [topic, expr] : subs) {
      if (!channel.subscriptions.empty()) channel.subscriptions += ';';
      channel.subscriptions += topic + ":" + expr;
    }
    Group& g = consumers_[data.group_name];
    g.info.group = data.group_name;
    g.info.consume_type = data.consume_type;
    g.info.message_model = data.message_model;
    g.info.consume_from_where = data.consume_from_where;
    g.info.last_update_ms = channel.last_update_ms;
    auto it = g.channels.find(key);
    if (it == g.channels.end()) {
      GetLogger("server")->info("new consumer connected group={} client={} remote={}", data.group_name,
                                channel.client_id, channel.remote_addr);
      g.channels.emplace(key, std::move(channel));
      changed = true;
    } else {
      it->second = std::move(channel);
    }
    // Subscriptions: add new topics, replace one only with a newer version, drop topics no longer listed.
    std::set<std::string> listed;
    for (const auto& sub : data.subscriptions) {
      listed.insert(sub.topic);
      auto old = g.info.subscriptions.find(sub.topic);
      if (old == g.info.subscriptions.end()) {
        g.info.subscriptions.emplace(sub.topic, sub);
        changed = true;
      } else if (sub.sub_version > old->second.sub_version) {
        old->second = sub;
      }
    }
    for (auto s = g.info.subscriptions.begin(); s != g.info.subscriptions.end();) {
      if (listed.count(s->first)) {
        ++s;
      } else {
        s = g.info.subscriptions.erase(s);
        changed = true;
      }
    }
    notify_enabled_[data.group_name] = notify;
    if (changed && notify) members = Members(g);
  }
  if (!members.empty()) Notify(data.group_name, members);
  return changed;
}

void ClientRegistry::UnregisterConsumer(const std::string& group, const net::Connection* conn, bool notify) {
  std::vector<std::weak_ptr<net::Connection>> members;
  {
    MutexLock lock(&mu_);
    auto g = consumers_.find(group);
    if (g == consumers_.end() || g->second.channels.erase(conn) == 0) return;
    GetLogger("server")->info("consumer unregistered group={}", group);
    if (g->second.channels.empty()) {
      consumers_.erase(g);
      return;
    }
    if (notify) members = Members(g->second);
  }
  Notify(group, members);
}

void ClientRegistry::RegisterProducer(const std::string& group, ClientChannel channel) {
  MutexLock lock(&mu_);
  const net::Connection* key = channel.conn.lock().get();
  channel.last_update_ms = clock_.NowMillis();
  producers_[group][key] = std::move(channel);
}

void ClientRegistry::UnregisterProducer(const std::string& group, const net::Connection* conn) {
  MutexLock lock(&mu_);
  auto g = producers_.find(group);
  if (g == producers_.end()) return;
  g->second.erase(conn);
  if (g->second.empty()) producers_.erase(g);
}

void ClientRegistry::OnConnectionClosed(const net::Connection* conn) {
  std::vector<std::pair<std::string, std::vector<std::weak_ptr<net::Connection>>>> to_notify;
  {
    MutexLock lock(&mu_);
    for (auto g = consumers_.begin(); g != consumers_.end();) {
      if (g->second.channels.erase(conn) == 0) {
        ++g;
        continue;
      }
      GetLogger("server")->info("consumer connection closed group={}", g->first);
      if (g->second.channels.empty()) {
        g = consumers_.erase(g);
        continue;
      }
      if (notify_enabled_[g->first]) to_notify.emplace_back(g->first, Members(g->second));
      ++g;
    }
    for (auto p = producers_.begin(); p != producers_.end();) {
      p->second.erase(conn);
      p = p->second.empty() ? producers_.erase(p) : std::next(p);
    }
  }
  for (const auto& [group, members] : to_notify) Notify(group, members);
}

size_t ClientRegistry::ScanNotActive(int64_t expiry_ms) {
  std::vector<std::shared_ptr<net::Connection>> expired;
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_.NowMillis();
    auto collect = [&](std::map<const net::Connection*, ClientChannel>& channels, const std::string& group) {
      for (auto it = channels.begin(); it != channels.end();) {
        auto conn = it->second.conn.lock();
        if (conn && !conn->closed() && now - it->second.last_update_ms <= expiry_ms) {
          ++it;
          continue;
        }
        GetLogger("server")->warn("client channel expired group={} client={} remote={} idle_ms={}", group,
                                  it->second.client_id, it->second.remote_addr,
                                  now - it->second.last_update_ms);
        if (conn) expired.push_back(conn);
        it = channels.erase(it);
      }
    };
    for (auto g = consumers_.begin(); g != consumers_.end();) {
      collect(g->second.channels, g->first);
      g = g->second.channels.empty() ? consumers_.erase(g) : std::next(g);
    }
    for (auto p = producers_.begin(); p != producers_.end();) {
      collect(p->second, p->first);
      p = p->second.empty() ? producers_.erase(p) : std::next(p);
    }
  }
  // Closing runs OnConnectionClosed, which notifies the remaining members of their groups.
  for (auto& conn : expired) conn->Close();
  return expired.size();
}

std::vector<std::string> ClientRegistry::ConsumerIds(const std::string& group) const {
  MutexLock lock(&mu_);
  std::vector<std::string> ids;
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return ids;
  for (const auto& [key, ch] : g->second.channels) ids.push_back(ch.client_id);
  return ids;
}

std::optional<ConsumerGroupInfo> ClientRegistry::Consumer(const std::string& group) const {
  MutexLock lock(&mu_);
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return std::nullopt;
  ConsumerGroupInfo info = g->second.info;
  for (const auto& [key, ch] : g->second.channels) info.channels.push_back(ch);
  return info;
}

std::optional<model::SubscriptionData> ClientRegistry::FindSubscription(const std::string& group,
                                                                        const std::string& topic) const {
  MutexLock lock(&mu_);
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return std::nullopt;
  auto s = g->second.info.subscriptions.find(topic);
  if (s == g->second.info.subscriptions.end()) return std::nullopt;
  return s->second;
}

std::vector<ClientChannel> ClientRegistry::Producers(const std::string& group) const {
  MutexLock lock(&mu_);
  std::vector<ClientChannel> out;
  auto p = producers_.find(group);
  if (p == producers_.end()) return out;
  for (const auto& [key, ch] : p->second) out.push_back(ch);
  return out;
}

std::map<std::string, size_t> ClientRegistry::ProducerCounts() const {
  MutexLock lock(&mu_);
  std::map<std::string, size_t> out;
  for (const auto& [name, channels] : producers_) {
    if (!channels.empty()) out[name] = channels.size();
  }
  return out;
}

std::set<std::string> ClientRegistry::ConsumerGroups() const {
  MutexLock lock(&mu_);
  std::set<std::string> out;
  for (const auto& [name, g] : consumers_) out.insert(name);
  return out;
}

std::set<std::string> ClientRegistry::GroupsSubscribedTo(const std::string& topic) const {
  MutexLock lock(&mu_);
  std::set<std::string> out;
  for (const auto& [name, g] : consumers_) {
    if (g.info.subscriptions.count(topic)) out.insert(name);
  }
  return out;
}

std::shared_ptr<net::Connection> ClientRegistry::FindConsumerConnection(const std::string& group,
                                                                        const std::string& client_id) const {
  MutexLock lock(&mu_);
  auto g = consumers_.find(group);
  if (g == consumers_.end()) return nullptr;
  for (const auto& [key, ch] : g->second.channels) {
    if (ch.client_id == client_id) return ch.conn.lock();
  }
  return nullptr;
}

std::map<std::string, bool> ClientRegistry::SubscriptionConsistency() const {
  MutexLock lock(&mu_);
  std::map<std::string, bool> out;
  for (const auto& [name, g] : consumers_) {
    if (g.channels.empty()) continue;
    const std::string& first = g.channels.begin()->second.subscriptions;
    out[name] = std::all_of(g.channels.begin(), g.channels.end(),
                            [&](const auto& c) { return c.second.subscriptions == first; });
  }
  return out;
}

}  // namespace fmq::server
