#include "broker/model/admin_body.h"

#include <algorithm>
#include <cstdlib>

#include "broker/model/internal/json_util.h"

namespace fmq::model {
namespace {

using internal::BoolOf;
using internal::Dump;
using internal::IntOf;
using internal::json;
using internal::StrOf;

json MessageQueueJson(const MessageQueue& mq) {
  return {{"brokerName", mq.broker_name}, {"queueId", mq.queue_id}, {"topic", mq.topic}};
}

MessageQueue MessageQueueOf(const json& j) {
  return {StrOf(j, "topic"), StrOf(j, "brokerName"), IntOf<int32_t>(j, "queueId", 0)};
}

// Re-emits JSON with every object key as a JSON string (fastjson writes object and number keys bare).
class Normalizer {
 public:
  explicit Normalizer(std::string_view text) : s_(text) {}

  Result<std::string> Run() {
    FMQ_RETURN_IF_ERROR(Value(0));
    SkipSpace();
    if (i_ != s_.size()) return Error("trailing characters");
    return std::move(out_);
  }

 private:
  static constexpr int kMaxDepth = 64;

  Status Error(const char* what) const {
    return Status::InvalidArgument(std::string("JSON body: ") + what + " at byte " + std::to_string(i_));
  }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  Status Value(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    SkipSpace();
    if (i_ >= s_.size()) return Error("unexpected end");
    switch (s_[i_]) {
      case '{':
        return Object(depth);
      case '[':
        return Array(depth);
      case '"':
        return String();
      default:
        return Scalar();
    }
  }
  Status String() {
    const size_t b = i_++;
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    if (i_ >= s_.size()) return Error("unterminated string");
    ++i_;
    out_.append(s_.substr(b, i_ - b));
    return Status::Ok();
  }
  Status Scalar() {
    const size_t b = i_;
    while (i_ < s_.size() && std::string_view(",:}] \t\r\n").find(s_[i_]) == std::string_view::npos) ++i_;
    if (i_ == b) return Error("unexpected character");
    out_.append(s_.substr(b, i_ - b));
    return Status::Ok();
  }
  Status Array(int depth) {
    out_ += '[';
    ++i_;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      out_ += ']';
      return Status::Ok();
    }
    while (true) {
      FMQ_RETURN_IF_ERROR(Value(depth + 1));
      SkipSpace();
      if (i_ >= s_.size()) return Error("unterminated array");
      if (s_[i_] == ']') break;
      if (s_[i_] != ',') return Error("expected ',' in array");
      out_ += ',';
      ++i_;
    }
    ++i_;
    out_ += ']';
    return Status::Ok();
  }
  Status Object(int depth) {
    out_ += '{';
    ++i_;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      out_ += '}';
      return Status::Ok();
    }
    while (true) {
      SkipSpace();
      if (i_ >= s_.size()) return Error("unterminated object");
      if (s_[i_] == '"') {
        FMQ_RETURN_IF_ERROR(String());
      } else {
        std::string saved;
        saved.swap(out_);
        Status st = Value(depth + 1);
        saved.swap(out_);
        FMQ_RETURN_IF_ERROR(st);
        out_ += Dump(json(saved));  // the key's text, as a JSON string (invalid UTF-8 replaced)
      }
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != ':') return Error("expected ':' after a key");
      ++i_;
      out_ += ':';
      FMQ_RETURN_IF_ERROR(Value(depth + 1));
      SkipSpace();
      if (i_ >= s_.size()) return Error("unterminated object");
      if (s_[i_] == '}') break;
      if (s_[i_] != ',') return Error("expected ',' in object");
      out_ += ',';
      ++i_;
    }
    ++i_;
    out_ += '}';
    return Status::Ok();
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string out_;
};

// Parses a body that may use fastjson's non-standard keys.
Result<json> ParseLenient(std::string_view what, std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(std::string normal, NormalizeFastjson(text));
  return internal::ParseObject(what, normal);
}

// fastjson's form of a MessageQueue-keyed map: {<mq>:<value>,...}.
template <typename Map, typename ValueFn>
std::string MessageQueueMap(const Map& map, ValueFn value_json) {
  std::string out = "{";
  for (const auto& [mq, v] : map) {
    if (out.size() > 1) out += ',';
    out += Dump(MessageQueueJson(mq));
    out += ':';
    out += Dump(value_json(v));
  }
  out += '}';
  return out;
}

// Reads a MessageQueue-keyed map from a normalized body (keys are strings holding the queue's JSON).
template <typename V, typename ValueFn>
Result<std::map<MessageQueue, V>> MessageQueueMapOf(const json& j, ValueFn value_of) {
  std::map<MessageQueue, V> out;
  if (!j.is_object()) return out;
  for (const auto& [key, v] : j.items()) {
    json k = json::parse(key, nullptr, /*allow_exceptions=*/false);
    if (k.is_discarded() || !k.is_object())
      return Status::InvalidArgument("JSON body: a message queue key is not an object: " + key);
    out[MessageQueueOf(k)] = value_of(v);
  }
  return out;
}

json GroupJson(const SubscriptionGroupConfig& g) {
  return {{"brokerId", g.broker_id},
          {"consumeBroadcastEnable", g.consume_broadcast_enable},
          {"consumeEnable", g.consume_enable},
          {"consumeFromMinEnable", g.consume_from_min_enable},
          {"consumeMessageOrderly", g.consume_message_orderly},
          {"groupName", g.group_name},
          {"notifyConsumerIdsChangedEnable", g.notify_consumer_ids_changed_enable},
          {"retryMaxTimes", g.retry_max_times},
          {"retryQueueNums", g.retry_queue_nums},
          {"whichBrokerWhenConsumeSlowly", g.which_broker_when_consume_slowly}};
}

SubscriptionGroupConfig GroupOf(const json& j) {
  SubscriptionGroupConfig g;
  g.group_name = StrOf(j, "groupName");
  g.consume_enable = BoolOf(j, "consumeEnable", g.consume_enable);
  g.consume_from_min_enable = BoolOf(j, "consumeFromMinEnable", g.consume_from_min_enable);
  g.consume_broadcast_enable = BoolOf(j, "consumeBroadcastEnable", g.consume_broadcast_enable);
  g.retry_queue_nums = IntOf<int32_t>(j, "retryQueueNums", g.retry_queue_nums);
  g.retry_max_times = IntOf<int32_t>(j, "retryMaxTimes", g.retry_max_times);
  g.broker_id = IntOf<int64_t>(j, "brokerId", g.broker_id);
  g.which_broker_when_consume_slowly =
      IntOf<int64_t>(j, "whichBrokerWhenConsumeSlowly", g.which_broker_when_consume_slowly);
  g.notify_consumer_ids_changed_enable =
      BoolOf(j, "notifyConsumerIdsChangedEnable", g.notify_consumer_ids_changed_enable);
  g.consume_message_orderly = BoolOf(j, "consumeMessageOrderly", g.consume_message_orderly);
  return g;
}

json ConnectionsJson(const std::vector<ClientConnection>& conns) {
  json arr = json::array();
  for (const auto& c : conns) {
    arr.push_back({{"clientAddr", c.client_addr},
                   {"clientId", c.client_id},
                   {"language", c.language},
                   {"version", c.version}});
  }
  return arr;
}

std::vector<ClientConnection> ConnectionsOf(const json& j) {
  std::vector<ClientConnection> out;
  auto it = j.find("connectionSet");
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& c : *it) {
    if (!c.is_object()) continue;
    out.push_back({StrOf(c, "clientId"), StrOf(c, "clientAddr"), StrOf(c, "language"),
                   IntOf<int32_t>(c, "version", 0)});
  }
  return out;
}

}  // namespace

std::string EncodeMessageQueue(const MessageQueue& mq) { return Dump(MessageQueueJson(mq)); }

Result<std::string> NormalizeFastjson(std::string_view text) { return Normalizer(text).Run(); }

std::string EncodeSubscriptionGroupConfig(const SubscriptionGroupConfig& config) {
  return Dump(GroupJson(config));
}

Result<SubscriptionGroupConfig> DecodeSubscriptionGroupConfig(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("subscription group", text));
  SubscriptionGroupConfig g = GroupOf(j);
  if (g.group_name.empty()) return Status::InvalidArgument("subscription group body: groupName is missing");
  return g;
}

std::string EncodeSubscriptionGroupWrapper(const SubscriptionGroupWrapper& w) {
  json table = json::object();
  for (const auto& [name, g] : w.subscription_group_table) table[name] = GroupJson(g);
  return Dump(
      {{"dataVersion", {{"counter", w.data_version.counter}, {"timestamp", w.data_version.timestamp}}},
       {"subscriptionGroupTable", table}});
}

Result<SubscriptionGroupWrapper> DecodeSubscriptionGroupWrapper(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("subscription group table", text));
  SubscriptionGroupWrapper w;
  if (auto dv = j.find("dataVersion"); dv != j.end() && dv->is_object()) {
    w.data_version = {IntOf<int64_t>(*dv, "counter", 0), IntOf<int64_t>(*dv, "timestamp", 0)};
  }
  if (auto t = j.find("subscriptionGroupTable"); t != j.end() && t->is_object()) {
    for (const auto& [name, g] : t->items()) {
      if (!g.is_object()) continue;
      SubscriptionGroupConfig c = GroupOf(g);
      if (c.group_name.empty()) c.group_name = name;
      w.subscription_group_table[name] = c;
    }
  }
  return w;
}

std::string EncodeConsumerIdList(const std::vector<std::string>& ids) {
  return Dump({{"consumerIdList", ids}});
}

Result<std::vector<std::string>> DecodeConsumerIdList(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("consumer list", text));
  std::vector<std::string> out;
  if (auto it = j.find("consumerIdList"); it != j.end() && it->is_array()) {
    for (const auto& id : *it) {
      if (id.is_string()) out.push_back(id.get<std::string>());
    }
  }
  return out;
}

std::string EncodeLockBatchRequest(const LockBatchRequest& body) {
  json mqs = json::array();
  for (const auto& mq : body.mq_set) mqs.push_back(MessageQueueJson(mq));
  return Dump({{"clientId", body.client_id},
               {"consumerGroup", body.consumer_group},
               {"mqSet", mqs},
               {"onlyThisBroker", body.only_this_broker}});
}

namespace {
std::set<MessageQueue> MessageQueueSetOf(const json& j, const char* key) {
  std::set<MessageQueue> out;
  if (auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const auto& mq : *it) {
      if (mq.is_object()) out.insert(MessageQueueOf(mq));
    }
  }
  return out;
}
}  // namespace

Result<LockBatchRequest> DecodeLockBatchRequest(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("lock batch", text));
  LockBatchRequest body;
  body.consumer_group = StrOf(j, "consumerGroup");
  body.client_id = StrOf(j, "clientId");
  body.only_this_broker = BoolOf(j, "onlyThisBroker", false);
  body.mq_set = MessageQueueSetOf(j, "mqSet");
  if (body.consumer_group.empty() || body.client_id.empty())
    return Status::InvalidArgument("lock batch body: consumerGroup and clientId are required");
  return body;
}

std::string EncodeLockBatchResponse(const std::set<MessageQueue>& locked) {
  json mqs = json::array();
  for (const auto& mq : locked) mqs.push_back(MessageQueueJson(mq));
  return Dump({{"lockOKMQSet", mqs}});
}

Result<std::set<MessageQueue>> DecodeLockBatchResponse(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("lock batch response", text));
  return MessageQueueSetOf(j, "lockOKMQSet");
}

std::string EncodeKvTable(const std::map<std::string, std::string>& table) {
  return Dump({{"table", table}});
}

Result<std::map<std::string, std::string>> DecodeKvTable(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("kv table", text));
  std::map<std::string, std::string> out;
  if (auto t = j.find("table"); t != j.end() && t->is_object()) {
    for (const auto& [k, v] : t->items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string EncodeTopicStatsTable(const TopicStatsTable& table) {
  return "{\"offsetTable\":" +
         MessageQueueMap(table,
                         [](const TopicOffset& o) {
                           return json{{"lastUpdateTimestamp", o.last_update_timestamp},
                                       {"maxOffset", o.max_offset},
                                       {"minOffset", o.min_offset}};
                         }) +
         "}";
}

Result<TopicStatsTable> DecodeTopicStatsTable(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, ParseLenient("topic stats", text));
  auto it = j.find("offsetTable");
  if (it == j.end()) return TopicStatsTable{};
  return MessageQueueMapOf<TopicOffset>(*it, [](const json& v) {
    return TopicOffset{IntOf<int64_t>(v, "minOffset", 0), IntOf<int64_t>(v, "maxOffset", 0),
                       IntOf<int64_t>(v, "lastUpdateTimestamp", 0)};
  });
}

std::string EncodeConsumeStats(const ConsumeStats& stats) {
  return "{\"consumeTps\":" + Dump(json(stats.consume_tps)) + ",\"offsetTable\":" +
         MessageQueueMap(stats.offset_table,
                         [](const OffsetWrapper& o) {
                           return json{{"brokerOffset", o.broker_offset},
                                       {"consumerOffset", o.consumer_offset},
                                       {"lastTimestamp", o.last_timestamp}};
                         }) +
         "}";
}

Result<ConsumeStats> DecodeConsumeStats(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, ParseLenient("consume stats", text));
  ConsumeStats stats;
  if (auto tps = j.find("consumeTps"); tps != j.end() && tps->is_number())
    stats.consume_tps = tps->get<double>();
  if (auto it = j.find("offsetTable"); it != j.end()) {
    FMQ_ASSIGN_OR_RETURN(stats.offset_table, MessageQueueMapOf<OffsetWrapper>(*it, [](const json& v) {
                           return OffsetWrapper{IntOf<int64_t>(v, "brokerOffset", 0),
                                                IntOf<int64_t>(v, "consumerOffset", 0),
                                                IntOf<int64_t>(v, "lastTimestamp", 0)};
                         }));
  }
  return stats;
}

std::string EncodeConsumerConnection(const ConsumerConnection& c) {
  json subs = json::object();
  for (const auto& [topic, s] : c.subscription_table) subs[topic] = internal::SubscriptionJson(s);
  return Dump({{"connectionSet", ConnectionsJson(c.connection_set)},
               {"consumeFromWhere", ConsumeFromWhereName(c.consume_from_where)},
               {"consumeType", ConsumeTypeName(c.consume_type)},
               {"messageModel", MessageModelName(c.message_model)},
               {"subscriptionTable", subs}});
}

Result<ConsumerConnection> DecodeConsumerConnection(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("consumer connection", text));
  ConsumerConnection c;
  c.connection_set = ConnectionsOf(j);
  if (auto t = j.find("subscriptionTable"); t != j.end() && t->is_object()) {
    for (const auto& [topic, s] : t->items()) {
      if (s.is_object()) c.subscription_table[topic] = internal::SubscriptionOf(s);
    }
  }
  c.consume_type = static_cast<ConsumeType>(
      std::max(0, internal::EnumIndexOf(j, "consumeType", internal::kConsumeTypeNames, 1)));
  c.message_model = static_cast<MessageModel>(
      std::max(0, internal::EnumIndexOf(j, "messageModel", internal::kMessageModelNames, 1)));
  c.consume_from_where = static_cast<ConsumeFromWhere>(
      std::max(0, internal::EnumIndexOf(j, "consumeFromWhere", internal::kConsumeFromWhereNames, 0)));
  return c;
}

namespace {
double DoubleOf(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) return std::strtod(it->get<std::string>().c_str(), nullptr);
  return 0;
}
}  // namespace

bool ConsumerRunningInfo::push() const {
  auto it = properties.find("PROP_CONSUME_TYPE");
  return it != properties.end() && it->second == "CONSUME_PASSIVELY";
}

bool ConsumerRunningInfo::orderly() const {
  auto it = properties.find("PROP_CONSUMEORDERLY");
  return it != properties.end() && it->second == "true";
}

std::string EncodeConsumerRunningInfo(const ConsumerRunningInfo& info) {
  json subs = json::array();
  for (const auto& sub : info.subscriptions) subs.push_back(internal::SubscriptionJson(sub));
  json status = json::object();
  for (const auto& [topic, st] : info.status_table) {
    status[topic] = {{"consumeFailedMsgs", st.consume_failed_msgs},
                     {"consumeFailedTPS", st.consume_failed_tps},
                     {"consumeOKTPS", st.consume_ok_tps},
                     {"consumeRT", st.consume_rt},
                     {"pullRT", st.pull_rt},
                     {"pullTPS", st.pull_tps}};
  }
  return "{\"jstack\":\"\",\"mqTable\":" +
         MessageQueueMap(info.mq_table,
                         [](const ProcessQueueInfo& q) {
                           return json{{"cachedMsgCount", q.cached_msg_count},
                                       {"cachedMsgSizeInMiB", q.cached_msg_size_in_mib},
                                       {"commitOffset", q.commit_offset},
                                       {"droped", q.dropped},
                                       {"lastConsumeTimestamp", q.last_consume_timestamp},
                                       {"lastPullTimestamp", q.last_pull_timestamp},
                                       {"locked", q.locked}};
                         }) +
         ",\"properties\":" + Dump(json(info.properties)) + ",\"statusTable\":" + Dump(status) +
         ",\"subscriptionSet\":" + Dump(subs) + "}";
}

Result<ConsumerRunningInfo> DecodeConsumerRunningInfo(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, ParseLenient("consumer running info", text));
  ConsumerRunningInfo info;
  if (auto p = j.find("properties"); p != j.end() && p->is_object()) {
    for (const auto& [k, v] : p->items()) {
      info.properties[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  if (auto subs = j.find("subscriptionSet"); subs != j.end() && subs->is_array()) {
    for (const auto& s : *subs) {
      if (s.is_object()) info.subscriptions.push_back(internal::SubscriptionOf(s));
    }
  }
  if (auto t = j.find("mqTable"); t != j.end()) {
    FMQ_ASSIGN_OR_RETURN(info.mq_table, MessageQueueMapOf<ProcessQueueInfo>(*t, [](const json& v) {
                           ProcessQueueInfo q;
                           q.commit_offset = IntOf<int64_t>(v, "commitOffset", 0);
                           q.cached_msg_count = IntOf<int32_t>(v, "cachedMsgCount", 0);
                           q.cached_msg_size_in_mib = IntOf<int32_t>(v, "cachedMsgSizeInMiB", 0);
                           q.locked = BoolOf(v, "locked", false);
                           q.dropped = BoolOf(v, "droped", false);
                           q.last_pull_timestamp = IntOf<int64_t>(v, "lastPullTimestamp", 0);
                           q.last_consume_timestamp = IntOf<int64_t>(v, "lastConsumeTimestamp", 0);
                           return q;
                         }));
  }
  if (auto t = j.find("statusTable"); t != j.end() && t->is_object()) {
    for (const auto& [topic, v] : t->items()) {
      if (!v.is_object()) continue;
      info.status_table[topic] = {DoubleOf(v, "pullRT"),           DoubleOf(v, "pullTPS"),
                                  DoubleOf(v, "consumeRT"),        DoubleOf(v, "consumeOKTPS"),
                                  DoubleOf(v, "consumeFailedTPS"), IntOf<int64_t>(v, "consumeFailedMsgs", 0)};
    }
  }
  return info;
}

std::string EncodeProducerConnection(const std::vector<ClientConnection>& connections) {
  return Dump({{"connectionSet", ConnectionsJson(connections)}});
}

Result<std::vector<ClientConnection>> DecodeProducerConnection(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, internal::ParseObject("producer connection", text));
  return ConnectionsOf(j);
}

std::string EncodeResetOffsetBody(const ResetOffsetTable& table) {
  return "{\"offsetTable\":" + MessageQueueMap(table, [](int64_t offset) { return json(offset); }) + "}";
}

std::string EncodeResetOffsetBodyForC(const ResetOffsetTable& table) {
  json list = json::array();
  for (const auto& [mq, offset] : table) {
    json e = MessageQueueJson(mq);
    e["offset"] = offset;
    list.push_back(std::move(e));
  }
  return Dump({{"offsetTable", list}});
}

Result<ResetOffsetTable> DecodeResetOffsetBody(std::string_view text) {
  FMQ_ASSIGN_OR_RETURN(json j, ParseLenient("reset offset body", text));
  auto it = j.find("offsetTable");
  if (it == j.end()) return ResetOffsetTable{};
  if (it->is_array()) {
    ResetOffsetTable out;
    for (const auto& e : *it) {
      if (!e.is_object()) return Status::InvalidArgument("reset offset body: an entry is not an object");
      MessageQueue mq = MessageQueueOf(e);
      out[mq] = IntOf<int64_t>(e, "offset", 0);
    }
    return out;
  }
  return MessageQueueMapOf<int64_t>(
      *it, [](const json& v) { return v.is_number_integer() ? v.get<int64_t>() : int64_t{0}; });
}

}  // namespace fmq::model
