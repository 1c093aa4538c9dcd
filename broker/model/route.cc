#include "broker/model/route.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/model/internal/json_util.h"

namespace fmq::model {
namespace {

using nlohmann::json;

using internal::IntOf;
using internal::StrOf;

json ToJson(const QueueData& q) {
  return {{"brokerName", q.broker_name},
          {"perm", q.perm},
          {"readQueueNums", q.read_queue_nums},
          {"topicSysFlag", q.topic_sys_flag},
          {"writeQueueNums", q.write_queue_nums}};
}

json ToJson(const BrokerData& b) {
  json addrs = json::object();
  for (const auto& [id, addr] : b.broker_addrs) addrs[std::to_string(id)] = addr;
  return {{"brokerAddrs", addrs}, {"brokerName", b.broker_name}, {"cluster", b.cluster}};
}

BrokerData BrokerDataOf(const json& j) {
  BrokerData b;
  b.cluster = StrOf(j, "cluster");
  b.broker_name = StrOf(j, "brokerName");
  if (auto it = j.find("brokerAddrs"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      int64_t id = 0;
      auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), id);
      if (ec == std::errc() && p == k.data() + k.size() && v.is_string())
        b.broker_addrs[id] = v.get<std::string>();
    }
  }
  return b;
}

json ToJson(const TopicConfig& t) {
  return {{"order", t.order},
          {"perm", t.perm},
          {"readQueueNums", t.read_queue_nums},
          {"topicFilterType", t.topic_filter_type},
          {"topicName", t.topic_name},
          {"topicSysFlag", t.topic_sys_flag},
          {"writeQueueNums", t.write_queue_nums}};
}

Result<json> Parse(std::string_view what, std::string_view text) { return internal::ParseObject(what, text); }
using internal::Dump;

}  // namespace

std::string EncodeTopicRouteData(const TopicRouteData& route) {
  json j;
  j["brokerDatas"] = json::array();
  for (const auto& b : route.broker_datas) j["brokerDatas"].push_back(ToJson(b));
  j["filterServerTable"] = json::object();
  if (!route.order_topic_conf.empty()) j["orderTopicConf"] = route.order_topic_conf;
  j["queueDatas"] = json::array();
  for (const auto& q : route.queue_datas) j["queueDatas"].push_back(ToJson(q));
  return Dump(j);
}

Result<TopicRouteData> DecodeTopicRouteData(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, Parse("topic route", text));
  TopicRouteData r;
  r.order_topic_conf = StrOf(j, "orderTopicConf");
  if (auto it = j.find("queueDatas"); it != j.end() && it->is_array()) {
    for (const auto& q : *it) {
      if (!q.is_object()) continue;
      r.queue_datas.push_back({StrOf(q, "brokerName"), IntOf<int32_t>(q, "readQueueNums", 0),
                               IntOf<int32_t>(q, "writeQueueNums", 0), IntOf<int32_t>(q, "perm", 0),
                               IntOf<int32_t>(q, "topicSysFlag", 0)});
    }
  }
  if (auto it = j.find("brokerDatas"); it != j.end() && it->is_array()) {
    for (const auto& b : *it) {
      if (b.is_object()) r.broker_datas.push_back(BrokerDataOf(b));
    }
  }
  return r;
}

std::string EncodeClusterInfo(const ClusterInfo& info) {
  json brokers = json::object();
  for (const auto& [name, b] : info.broker_addr_table) brokers[name] = ToJson(b);
  json clusters = json::object();
  for (const auto& [name, set] : info.cluster_addr_table) clusters[name] = set;
  return Dump({{"brokerAddrTable", brokers}, {"clusterAddrTable", clusters}});
}

Result<ClusterInfo> DecodeClusterInfo(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, Parse("cluster info", text));
  ClusterInfo info;
  if (auto it = j.find("brokerAddrTable"); it != j.end() && it->is_object()) {
    for (const auto& [name, b] : it->items()) {
      if (b.is_object()) info.broker_addr_table[name] = BrokerDataOf(b);
    }
  }
  if (auto it = j.find("clusterAddrTable"); it != j.end() && it->is_object()) {
    for (const auto& [name, arr] : it->items()) {
      auto& set = info.cluster_addr_table[name];
      if (!arr.is_array()) continue;
      for (const auto& n : arr) {
        if (n.is_string()) set.insert(n.get<std::string>());
      }
    }
  }
  return info;
}

namespace {
json ToJson(const DataVersion& v) { return {{"counter", v.counter}, {"timestamp", v.timestamp}}; }

DataVersion DataVersionOf(const json& j) {
  return {IntOf<int64_t>(j, "counter", 0), IntOf<int64_t>(j, "timestamp", 0)};
}

json WrapperJson(const TopicConfigSerializeWrapper& w) {
  json table = json::object();
  for (const auto& [name, t] : w.topic_config_table) table[name] = ToJson(t);
  return {{"dataVersion", ToJson(w.data_version)}, {"topicConfigTable", table}};
}

TopicConfigSerializeWrapper WrapperOf(const json& wrapper) {
  TopicConfigSerializeWrapper body;
  if (auto dv = wrapper.find("dataVersion"); dv != wrapper.end() && dv->is_object()) {
    body.data_version = DataVersionOf(*dv);
  }
  if (auto table = wrapper.find("topicConfigTable"); table != wrapper.end() && table->is_object()) {
    for (const auto& [name, t] : table->items()) {
      if (!t.is_object()) continue;
      TopicConfig c;
      c.topic_name = StrOf(t, "topicName").empty() ? name : StrOf(t, "topicName");
      c.read_queue_nums = IntOf<int32_t>(t, "readQueueNums", c.read_queue_nums);
      c.write_queue_nums = IntOf<int32_t>(t, "writeQueueNums", c.write_queue_nums);
      c.perm = IntOf<int32_t>(t, "perm", c.perm);
      if (auto f = StrOf(t, "topicFilterType"); !f.empty()) c.topic_filter_type = f;
      c.topic_sys_flag = IntOf<int32_t>(t, "topicSysFlag", 0);
      if (auto o = t.find("order"); o != t.end() && o->is_boolean()) c.order = o->get<bool>();
      body.topic_config_table[name] = c;
    }
  }
  return body;
}
}  // namespace

std::string EncodeTopicConfigWrapper(const TopicConfigSerializeWrapper& wrapper) {
  return Dump(WrapperJson(wrapper));
}

Result<TopicConfigSerializeWrapper> DecodeTopicConfigWrapper(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, Parse("topic config", text));
  return WrapperOf(j);
}

std::string EncodeRegisterBrokerBody(const RegisterBrokerBody& body) {
  return Dump({{"filterServerList", json::array()}, {"topicConfigSerializeWrapper", WrapperJson(body)}});
}

Result<RegisterBrokerBody> DecodeRegisterBrokerBody(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, Parse("register broker", text));
  auto wrapper = j.find("topicConfigSerializeWrapper");
  if (wrapper == j.end() || !wrapper->is_object()) return RegisterBrokerBody{};  // a broker without topics
  return WrapperOf(*wrapper);
}

std::string EncodeTopicList(const std::set<std::string>& topics) { return Dump({{"topicList", topics}}); }

std::string EncodeDataVersion(const DataVersion& version) { return ToJson(version).dump(); }

Result<DataVersion> DecodeDataVersion(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, Parse("data version", text));
  return DataVersionOf(j);
}

Result<std::set<std::string>> DecodeTopicList(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, Parse("topic list", text));
  std::set<std::string> out;
  if (auto it = j.find("topicList"); it != j.end() && it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) out.insert(t.get<std::string>());
    }
  }
  return out;
}

}  // namespace fmq::model
