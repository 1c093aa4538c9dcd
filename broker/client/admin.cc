#include "broker/client/admin.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "broker/client/internal/fastjson.h"
#include "broker/client/internal/remoting_util.h"
#include "broker/model/message.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::client {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using nlohmann::json;
using protocol::RemotingCommand;

namespace {

Result<json> ParseBody(std::string_view body, const char* what) {
  auto j = json::parse(internal::NormalizeFastJson(body), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption(std::string(what) + ": body is not a JSON object");
  return j;
}

int64_t I64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number()) return it->get<int64_t>();
  if (it->is_string()) return std::atoll(it->get<std::string>().c_str());
  return 0;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

// A MessageQueue written as a map key: the JSON text of the object (after NormalizeFastJson).
Result<MessageQueue> QueueOfKey(const std::string& key) {
  auto j = json::parse(key, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("message queue key is not an object: " + key);
  return MessageQueue{Str(j, "topic"), Str(j, "brokerName"), static_cast<int32_t>(I64(j, "queueId"))};
}

}  // namespace

int64_t ConsumeStats::TotalDiff() const {
  int64_t d = 0;
  for (const auto& q : queues) d += q.broker_offset - q.consumer_offset;
  return d;
}

Result<std::vector<QueueStats>> DecodeTopicStatsTable(std::string_view body) {
  FMQ_ASSIGN_OR_RETURN(auto j, ParseBody(body, "topic stats"));
  std::vector<QueueStats> out;
  auto table = j.find("offsetTable");
  if (table == j.end() || !table->is_object()) return out;
  for (auto it = table->begin(); it != table->end(); ++it) {
    FMQ_ASSIGN_OR_RETURN(auto mq, QueueOfKey(it.key()));
    out.push_back({mq, I64(*it, "minOffset"), I64(*it, "maxOffset"), I64(*it, "lastUpdateTimestamp")});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.queue < b.queue; });
  return out;
}

Result<ConsumeStats> DecodeConsumeStats(std::string_view body) {
  FMQ_ASSIGN_OR_RETURN(auto j, ParseBody(body, "consume stats"));
  ConsumeStats out;
  auto tps = j.find("consumeTps");
  if (tps != j.end() && tps->is_number()) out.consume_tps = tps->get<double>();
  auto table = j.find("offsetTable");
  if (table == j.end() || !table->is_object()) return out;
  for (auto it = table->begin(); it != table->end(); ++it) {
    FMQ_ASSIGN_OR_RETURN(auto mq, QueueOfKey(it.key()));
    out.queues.push_back({mq, I64(*it, "brokerOffset"), I64(*it, "consumerOffset"), I64(*it, "lastTimestamp")});
  }
  std::sort(out.queues.begin(), out.queues.end(), [](const auto& a, const auto& b) { return a.queue < b.queue; });
  return out;
}

Result<ConsumerConnection> DecodeConsumerConnection(std::string_view body) {
  FMQ_ASSIGN_OR_RETURN(auto j, ParseBody(body, "consumer connection"));
  ConsumerConnection out;
  auto set = j.find("connectionSet");
  if (set != j.end() && set->is_array()) {
    for (const auto& c : *set) {
      out.connections.push_back(
          {Str(c, "clientId"), Str(c, "clientAddr"), Str(c, "language"), static_cast<int32_t>(I64(c, "version"))});
    }
  }
  auto subs = j.find("subscriptionTable");
  if (subs != j.end() && subs->is_object()) {
    for (auto it = subs->begin(); it != subs->end(); ++it) out.subscriptions[it.key()] = Str(*it, "subString");
  }
  out.consume_type = Str(j, "consumeType");
  out.message_model = Str(j, "messageModel");
  out.consume_from_where = Str(j, "consumeFromWhere");
  return out;
}

std::string EncodeSubscriptionGroupConfig(const SubscriptionGroupConfig& c) {
  json j = {{"groupName", c.group_name},
            {"consumeEnable", c.consume_enable},
            {"consumeFromMinEnable", c.consume_from_min_enable},
            {"consumeBroadcastEnable", c.consume_broadcast_enable},
            {"retryQueueNums", c.retry_queue_nums},
            {"retryMaxTimes", c.retry_max_times},
            {"brokerId", c.broker_id},
            {"whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly},
            {"notifyConsumerIdsChangedEnable", c.notify_consumer_ids_changed_enable}};
  return j.dump();
}

Admin::Admin(ClientOptions options) : core_(std::move(options)) {}

Admin::~Admin() { Stop(); }

Status Admin::Start() {
  if (started_) return Status::Ok();
  FMQ_RETURN_IF_ERROR(core_.Start());
  started_ = true;
  return Status::Ok();
}

void Admin::Stop() {
  if (!started_) return;
  started_ = false;
  core_.Stop();
}

Result<RemotingCommand> Admin::Call(const std::string& addr, RemotingCommand request, const std::string& what) {
  auto resp = core_.remoting()->InvokeSync(addr, std::move(request), core_.options().rpc_timeout);
  if (!resp.ok()) return resp.status().WithContext(what + " at " + addr);
  if (resp->code != rc::kSuccess) return internal::ResponseError(*resp, what + " at " + addr);
  return resp;
}

Result<model::ClusterInfo> Admin::GetClusterInfo() { return core_.namesrv().GetClusterInfo(); }

Result<model::TopicRouteData> Admin::GetTopicRoute(const std::string& topic) {
  return core_.namesrv().GetTopicRoute(topic);
}

Result<std::set<std::string>> Admin::GetTopicList() { return core_.namesrv().GetAllTopicList(); }

Result<std::vector<std::string>> Admin::MasterAddrs(const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto info, GetClusterInfo());
  std::vector<std::string> out;
  std::set<std::string> names;
  if (cluster.empty()) {
    for (const auto& [c, brokers] : info.cluster_addr_table) names.insert(brokers.begin(), brokers.end());
  } else {
    auto it = info.cluster_addr_table.find(cluster);
    if (it == info.cluster_addr_table.end()) {
      std::string known;
      for (const auto& [c, _] : info.cluster_addr_table) known += (known.empty() ? "" : ", ") + c;
      return Status::NotFound("cluster " + cluster + " not found (known: " + known + ")");
    }
    names = it->second;
  }
  for (const auto& name : names) {
    auto b = info.broker_addr_table.find(name);
    if (b == info.broker_addr_table.end()) continue;
    auto m = b->second.broker_addrs.find(0);
    if (m != b->second.broker_addrs.end()) out.push_back(m->second);
  }
  if (out.empty()) return Status::NotFound("no master broker" + (cluster.empty() ? "" : " in cluster " + cluster));
  return out;
}

Result<std::vector<std::string>> Admin::CreateTopic(const std::string& topic, const std::string& cluster,
                                                    const CreateTopicOptions& o) {
  FMQ_RETURN_IF_ERROR(model::ValidateTopicName(topic));
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  protocol::CreateTopicRequestHeader h;
  h.topic = topic;
  h.default_topic = kAutoCreateTopicKey;
  h.read_queue_nums = o.read_queue_nums;
  h.write_queue_nums = o.write_queue_nums;
  h.perm = o.perm;
  h.topic_filter_type = "SINGLE_TAG";
  h.topic_sys_flag = 0;
  h.order = o.order;
  for (const auto& addr : masters) {
    FMQ_RETURN_IF_ERROR(Call(addr, internal::MakeRequest(rq::kUpdateAndCreateTopic, h), "create topic " + topic).status());
  }
  return masters;
}

Status Admin::DeleteTopic(const std::string& topic, const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  protocol::TopicHeader h;
  h.topic = topic;
  for (const auto& addr : masters) {
    FMQ_RETURN_IF_ERROR(Call(addr, internal::MakeRequest(rq::kDeleteTopicInBroker, h), "delete topic " + topic).status());
  }
  return core_.namesrv().DeleteTopic(topic, cluster.empty() ? std::nullopt : std::optional<std::string>(cluster));
}

Result<std::vector<QueueStats>> Admin::TopicStats(const std::string& topic) {
  FMQ_ASSIGN_OR_RETURN(auto route, GetTopicRoute(topic));
  std::vector<QueueStats> out;
  protocol::TopicHeader h;
  h.topic = topic;
  for (const auto& b : route.broker_datas) {
    auto m = b.broker_addrs.find(0);
    if (m == b.broker_addrs.end()) continue;
    FMQ_ASSIGN_OR_RETURN(auto resp, Call(m->second, internal::MakeRequest(rq::kGetTopicStatsInfo, h), "topic stats " + topic));
    FMQ_ASSIGN_OR_RETURN(auto stats, DecodeTopicStatsTable(resp.body));
    out.insert(out.end(), stats.begin(), stats.end());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.queue < b.queue; });
  return out;
}

Result<ConsumeStats> Admin::GetConsumeStats(const std::string& group, const std::string& topic) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(""));
  protocol::ConsumerGroupHeader h;
  h.consumer_group = group;
  if (!topic.empty()) h.topic = topic;
  ConsumeStats out;
  Status last;
  bool any = false;
  for (const auto& addr : masters) {
    auto resp = Call(addr, internal::MakeRequest(rq::kGetConsumeStats, h), "consume stats of " + group);
    if (!resp.ok()) {
      last = resp.status();
      continue;
    }
    FMQ_ASSIGN_OR_RETURN(auto stats, DecodeConsumeStats(resp->body));
    any = true;
    out.consume_tps += stats.consume_tps;
    out.queues.insert(out.queues.end(), stats.queues.begin(), stats.queues.end());
  }
  if (!any) return last.ok() ? Status::NotFound("no broker knows group " + group) : last;
  std::sort(out.queues.begin(), out.queues.end(), [](const auto& a, const auto& b) { return a.queue < b.queue; });
  return out;
}

Result<std::map<std::string, std::string>> Admin::BrokerRuntimeInfo(const std::string& broker_addr) {
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, RemotingCommand::Request(rq::kGetBrokerRuntimeInfo, 0), "runtime info"));
  FMQ_ASSIGN_OR_RETURN(auto j, ParseBody(resp.body, "runtime info"));
  std::map<std::string, std::string> out;
  auto table = j.find("table");
  if (table != j.end() && table->is_object()) {
    for (auto it = table->begin(); it != table->end(); ++it) out[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return out;
}

Result<ConsumerConnection> Admin::GetConsumerConnections(const std::string& group) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(""));
  protocol::ConsumerGroupHeader h;
  h.consumer_group = group;
  Status last;
  for (const auto& addr : masters) {
    auto resp = Call(addr, internal::MakeRequest(rq::kGetConsumerConnectionList, h), "consumer connections of " + group);
    if (resp.ok()) return DecodeConsumerConnection(resp->body);
    last = resp.status();
  }
  return last;
}

Status Admin::CreateSubscriptionGroup(const SubscriptionGroupConfig& config, const std::string& cluster) {
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config.group_name));
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  for (const auto& addr : masters) {
    RemotingCommand req = RemotingCommand::Request(rq::kUpdateAndCreateSubscriptionGroup, 0);
    req.body = EncodeSubscriptionGroupConfig(config);
    FMQ_RETURN_IF_ERROR(Call(addr, std::move(req), "create group " + config.group_name).status());
  }
  return Status::Ok();
}

Result<std::set<std::string>> Admin::GetSubscriptionGroups(const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  std::set<std::string> out;
  for (const auto& addr : masters) {
    FMQ_ASSIGN_OR_RETURN(auto resp, Call(addr, RemotingCommand::Request(rq::kGetAllSubscriptionGroupConfig, 0), "list groups"));
    FMQ_ASSIGN_OR_RETURN(auto j, ParseBody(resp.body, "subscription groups"));
    auto table = j.find("subscriptionGroupTable");
    if (table == j.end() || !table->is_object()) continue;
    for (auto it = table->begin(); it != table->end(); ++it) out.insert(it.key());
  }
  return out;
}

Result<MessageExt> Admin::ViewMessage(const std::string& offset_msg_id) {
  FMQ_ASSIGN_OR_RETURN(auto id, model::DecodeOffsetMessageId(offset_msg_id));
  const std::string addr = id.store_host.ToString();
  protocol::ViewMessageRequestHeader h;
  h.offset = id.offset.value();
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(addr, internal::MakeRequest(rq::kViewMessageById, h), "view message " + offset_msg_id));
  FMQ_ASSIGN_OR_RETURN(auto msgs, DecodeMessages({reinterpret_cast<const uint8_t*>(resp.body.data()), resp.body.size()}, ""));
  if (msgs.empty()) return Status::NotFound("no message at offset " + std::to_string(h.offset));
  return std::move(msgs.front());
}

}  // namespace fmq::client
