#include "broker/model/heartbeat.h"

#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/base/java_hash.h"
#include "broker/model/internal/json_util.h"

namespace fmq::model {
namespace {

using internal::StrOf;
using nlohmann::json;

using internal::kConsumeFromWhereNames;
using internal::kConsumeTypeNames;
using internal::kMessageModelNames;

// An enum given by name or by ordinal; `fallback` when absent. Error for an unknown name or ordinal.
template <size_t N>
Result<int> EnumOf(const json& j, const char* key, const std::array<const char*, N>& names, int fallback) {
  const int v = internal::EnumIndexOf(j, key, names, fallback);
  if (v >= 0) return v;
  return Status::InvalidArgument(std::string("heartbeat: '") + key + "' has the unknown value " +
                                 j.find(key)->dump());
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
      FMQ_ASSIGN_OR_RETURN(int type, EnumOf(cd, "consumeType", kConsumeTypeNames, 1));
      FMQ_ASSIGN_OR_RETURN(int model, EnumOf(cd, "messageModel", kMessageModelNames, 1));
      FMQ_ASSIGN_OR_RETURN(int from, EnumOf(cd, "consumeFromWhere", kConsumeFromWhereNames, 0));
      d.consume_type = static_cast<ConsumeType>(type);
      d.message_model = static_cast<MessageModel>(model);
      d.consume_from_where = static_cast<ConsumeFromWhere>(from);
      if (auto u = cd.find("unitMode"); u != cd.end() && u->is_boolean()) d.unit_mode = u->get<bool>();
      if (auto subs = cd.find("subscriptionDataSet"); subs != cd.end() && subs->is_array()) {
        for (const auto& sj : *subs) {
          if (!sj.is_object()) continue;
          SubscriptionData s = internal::SubscriptionOf(sj);
          if (s.topic.empty()) continue;
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
    for (const auto& s : c.subscriptions) subs.push_back(internal::SubscriptionJson(s));
    consumers.push_back(
        {{"consumeFromWhere", kConsumeFromWhereNames[static_cast<size_t>(c.consume_from_where)]},
         {"consumeType", kConsumeTypeNames[static_cast<size_t>(c.consume_type)]},
         {"groupName", c.group_name},
         {"messageModel", kMessageModelNames[static_cast<size_t>(c.message_model)]},
         {"subscriptionDataSet", subs},
         {"unitMode", c.unit_mode}});
  }
  return json({{"clientID", data.client_id}, {"consumerDataSet", consumers}, {"producerDataSet", producers}})
      .dump();
}

namespace internal {

json SubscriptionJson(const SubscriptionData& s) {
  return {{"classFilterMode", s.class_filter_mode},
          {"codeSet", s.code_set},
          {"expressionType", s.expression_type},
          {"subString", s.sub_string},
          {"subVersion", s.sub_version},
          {"tagsSet", s.tags_set},
          {"topic", s.topic}};
}

SubscriptionData SubscriptionOf(const json& sj) {
  SubscriptionData s;
  s.topic = StrOf(sj, "topic");
  s.sub_string = StrOf(sj, "subString", "*");
  s.sub_version = IntOf<int64_t>(sj, "subVersion", 0);
  s.expression_type = StrOf(sj, "expressionType", "TAG");
  s.class_filter_mode = BoolOf(sj, "classFilterMode", false);
  if (s.expression_type == "TAG") ParseTagExpression(s.sub_string, &s.tags_set, &s.code_set);
  return s;
}

}  // namespace internal

std::string_view ConsumeTypeName(ConsumeType t) { return kConsumeTypeNames[static_cast<size_t>(t)]; }
std::string_view MessageModelName(MessageModel m) { return kMessageModelNames[static_cast<size_t>(m)]; }
std::string_view ConsumeFromWhereName(ConsumeFromWhere w) {
  return kConsumeFromWhereNames[static_cast<size_t>(w)];
}

}  // namespace fmq::model
