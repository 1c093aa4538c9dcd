#include "broker/model/heartbeat.h"

#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/base/java_hash.h"

namespace fmq::model {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 2> kConsumeTypes = {"CONSUME_ACTIVELY", "CONSUME_PASSIVELY"};
constexpr std::array<const char*, 2> kMessageModels = {"BROADCASTING", "CLUSTERING"};
constexpr std::array<const char*, 6> kFromWhere = {
    "CONSUME_FROM_LAST_OFFSET",  "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
    "CONSUME_FROM_MIN_OFFSET",   "CONSUME_FROM_MAX_OFFSET",
    "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP"};

// An enum given by name or by ordinal; `fallback` when absent. Error for an unknown name or ordinal.
template <size_t N>
Result<int> EnumOf(const json& j, const char* key, const std::array<const char*, N>& names, int fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    if (v >= 0 && static_cast<size_t>(v) < N) return static_cast<int>(v);
  } else if (it->is_string()) {
    for (size_t i = 0; i < N; ++i) {
      if (it->get<std::string>() == names[i]) return static_cast<int>(i);
    }
  }
  return Status::InvalidArgument(std::string("heartbeat: '") + key + "' has the unknown value " + it->dump());
}

int64_t Int64Of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    int64_t v = 0;
    const std::string s = it->get<std::string>();
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return 0;
}

std::string StrOf(const json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

void ParseTagExpression(const std::string& expression, std::set<std::string>* tags,
                        std::set<int32_t>* codes) {
  tags->clear();
  codes->clear();
  if (expression.empty() || expression == "*") return;
  size_t start = 0;
  while (start <= expression.size()) {
    size_t bar = expression.find("||", start);
    std::string tag = expression.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    const auto b = tag.find_first_not_of(" \t");
    const auto e = tag.find_last_not_of(" \t");
    if (b != std::string::npos) {
      tag = tag.substr(b, e - b + 1);
      tags->insert(tag);
      codes->insert(JavaStringHashCode(tag));
    }
    if (bar == std::string::npos) break;
    start = bar + 2;
  }
}

Result<HeartbeatData> DecodeHeartbeat(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("heartbeat body is not a JSON object");
  HeartbeatData hb;
  hb.client_id = StrOf(j, "clientID");
  if (hb.client_id.empty()) return Status::InvalidArgument("heartbeat has no clientID");
  if (auto p = j.find("producerDataSet"); p != j.end() && p->is_array()) {
    for (const auto& pd : *p) {
      if (pd.is_object() && !StrOf(pd, "groupName").empty())
        hb.producer_groups.push_back(StrOf(pd, "groupName"));
    }
  }
  if (auto c = j.find("consumerDataSet"); c != j.end() && c->is_array()) {
    for (const auto& cd : *c) {
      if (!cd.is_object()) continue;
      ConsumerData d;
      d.group_name = StrOf(cd, "groupName");
      if (d.group_name.empty()) return Status::InvalidArgument("heartbeat consumer data has no groupName");
      FMQ_ASSIGN_OR_RETURN(int type, EnumOf(cd, "consumeType", kConsumeTypes, 1));
      FMQ_ASSIGN_OR_RETURN(int model, EnumOf(cd, "messageModel", kMessageModels, 1));
      FMQ_ASSIGN_OR_RETURN(int from, EnumOf(cd, "consumeFromWhere", kFromWhere, 0));
      d.consume_type = static_cast<ConsumeType>(type);
      d.message_model = static_cast<MessageModel>(model);
      d.consume_from_where = static_cast<ConsumeFromWhere>(from);
      if (auto u = cd.find("unitMode"); u != cd.end() && u->is_boolean()) d.unit_mode = u->get<bool>();
      if (auto subs = cd.find("subscriptionDataSet"); subs != cd.end() && subs->is_array()) {
        for (const auto& sj : *subs) {
          if (!sj.is_object()) continue;
          SubscriptionData s;
          s.topic = StrOf(sj, "topic");
          if (s.topic.empty()) continue;
          s.sub_string = StrOf(sj, "subString", "*");
          s.sub_version = Int64Of(sj, "subVersion");
          s.expression_type = StrOf(sj, "expressionType", "TAG");
          if (auto cf = sj.find("classFilterMode"); cf != sj.end() && cf->is_boolean()) {
            s.class_filter_mode = cf->get<bool>();
          }
          if (s.expression_type == "TAG") ParseTagExpression(s.sub_string, &s.tags_set, &s.code_set);
          d.subscriptions.push_back(std::move(s));
        }
      }
      hb.consumers.push_back(std::move(d));
    }
  }
  return hb;
}

std::string EncodeHeartbeat(const HeartbeatData& data) {
  json producers = json::array();
  for (const auto& g : data.producer_groups) producers.push_back({{"groupName", g}});
  json consumers = json::array();
  for (const auto& c : data.consumers) {
    json subs = json::array();
    for (const auto& s : c.subscriptions) {
      subs.push_back({{"classFilterMode", s.class_filter_mode},
                      {"codeSet", s.code_set},
                      {"expressionType", s.expression_type},
                      {"subString", s.sub_string},
                      {"subVersion", s.sub_version},
                      {"tagsSet", s.tags_set},
                      {"topic", s.topic}});
    }
    consumers.push_back({{"consumeFromWhere", kFromWhere[static_cast<size_t>(c.consume_from_where)]},
                         {"consumeType", kConsumeTypes[static_cast<size_t>(c.consume_type)]},
                         {"groupName", c.group_name},
                         {"messageModel", kMessageModels[static_cast<size_t>(c.message_model)]},
                         {"subscriptionDataSet", subs},
                         {"unitMode", c.unit_mode}});
  }
  return json({{"clientID", data.client_id}, {"consumerDataSet", consumers}, {"producerDataSet", producers}})
      .dump();
}

}  // namespace fmq::model
