#include "broker/client/name_server_client.h"

#include <algorithm>
#include <charconv>

#include "broker/base/logging.h"
#include "broker/client/internal/remoting_util.h"
#include "broker/model/admin_body.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::client {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

NameServerClient::NameServerClient(net::RemotingClient* remoting, std::vector<std::string> addrs,
                                   std::chrono::milliseconds timeout)
    : remoting_(remoting), addrs_(std::move(addrs)), timeout_(timeout) {}

Result<RemotingCommand> NameServerClient::Invoke(const RemotingCommand& request) {
  if (addrs_.empty()) return Status::FailedPrecondition("no name server address configured");
  Status last;
  const size_t start = current_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < addrs_.size(); ++i) {
    const size_t idx = (start + i) % addrs_.size();
    auto resp = remoting_->InvokeSync(addrs_[idx], request, timeout_);
    if (resp.ok()) {
      current_.store(idx, std::memory_order_relaxed);
      return resp;
    }
    last = resp.status().WithContext("name server " + addrs_[idx]);
    GetLogger("client")->warn("name server request failed code={} namesrv={} error=\"{}\"", request.code,
                              addrs_[idx], resp.status().message());
  }
  return last;
}

Result<model::TopicRouteData> NameServerClient::GetTopicRoute(const std::string& topic) {
  protocol::TopicHeader h;
  h.topic = topic;
  h.accept_standard_json_only = true;
  FMQ_ASSIGN_OR_RETURN(auto resp, Invoke(internal::MakeRequest(rq::kGetRouteInfoByTopic, h)));
  if (resp.code != rc::kSuccess) return internal::ResponseError(resp, "get route of topic " + topic);
  FMQ_ASSIGN_OR_RETURN(auto body, model::NormalizeFastjson(resp.body));
  return model::DecodeTopicRouteData(body);
}

Result<model::ClusterInfo> NameServerClient::GetClusterInfo() {
  FMQ_ASSIGN_OR_RETURN(auto resp, Invoke(RemotingCommand::Request(rq::kGetBrokerClusterInfo, 0)));
  if (resp.code != rc::kSuccess) return internal::ResponseError(resp, "get cluster info");
  FMQ_ASSIGN_OR_RETURN(auto body, model::NormalizeFastjson(resp.body));
  return model::DecodeClusterInfo(body);
}

Result<std::set<std::string>> NameServerClient::GetAllTopicList() {
  FMQ_ASSIGN_OR_RETURN(auto resp, Invoke(RemotingCommand::Request(rq::kGetAllTopicListFromNameServer, 0)));
  if (resp.code != rc::kSuccess) return internal::ResponseError(resp, "get topic list");
  return model::DecodeTopicList(resp.body);
}

Result<std::set<std::string>> NameServerClient::GetTopicsByCluster(const std::string& cluster) {
  protocol::ClusterHeader h;
  h.cluster = cluster;
  FMQ_ASSIGN_OR_RETURN(auto resp, Invoke(internal::MakeRequest(rq::kGetTopicsByCluster, h)));
  if (resp.code != rc::kSuccess) return internal::ResponseError(resp, "get topics of cluster " + cluster);
  return model::DecodeTopicList(resp.body);
}

Status NameServerClient::DeleteTopic(const std::string& topic, const std::optional<std::string>& cluster) {
  protocol::TopicHeader h;
  h.topic = topic;
  h.cluster_name = cluster;
  Status first;
  for (const auto& addr : addrs_) {
    auto resp = remoting_->InvokeSync(addr, internal::MakeRequest(rq::kDeleteTopicInNamesrv, h), timeout_);
    Status s = !resp.ok() ? resp.status().WithContext("name server " + addr)
               : resp->code != rc::kSuccess
                   ? internal::ResponseError(*resp, "delete topic on name server " + addr)
                   : Status::Ok();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Result<int> NameServerClient::SetWritePerm(const std::string& broker_name, bool writable) {
  protocol::BrokerNameHeader h;
  h.broker_name = broker_name;
  const int32_t code = writable ? rq::kAddWritePermOfBroker : rq::kWipeWritePermOfBroker;
  const char* field = writable ? "addTopicCount" : "wipeTopicCount";
  const std::string what = std::string(writable ? "add" : "wipe") + " write permission of " + broker_name;
  Status first;
  std::optional<int> count;
  for (const auto& addr : addrs_) {
    auto resp = remoting_->InvokeSync(addr, internal::MakeRequest(code, h), timeout_);
    Status s = !resp.ok()                   ? resp.status().WithContext(what + " on name server " + addr)
               : resp->code != rc::kSuccess ? internal::ResponseError(*resp, what + " on name server " + addr)
                                            : Status::Ok();
    if (s.ok() && !count) {
      auto it = resp->ext_fields.find(field);
      int n = 0;
      const std::string v = it == resp->ext_fields.end() ? "" : it->second;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
        s = Status::Corruption(what + " on name server " + addr + ": no " + field + " in the answer");
      } else {
        count = n;
      }
    }
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return first;
  return count.value_or(0);
}

// ---------------------------------------------------------------------------------------------------------------

const MessageQueue& TopicPublishInfo::SelectQueue(const std::string& avoid_broker) const {
  const size_t n = queues.size();
  if (!avoid_broker.empty()) {
    for (size_t i = 0; i < n; ++i) {
      const MessageQueue& mq = queues[send_which_queue.fetch_add(1, std::memory_order_relaxed) % n];
      if (mq.broker_name != avoid_broker) return mq;
    }
  }
  return queues[send_which_queue.fetch_add(1, std::memory_order_relaxed) % n];
}

namespace {

bool HasMaster(const model::TopicRouteData& route, const std::string& broker_name) {
  for (const auto& b : route.broker_datas) {
    if (b.broker_name == broker_name) return b.broker_addrs.count(0) > 0;
  }
  return false;
}

}  // namespace

std::vector<MessageQueue> PublishQueues(const std::string& topic, const model::TopicRouteData& route) {
  std::vector<model::QueueData> qds = route.queue_datas;
  std::stable_sort(qds.begin(), qds.end(),
                   [](const auto& a, const auto& b) { return a.broker_name < b.broker_name; });
  std::vector<MessageQueue> out;
  for (const auto& qd : qds) {
    if (!(qd.perm & model::perm::kWrite) || !HasMaster(route, qd.broker_name)) continue;
    for (int32_t i = 0; i < qd.write_queue_nums; ++i) out.push_back({topic, qd.broker_name, i});
  }
  return out;
}

std::vector<MessageQueue> SubscribeQueues(const std::string& topic, const model::TopicRouteData& route) {
  std::vector<MessageQueue> out;
  for (const auto& qd : route.queue_datas) {
    if (!(qd.perm & model::perm::kRead)) continue;
    for (int32_t i = 0; i < qd.read_queue_nums; ++i) out.push_back({topic, qd.broker_name, i});
  }
  std::sort(out.begin(), out.end());
  return out;
}

RouteCache::RouteCache(NameServerClient* namesrv, Options options) : namesrv_(namesrv), options_(options) {}

Status RouteCache::Update(const std::string& topic, const model::TopicRouteData& route) {
  auto info = std::make_shared<TopicPublishInfo>();
  info->queues = PublishQueues(topic, route);
  MutexLock lock(&mu_);
  auto old = publish_.find(topic);
  if (old != publish_.end()) {
    info->send_which_queue.store(old->second->send_which_queue.load(std::memory_order_relaxed));
  }
  routes_[topic] = route;
  publish_[topic] = std::move(info);
  for (const auto& b : route.broker_datas) broker_addrs_[b.broker_name] = b.broker_addrs;
  return Status::Ok();
}

Status RouteCache::RefreshTopic(const std::string& topic) {
  auto route = namesrv_->GetTopicRoute(topic);
  if (route.ok()) return Update(topic, *route);
  if (!route.status().IsNotFound() || !options_.use_default_topic || topic == kAutoCreateTopicKey) {
    return route.status();
  }
  // Not created yet: send through the brokers that can auto-create it (Java's isDefault path).
  FMQ_ASSIGN_OR_RETURN(auto def, namesrv_->GetTopicRoute(kAutoCreateTopicKey));
  for (auto& qd : def.queue_datas) {
    const int32_t n = std::min(options_.default_topic_queue_nums, qd.read_queue_nums);
    qd.read_queue_nums = qd.write_queue_nums = n;
  }
  FMQ_RETURN_IF_ERROR(Update(topic, def));
  MutexLock lock(&mu_);
  auto info = std::make_shared<TopicPublishInfo>();
  info->queues = publish_[topic]->queues;
  info->from_default_topic = true;
  publish_[topic] = std::move(info);
  routes_.erase(topic);  // not a real route: subscribers must not use it; RefreshAll() retries the topic
  return Status::Ok();
}

Result<std::shared_ptr<const TopicPublishInfo>> RouteCache::GetPublishInfo(const std::string& topic) {
  {
    MutexLock lock(&mu_);
    auto it = publish_.find(topic);
    if (it != publish_.end() && !it->second->queues.empty()) return it->second;
  }
  Status s = RefreshTopic(topic);
  MutexLock lock(&mu_);
  auto it = publish_.find(topic);
  if (it == publish_.end() || it->second->queues.empty()) {
    Status err = Status::NotFound("No route info of this topic: " + topic);
    if (!s.ok() && !s.IsNotFound()) err = err.WithContext(std::string(s.message()));
    return err;
  }
  return it->second;
}

Result<std::vector<MessageQueue>> RouteCache::GetSubscribeQueues(const std::string& topic) {
  {
    MutexLock lock(&mu_);
    auto it = routes_.find(topic);
    if (it != routes_.end()) return SubscribeQueues(topic, it->second);
  }
  FMQ_ASSIGN_OR_RETURN(auto route, namesrv_->GetTopicRoute(topic));
  FMQ_RETURN_IF_ERROR(Update(topic, route));
  return SubscribeQueues(topic, route);
}

void RouteCache::RefreshAll() {
  std::vector<std::string> topics;
  {
    MutexLock lock(&mu_);
    for (const auto& [t, _] : publish_) topics.push_back(t);
    for (const auto& [t, _] : routes_) {
      if (!publish_.count(t)) topics.push_back(t);
    }
  }
  for (const auto& t : topics) {
    Status s = RefreshTopic(t);
    if (!s.ok()) GetLogger("client")->warn("route refresh failed topic={} error=\"{}\"", t, s.message());
  }
}

std::optional<std::string> RouteCache::MasterAddr(const std::string& broker_name) const {
  return BrokerAddr(broker_name, 0);
}

std::optional<std::string> RouteCache::BrokerAddr(const std::string& broker_name, int64_t broker_id) const {
  MutexLock lock(&mu_);
  auto it = broker_addrs_.find(broker_name);
  if (it == broker_addrs_.end() || it->second.empty()) return std::nullopt;
  auto a = it->second.find(broker_id);
  if (a != it->second.end()) return a->second;
  if (broker_id == 0) return std::nullopt;
  auto m = it->second.find(0);
  return m != it->second.end() ? m->second : it->second.begin()->second;
}

std::optional<std::string> RouteCache::ReadAddr(const std::string& broker_name, int64_t preferred_id) const {
  MutexLock lock(&mu_);
  auto it = broker_addrs_.find(broker_name);
  if (it == broker_addrs_.end() || it->second.empty()) return std::nullopt;
  for (int64_t id : {preferred_id, int64_t{0}}) {
    if (auto a = it->second.find(id); a != it->second.end()) return a->second;
  }
  return it->second.begin()->second;
}

std::vector<std::string> RouteCache::AllBrokerAddrs(bool masters_only) const {
  std::set<std::string> out;
  MutexLock lock(&mu_);
  for (const auto& [name, addrs] : broker_addrs_) {
    for (const auto& [id, addr] : addrs) {
      if (!masters_only || id == 0) out.insert(addr);
    }
  }
  return {out.begin(), out.end()};
}

std::optional<std::string> RouteCache::AnyBrokerOfTopic(const std::string& topic) const {
  MutexLock lock(&mu_);
  auto it = routes_.find(topic);
  if (it == routes_.end()) return std::nullopt;
  std::optional<std::string> any;
  for (const auto& b : it->second.broker_datas) {
    auto m = b.broker_addrs.find(0);
    if (m != b.broker_addrs.end()) return m->second;
    if (!any && !b.broker_addrs.empty()) any = b.broker_addrs.begin()->second;
  }
  return any;
}

}  // namespace fmq::client
