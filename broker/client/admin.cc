#include "broker/client/admin.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/base/strings.h"
#include "broker/base/time_codec.h"
#include "broker/client/internal/remoting_util.h"
#include "broker/model/message.h"
#include "broker/model/names.h"
#include "broker/model/stats_items.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::client {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

int64_t TotalDiff(const model::ConsumeStats& stats) {
  int64_t d = 0;
  for (const auto& [mq, o] : stats.offset_table) d += o.broker_offset - o.consumer_offset;
  return d;
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

Result<RemotingCommand> Admin::Call(const std::string& addr, RemotingCommand request,
                                    const std::string& what) {
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
  if (out.empty())
    return Status::NotFound("no master broker" + (cluster.empty() ? "" : " in cluster " + cluster));
  return out;
}

Result<std::vector<std::string>> Admin::CreateTopic(const std::string& topic, const std::string& cluster,
                                                    const CreateTopicOptions& o) {
  FMQ_RETURN_IF_ERROR(model::ValidateTopicName(topic));
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  for (const auto& addr : masters) FMQ_RETURN_IF_ERROR(CreateTopicAt(addr, topic, o));
  return masters;
}

Status Admin::CreateTopicAt(const std::string& broker_addr, const std::string& topic,
                            const CreateTopicOptions& o) {
  FMQ_RETURN_IF_ERROR(model::ValidateTopicName(topic));
  protocol::CreateTopicHeader h;
  h.topic = topic;
  h.default_topic = kAutoCreateTopicKey;
  h.read_queue_nums = o.read_queue_nums;
  h.write_queue_nums = o.write_queue_nums;
  h.perm = o.perm;
  h.topic_filter_type = "SINGLE_TAG";
  h.topic_sys_flag = 0;
  h.order = o.order;
  return Call(broker_addr, internal::MakeRequest(rq::kUpdateAndCreateTopic, h), "create topic " + topic)
      .status();
}

Result<std::map<std::string, model::TopicConfig>> Admin::GetAllTopicConfig(const std::string& broker_addr) {
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, RemotingCommand::Request(rq::kGetAllTopicConfig, 0),
                                       "get all topic config"));
  FMQ_ASSIGN_OR_RETURN(auto wrapper, model::DecodeTopicConfigWrapper(resp.body));
  return std::move(wrapper.topic_config_table);
}

Status Admin::DeleteTopicAt(const std::string& broker_addr, const std::string& topic) {
  protocol::TopicHeader h;
  h.topic = topic;
  return Call(broker_addr, internal::MakeRequest(rq::kDeleteTopicInBroker, h), "delete topic " + topic)
      .status();
}

Status Admin::DeleteTopicInNameServers(const std::string& topic, const std::string& cluster) {
  return core_.namesrv().DeleteTopic(topic,
                                     cluster.empty() ? std::nullopt : std::optional<std::string>(cluster));
}

Result<int> Admin::SetWritePermInNameServers(const std::string& broker_name, bool writable) {
  return core_.namesrv().SetWritePerm(broker_name, writable);
}

Result<std::set<std::string>> Admin::TopicConsumerGroups(const std::string& broker_addr,
                                                         const std::string& topic) {
  protocol::TopicHeader h;
  h.topic = topic;
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, internal::MakeRequest(rq::kQueryTopicConsumeByWho, h),
                                       "consumer groups of " + topic));
  std::set<std::string> groups;
  auto j = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("consumer groups of " + topic + " at " + broker_addr +
                              ": body is not a JSON object");
  }
  if (auto it = j.find("groupList"); it != j.end() && it->is_array()) {
    for (const auto& g : *it) {
      if (g.is_string()) groups.insert(g.get<std::string>());
    }
  }
  return groups;
}

Status Admin::DeleteTopic(const std::string& topic, const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  for (const auto& addr : masters) FMQ_RETURN_IF_ERROR(DeleteTopicAt(addr, topic));
  return DeleteTopicInNameServers(topic, cluster);
}

Result<std::map<std::string, std::string>> Admin::TopicMasters(const std::string& topic) {
  FMQ_ASSIGN_OR_RETURN(auto route, GetTopicRoute(topic));
  std::map<std::string, std::string> out;
  for (const auto& b : route.broker_datas) {
    if (auto m = b.broker_addrs.find(0); m != b.broker_addrs.end()) out[b.broker_name] = m->second;
  }
  return out;
}

Result<model::TopicStatsTable> Admin::TopicStats(const std::string& topic) {
  FMQ_ASSIGN_OR_RETURN(auto masters, TopicMasters(topic));
  model::TopicStatsTable out;
  for (const auto& [name, addr] : masters) {
    FMQ_ASSIGN_OR_RETURN(auto stats, TopicStatsAt(addr, topic));
    out.merge(stats);
  }
  return out;
}

Result<model::TopicStatsTable> Admin::TopicStatsAt(const std::string& broker_addr, const std::string& topic) {
  protocol::TopicHeader h;
  h.topic = topic;
  FMQ_ASSIGN_OR_RETURN(
      auto resp, Call(broker_addr, internal::MakeRequest(rq::kGetTopicStatsInfo, h), "topic stats " + topic));
  return model::DecodeTopicStatsTable(resp.body);
}

Result<std::map<std::string, int64_t>> Admin::TopicProducersAt(const std::string& broker_addr,
                                                               const std::string& topic) {
  RemotingCommand req = RemotingCommand::Request(rq::kTopicProducers, 0);
  req.ext_fields["topic"] = topic;
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, std::move(req), "producer groups of " + topic));
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("producerGroups") ||
      !j["producerGroups"].is_object()) {
    return Status::Corruption("producer groups of " + topic + " at " + broker_addr + ": unexpected answer " +
                              resp.body);
  }
  std::map<std::string, int64_t> out;
  for (const auto& [group, at] : j["producerGroups"].items()) {
    out[group] = at.is_number_integer() ? at.get<int64_t>() : 0;
  }
  return out;
}

Result<model::ConsumeStats> Admin::GetConsumeStats(const std::string& group, const std::string& topic) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(""));
  protocol::ConsumerGroupHeader h;
  h.consumer_group = group;
  if (!topic.empty()) h.topic = topic;
  model::ConsumeStats out;
  Status last;
  bool any = false;
  for (const auto& addr : masters) {
    auto resp = Call(addr, internal::MakeRequest(rq::kGetConsumeStats, h), "consume stats of " + group);
    if (!resp.ok()) {
      last = resp.status();
      continue;
    }
    FMQ_ASSIGN_OR_RETURN(auto stats, model::DecodeConsumeStats(resp->body));
    any = true;
    out.consume_tps += stats.consume_tps;
    out.offset_table.merge(stats.offset_table);
  }
  if (!any) return last.ok() ? Status::NotFound("no broker knows group " + group) : last;
  return out;
}

Result<std::map<std::string, std::string>> Admin::BrokerRuntimeInfo(const std::string& broker_addr) {
  FMQ_ASSIGN_OR_RETURN(
      auto resp, Call(broker_addr, RemotingCommand::Request(rq::kGetBrokerRuntimeInfo, 0), "runtime info"));
  return model::DecodeKvTable(resp.body);
}

Status Admin::UpdateBrokerConfig(const std::string& broker_addr,
                                 const std::map<std::string, std::string>& properties) {
  RemotingCommand req = RemotingCommand::Request(rq::kUpdateBrokerConfig, 0);
  for (const auto& [k, v] : properties) req.body += k + "=" + v + "\n";
  return Call(broker_addr, std::move(req), "update broker config").status();
}

Status Admin::UpdateAclAccount(const std::string& broker_addr, const acl::PlainAccessConfig& a) {
  protocol::CreateAccessConfigHeader h;
  h.access_key = a.access_key;
  h.secret_key = a.secret_key;
  h.white_remote_address = a.white_remote_address;
  h.admin = a.admin;
  h.default_topic_perm = a.default_topic_perm.empty() ? "DENY" : a.default_topic_perm;
  h.default_group_perm = a.default_group_perm.empty() ? "DENY" : a.default_group_perm;
  h.topic_perms = JoinStrings(a.topic_perms, ",");
  h.group_perms = JoinStrings(a.group_perms, ",");
  return Call(broker_addr, internal::MakeRequest(rq::kUpdateAndCreateAclConfig, h),
              "update ACL account " + a.access_key)
      .status();
}

Status Admin::DeleteAclAccount(const std::string& broker_addr, const std::string& access_key) {
  protocol::AccessKeyHeader h;
  h.access_key = access_key;
  auto resp = core_.remoting()->InvokeSync(broker_addr, internal::MakeRequest(rq::kDeleteAclConfig, h),
                                           core_.options().rpc_timeout);
  const std::string what = "delete ACL account " + access_key + " at " + broker_addr;
  if (!resp.ok()) return resp.status().WithContext(what);
  if (resp->code == rc::kSuccess) return Status::Ok();
  // FerryMQ and Apache both answer DELETE_ACL_CONFIG_FAILED for an unknown key; FerryMQ says which.
  if (resp->code == rc::kDeleteAclConfigFailed &&
      resp->remark.value_or("").find("no account has accessKey") != std::string::npos) {
    return Status::NotFound(what + ": no such account");
  }
  return internal::ResponseError(*resp, what);
}

Result<acl::PlainAclFile> Admin::GetAclConfig(const std::string& broker_addr) {
  FMQ_ASSIGN_OR_RETURN(
      RemotingCommand resp,
      Call(broker_addr, RemotingCommand::Request(rq::kGetBrokerClusterAclConfig, 0), "ACL accounts"));
  acl::PlainAclFile out;
  try {
    const auto j = nlohmann::json::parse(resp.body);
    auto text = [](const nlohmann::json& o, const char* k) {
      return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
    };
    auto list = [](const nlohmann::json& o, const char* k) {
      std::vector<std::string> v;
      if (o.contains(k) && o[k].is_array()) {
        for (const auto& e : o[k]) {
          if (e.is_string()) v.push_back(e.get<std::string>());
        }
      }
      return v;
    };
    out.global_white_remote_addresses = list(j, "globalWhiteAddrs");
    if (j.contains("plainAccessConfigs") && j["plainAccessConfigs"].is_array()) {
      for (const auto& a : j["plainAccessConfigs"]) {
        acl::PlainAccessConfig c;
        c.access_key = text(a, "accessKey");
        c.secret_key = text(a, "secretKey");
        c.white_remote_address = text(a, "whiteRemoteAddress");
        c.admin = a.contains("admin") && a["admin"].is_boolean() && a["admin"].get<bool>();
        c.default_topic_perm = text(a, "defaultTopicPerm");
        c.default_group_perm = text(a, "defaultGroupPerm");
        c.topic_perms = list(a, "topicPerms");
        c.group_perms = list(a, "groupPerms");
        out.accounts.push_back(std::move(c));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("ACL accounts at " + broker_addr + ": not JSON (" + e.what() + ")");
  }
  return out;
}

Result<model::ConsumerConnection> Admin::GetConsumerConnections(const std::string& group) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(""));
  protocol::ConsumerGroupHeader h;
  h.consumer_group = group;
  Status last;
  for (const auto& addr : masters) {
    auto resp = Call(addr, internal::MakeRequest(rq::kGetConsumerConnectionList, h),
                     "consumer connections of " + group);
    if (resp.ok()) return model::DecodeConsumerConnection(resp->body);
    last = resp.status();
  }
  return last;
}

Result<model::ConsumerConnection> Admin::GetConsumerConnectionsAt(const std::string& broker_addr,
                                                                  const std::string& group) {
  protocol::ConsumerGroupHeader h;
  h.consumer_group = group;
  const std::string what = "consumer connections of " + group + " at " + broker_addr;
  auto resp = core_.remoting()->InvokeSync(
      broker_addr, internal::MakeRequest(rq::kGetConsumerConnectionList, h), core_.options().rpc_timeout);
  if (!resp.ok()) return resp.status().WithContext(what);
  if (resp->code == rc::kConsumerNotOnline) return model::ConsumerConnection{};
  if (resp->code != rc::kSuccess) return internal::ResponseError(*resp, what);
  return model::DecodeConsumerConnection(resp->body);
}

Result<model::ConsumeStats> Admin::GetConsumeStatsAt(const std::string& broker_addr,
                                                     const std::string& group) {
  protocol::ConsumerGroupHeader h;
  h.consumer_group = group;
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, internal::MakeRequest(rq::kGetConsumeStats, h),
                                       "consume stats of " + group));
  return model::DecodeConsumeStats(resp.body);
}

Status Admin::CreateSubscriptionGroup(const model::SubscriptionGroupConfig& config,
                                      const std::string& cluster) {
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config.group_name));
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  for (const auto& addr : masters) FMQ_RETURN_IF_ERROR(CreateSubscriptionGroupAt(addr, config));
  return Status::Ok();
}

Status Admin::CreateSubscriptionGroupAt(const std::string& broker_addr,
                                        const model::SubscriptionGroupConfig& config) {
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config.group_name));
  RemotingCommand req = RemotingCommand::Request(rq::kUpdateAndCreateSubscriptionGroup, 0);
  req.body = model::EncodeSubscriptionGroupConfig(config);
  return Call(broker_addr, std::move(req), "create group " + config.group_name).status();
}

Result<std::map<std::string, model::SubscriptionGroupConfig>> Admin::GetAllSubscriptionGroupConfig(
    const std::string& broker_addr) {
  FMQ_ASSIGN_OR_RETURN(
      auto resp,
      Call(broker_addr, RemotingCommand::Request(rq::kGetAllSubscriptionGroupConfig, 0), "list groups"));
  FMQ_ASSIGN_OR_RETURN(auto wrapper, model::DecodeSubscriptionGroupWrapper(resp.body));
  return std::move(wrapper.subscription_group_table);
}

Status Admin::DeleteSubscriptionGroupAt(const std::string& broker_addr, const std::string& group,
                                        bool remove_offsets) {
  protocol::DeleteSubscriptionGroupHeader h;
  h.group_name = group;
  h.remove_offset = remove_offsets;
  return Call(broker_addr, internal::MakeRequest(rq::kDeleteSubscriptionGroup, h), "delete group " + group)
      .status();
}

Status Admin::DeleteSubscriptionGroup(const std::string& group, const std::string& cluster,
                                      bool remove_offsets) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  for (const auto& addr : masters)
    FMQ_RETURN_IF_ERROR(DeleteSubscriptionGroupAt(addr, group, remove_offsets));
  return Status::Ok();
}

Result<int64_t> ResetTimestampOf(std::string_view to, int64_t now_ms) {
  if (to == "earliest") return int64_t{0};
  if (to == "latest") return int64_t{-1};
  if (to == "now") return now_ms;
  int64_t millis = 0;
  auto [p, ec] = std::from_chars(to.data(), to.data() + to.size(), millis);
  if (ec == std::errc() && p == to.data() + to.size() && millis >= 0) return millis;
  if (auto micros = ParseRfc3339Micros(to); micros.ok()) return *micros / 1000;
  return Status::InvalidArgument(
      "a reset target must be earliest, latest, now, an RFC 3339 time (2026-12-04T10:00:00Z) or Unix "
      "milliseconds, got '" +
      std::string(to) + "'");
}

Result<model::ResetOffsetTable> Admin::ResetOffsetByTime(const std::string& topic, const std::string& group,
                                                         int64_t timestamp_ms, bool force) {
  FMQ_ASSIGN_OR_RETURN(auto masters, TopicMasters(topic));
  protocol::ResetOffsetHeader h;
  h.topic = topic;
  h.group = group;
  h.timestamp = timestamp_ms;
  h.is_force = force;
  model::ResetOffsetTable out;
  for (const auto& [name, addr] : masters) {
    FMQ_ASSIGN_OR_RETURN(auto resp, Call(addr, internal::MakeRequest(rq::kInvokeBrokerToResetOffset, h),
                                         "reset offsets of " + group + " on " + topic));
    FMQ_ASSIGN_OR_RETURN(auto table, model::DecodeResetOffsetBody(resp.body));
    out.merge(table);
  }
  return out;
}

Result<StatsSums> Admin::BrokerStatsAt(const std::string& broker_addr, const std::string& name,
                                       const std::string& key) {
  RemotingCommand req = RemotingCommand::Request(rq::kViewBrokerStatsData, 0);
  req.ext_fields["statsName"] = name;
  req.ext_fields["statsKey"] = key;
  const std::string what = name + " of " + key + " at " + broker_addr;
  auto resp = core_.remoting()->InvokeSync(broker_addr, std::move(req), core_.options().rpc_timeout);
  if (!resp.ok()) return resp.status().WithContext(what);
  // "The stats <NAME> <key> not exist": nothing counted (RocketMQ answers so, as does FerryMQ).
  if (resp->code != rc::kSuccess) {
    if (resp->remark.value_or("").find("not exist") != std::string::npos) return StatsSums{};
    return internal::ResponseError(*resp, what);
  }
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  StatsSums out;
  for (auto [field, into] :
       {std::pair{"statsMinute", &out.minute}, {"statsHour", &out.hour}, {"statsDay", &out.day}}) {
    if (j.is_discarded() || !j.is_object() || !j.contains(field) || !j[field].is_object() ||
        !j[field].contains("sum") || !j[field]["sum"].is_number()) {
      return Status::Corruption(what + ": unexpected answer " + resp->body);
    }
    *into = j[field]["sum"].get<int64_t>();
  }
  return out;
}

Result<int64_t> Admin::TopicPutsLastMinute(const std::string& topic) {
  FMQ_ASSIGN_OR_RETURN(auto masters, TopicMasters(topic));
  int64_t total = 0;
  for (const auto& [name, addr] : masters) {
    FMQ_ASSIGN_OR_RETURN(StatsSums sums, BrokerStatsAt(addr, model::stats_item::kTopicPutNums, topic));
    total += sums.minute;
  }
  return total;
}

Result<model::ConsumerRunningInfo> Admin::ConsumerRunningInfoAt(const std::string& broker_addr,
                                                                const std::string& group,
                                                                const std::string& client_id) {
  RemotingCommand req = RemotingCommand::Request(rq::kGetConsumerRunningInfo, 0);
  req.ext_fields["consumerGroup"] = group;
  req.ext_fields["clientId"] = client_id;
  req.ext_fields["jstackEnable"] = "false";
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, std::move(req), "running info of " + client_id));
  return model::DecodeConsumerRunningInfo(resp.body);
}

Result<std::set<std::string>> Admin::GetSubscriptionGroups(const std::string& cluster) {
  FMQ_ASSIGN_OR_RETURN(auto masters, MasterAddrs(cluster));
  std::set<std::string> out;
  for (const auto& addr : masters) {
    FMQ_ASSIGN_OR_RETURN(auto table, GetAllSubscriptionGroupConfig(addr));
    for (const auto& [name, _] : table) out.insert(name);
  }
  return out;
}

Result<MessageExt> Admin::ViewMessage(const std::string& offset_msg_id) {
  FMQ_ASSIGN_OR_RETURN(auto id, model::DecodeOffsetMessageId(offset_msg_id));
  const std::string addr = id.store_host.ToString();
  protocol::ViewMessageHeader h;
  h.offset = id.offset.value();
  FMQ_ASSIGN_OR_RETURN(
      auto resp, Call(addr, internal::MakeRequest(rq::kViewMessageById, h), "view message " + offset_msg_id));
  FMQ_ASSIGN_OR_RETURN(
      auto msgs, DecodeMessages({reinterpret_cast<const uint8_t*>(resp.body.data()), resp.body.size()}, ""));
  if (msgs.empty()) return Status::NotFound("no message at offset " + std::to_string(h.offset));
  return std::move(msgs.front());
}

Result<std::vector<MessageExt>> Admin::QueryMessageByKey(const std::string& topic, const std::string& key,
                                                         int32_t max, int64_t begin_ms, int64_t end_ms) {
  FMQ_ASSIGN_OR_RETURN(auto masters, TopicMasters(topic));
  protocol::QueryMessageHeader h;
  h.topic = topic;
  h.key = key;
  h.max_num = max;
  h.begin_timestamp = begin_ms;
  h.end_timestamp = end_ms;
  std::vector<MessageExt> out;
  for (const auto& [name, addr] : masters) {
    auto resp = core_.remoting()->InvokeSync(addr, internal::MakeRequest(rq::kQueryMessage, h),
                                             core_.options().rpc_timeout);
    if (!resp.ok()) return resp.status().WithContext("query " + topic + " by key at " + addr);
    if (resp->code == rc::kQueryNotFound) continue;
    if (resp->code != rc::kSuccess) return internal::ResponseError(*resp, "query " + topic + " by key");
    FMQ_ASSIGN_OR_RETURN(
        auto msgs,
        DecodeMessages({reinterpret_cast<const uint8_t*>(resp->body.data()), resp->body.size()}, name));
    for (auto& m : msgs) out.push_back(std::move(m));
  }
  return out;
}

Result<model::HaStatusBody> Admin::HaStatus(const std::string& broker_addr) {
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, RemotingCommand::Request(rq::kHaStatus, 0), "HA status"));
  return model::DecodeHaStatus(resp.body);
}

Result<model::HaStatusBody> Admin::HaFence(const std::string& broker_addr, int32_t epoch) {
  protocol::HaEpochHeader h;
  h.epoch = epoch;
  FMQ_ASSIGN_OR_RETURN(auto resp, Call(broker_addr, internal::MakeRequest(rq::kHaFence, h),
                                       "fence at epoch " + std::to_string(epoch)));
  return model::DecodeHaStatus(resp.body);
}

Status Admin::HaPromote(const std::string& broker_addr, int32_t epoch, const std::string& role) {
  protocol::HaEpochHeader h;
  h.epoch = epoch;
  if (!role.empty()) h.broker_role = role;
  return Call(broker_addr, internal::MakeRequest(rq::kHaPromote, h),
              "promote at epoch " + std::to_string(epoch))
      .status();
}

Status Admin::HaBecomeSlave(const std::string& broker_addr, const std::string& master_addr,
                            const std::string& master_ha_addr, int32_t epoch, int64_t broker_id) {
  protocol::HaBecomeSlaveHeader h{master_addr, master_ha_addr, epoch, broker_id};
  return Call(broker_addr, internal::MakeRequest(rq::kHaBecomeSlave, h), "follow master " + master_addr)
      .status();
}

}  // namespace fmq::client
