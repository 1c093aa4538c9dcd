#include "broker/server/admin_processor.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"
#include "broker/base/properties.h"
#include "broker/model/delay.h"
#include "broker/model/message.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/transaction_service.h"

namespace fmq::server {

namespace rc = protocol::response_code;
namespace code = protocol::request_code;
using protocol::RemotingCommand;

namespace {
RemotingCommand Error(int32_t c, std::string remark) { return RemotingCommand::Answer(c, std::move(remark)); }
RemotingCommand Ok(std::string body = "") {
  RemotingCommand r = RemotingCommand::Answer(rc::kSuccess);
  r.body = std::move(body);
  return r;
}
template <typename H>
Result<H> Header(const RemotingCommand& req) {
  return H::Spec().Decode(req.ext_fields);
}
}  // namespace

AdminProcessor::AdminProcessor(Deps deps) : d_(std::move(deps)) {}

void AdminProcessor::Handle(RemotingCommand request, net::Responder responder) {
  if (request.code == code::kConsumeMessageDirectly || request.code == code::kGetConsumerRunningInfo) {
    return CallConsumer(std::move(request), std::move(responder));
  }
  RemotingCommand resp;
  switch (request.code) {
    case code::kUpdateAndCreateTopic:
      resp = UpdateAndCreateTopic(request);
      break;
    case code::kDeleteTopicInBroker:
      resp = DeleteTopic(request);
      break;
    case code::kGetAllTopicConfig:
      resp = AllTopicConfig();
      break;
    case code::kUpdateAndCreateSubscriptionGroup:
      resp = UpdateAndCreateGroup(request);
      break;
    case code::kDeleteSubscriptionGroup:
      resp = DeleteGroup(request);
      break;
    case code::kGetAllSubscriptionGroupConfig:
      resp = AllGroupConfig();
      break;
    case code::kGetBrokerRuntimeInfo:
      resp = RuntimeInfo();
      break;
    case code::kGetTopicStatsInfo:
      resp = TopicStats(request);
      break;
    case code::kGetConsumeStats:
      resp = ConsumeStats(request);
      break;
    case code::kGetConsumerConnectionList:
      resp = ConsumerConnections(request);
      break;
    case code::kGetProducerConnectionList:
      resp = ProducerConnections(request);
      break;
    case code::kQueryTopicConsumeByWho:
      resp = TopicConsumedByWho(request);
      break;
    case code::kGetAllDelayOffset:
      // delayOffset.json's content: what a RocketMQ or FerryMQ slave copies.
      resp = Ok(model::EncodeDelayOffsetTable(d_.schedule ? d_.schedule->OffsetTable()
                                                          : std::map<int32_t, int64_t>{}));
      break;
    case code::kGetAllConsumerOffset:
      resp = AllConsumerOffsets();
      break;
    case code::kViewMessageById:
      resp = ViewMessageById(request);
      break;
    case code::kQueryMessage:
      resp = QueryMessage(request);
      break;
    case code::kInvokeBrokerToResetOffset:
      resp = ResetOffset(request);
      break;
    case code::kGetBrokerConfig:
      resp = GetBrokerConfig();
      break;
    case code::kViewBrokerStatsData:
      resp = BrokerStatsData(request);
      break;
    case code::kTopicProducers:
      resp = TopicProducers(request);
      break;
    case code::kUpdateBrokerConfig:
      resp = UpdateBrokerConfig(request);
      break;
    default:
      resp = Error(rc::kRequestCodeNotSupported,
                   "request code " + std::to_string(request.code) + " not supported");
  }
  responder.Send(std::move(resp));
}

RemotingCommand AdminProcessor::UpdateAndCreateTopic(const RemotingCommand& req) {
  auto h = Header<protocol::CreateTopicHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  if (d_.ha && !d_.ha->is_master())
    return Error(rc::kSystemError,
                 "Can't modify topic or subscription group from slave broker; ask its master");
  if (Status s = model::ValidateTopicName(h->topic); !s.ok())
    return Error(rc::kSystemError, std::string(s.message()));
  if (h->topic == d_.broker->cluster_name || h->topic == kAutoCreateTopicKey ||
      IsSendForbiddenTopic(h->topic)) {
    return Error(rc::kSystemError, "The topic[" + h->topic + "] is conflict with system reserved words.");
  }
  if (h->read_queue_nums < 0 || h->read_queue_nums > 1024 || h->write_queue_nums < 0 ||
      h->write_queue_nums > 1024 || h->read_queue_nums + h->write_queue_nums == 0) {
    return Error(rc::kSystemError, "readQueueNums and writeQueueNums must be 0..1024 and not both 0");
  }
  if (h->perm < 0 || h->perm > 15) return Error(rc::kSystemError, "perm must be 0..15");
  model::TopicConfig c;
  c.topic_name = h->topic;
  c.read_queue_nums = h->read_queue_nums;
  c.write_queue_nums = h->write_queue_nums;
  c.perm = h->perm;
  c.topic_filter_type = h->topic_filter_type == "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG";
  c.topic_sys_flag = h->topic_sys_flag.value_or(0);
  c.order = h->order;
  if (Status s = d_.topics->Upsert(c); !s.ok()) return Error(rc::kSystemError, s.ToString());
  GetLogger("server")->info("topic created or updated topic={} read={} write={} perm={} by={}", c.topic_name,
                            c.read_queue_nums, c.write_queue_nums, c.perm, "admin");
  if (d_.on_topics_changed) d_.on_topics_changed();
  return Ok();
}

RemotingCommand AdminProcessor::DeleteTopic(const RemotingCommand& req) {
  auto h = Header<protocol::TopicHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  if (Status s = d_.topics->Delete(h->topic); !s.ok()) return Error(rc::kSystemError, s.ToString());
  if (Status s = d_.store->DeleteTopicQueues(h->topic); !s.ok()) return Error(rc::kSystemError, s.ToString());
  GetLogger("server")->info("topic deleted topic={}", h->topic);
  if (d_.on_topics_changed) d_.on_topics_changed();
  return Ok();
}

RemotingCommand AdminProcessor::AllTopicConfig() {
  return Ok(model::EncodeTopicConfigWrapper(d_.topics->Snapshot()));
}

RemotingCommand AdminProcessor::UpdateAndCreateGroup(const RemotingCommand& req) {
  if (d_.ha && !d_.ha->is_master())
    return Error(rc::kSystemError,
                 "Can't modify topic or subscription group from slave broker; ask its master");
  auto g = model::DecodeSubscriptionGroupConfig(req.body);
  if (!g.ok()) return Error(rc::kSystemError, std::string(g.status().message()));
  if (Status s = d_.groups->Upsert(*g); !s.ok()) return Error(rc::kSystemError, std::string(s.message()));
  GetLogger("server")->info("subscription group created or updated group={}", g->group_name);
  return Ok();
}

RemotingCommand AdminProcessor::DeleteGroup(const RemotingCommand& req) {
  auto h = Header<protocol::DeleteSubscriptionGroupHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  if (Status s = d_.groups->Delete(h->group_name); !s.ok()) return Error(rc::kSystemError, s.ToString());
  if (h->remove_offset.value_or(false)) d_.offsets->RemoveGroup(h->group_name);
  GetLogger("server")->info("subscription group deleted group={}", h->group_name);
  return Ok();
}

RemotingCommand AdminProcessor::AllGroupConfig() {
  return Ok(model::EncodeSubscriptionGroupWrapper(d_.groups->Snapshot()));
}

namespace {
// RocketMQ's MixAll.humanReadableByteCount(bytes, false): "512 B", "10.0 GiB" (what the exporter parses).
std::string HumanBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  int exp = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && exp < 6) {
    v /= 1024;
    ++exp;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %ciB", v, "KMGTPE"[exp - 1]);
  return buf;
}
}  // namespace

RemotingCommand AdminProcessor::RuntimeInfo() { return Ok(model::EncodeKvTable(RuntimeTable())); }

std::map<std::string, std::string> AdminProcessor::RuntimeTable() {
  const store::StoreStats s = d_.store->Stats();
  std::map<std::string, std::string> kv = d_.stats->RuntimeInfo(s.puts_total);
  kv["brokerVersion"] = std::to_string(protocol::kCurrentVersion);
  kv["brokerVersionDesc"] = "V4_9_7";
  kv["commitLogMinOffset"] = std::to_string(s.commit_log_min.value());
  kv["commitLogMaxOffset"] = std::to_string(s.commit_log_max.value());
  kv["dispatchBehindBytes"] = std::to_string(s.dispatch_behind_bytes);
  kv["commitLogDiskRatio"] = std::to_string(s.disk_used_ratio);
  kv["consumeQueueDiskRatio"] = std::to_string(s.disk_used_ratio);
  kv["putMessageTimesTotal"] = std::to_string(s.puts_total);
  kv["putMessageSizeTotal"] = std::to_string(s.put_bytes_total);
  kv["putMessageAverageSize"] = std::to_string(
      s.puts_total ? static_cast<double>(s.put_bytes_total) / static_cast<double>(s.puts_total) : 0.0);
  kv["pageCacheLockTimeMills"] = "0";
  auto earliest = d_.store->EarliestMessageTime();
  kv["earliestMessageTimeStamp"] = std::to_string(earliest.ok() ? *earliest : 0);
  kv["diskFull"] = s.disk_full ? "true" : "false";
  // FerryMQ: what nobody consumed yet (a leaving broker group drains to 0) and the live permission.
  const Backlog backlog = CountBacklog();
  kv["backlogMessages"] = std::to_string(backlog.total);
  kv["backlogTopics"] = DescribeBacklog(backlog);
  kv["brokerPermission"] = std::to_string(d_.broker->broker_permission.load());
  // The rest of what rocketmq-exporter reads (it fails on a broker whose table lacks one of them).
  kv["commitLogDirCapacity"] =
      "Total : " + HumanBytes(s.disk_capacity_bytes) + ", Free : " + HumanBytes(s.disk_available_bytes) + ".";
  kv["remainHowManyDataToFlush"] =
      HumanBytes(std::max<int64_t>(0, s.commit_log_max.value() - s.commit_log_flushed.value()));
  kv["dispatchMaxBuffer"] = "0";
  kv["remainTransientStoreBufferNumbs"] = "2147483647";  // Apache's answer without a transient store pool
  if (d_.extra_runtime_info) {
    for (auto& [k, v] : d_.extra_runtime_info()) kv[k] = v;
  }
  return kv;
}

Backlog AdminProcessor::CountBacklog() {
  BacklogInput in;
  const BrokerConfig& b = *d_.broker;
  in.ignored = {kAutoCreateTopicKey, "SELF_TEST_TOPIC",       "OFFSET_MOVED_EVENT",
                b.cluster_name,      b.broker_name,           b.cluster_name + "_REPLY_TOPIC",
                kTransOpHalfTopic,   kTransCheckMaxTimeTopic, b.msg_trace_topic_name};
  for (const auto& [name, t] : d_.topics->Snapshot().topic_config_table) {
    if (in.ignored.count(name)) continue;
    std::vector<QueueRange>& queues = in.queues[name];
    const int32_t n = std::max(t.read_queue_nums, t.write_queue_nums);
    for (int32_t q = 0; q < n; ++q) {
      queues.push_back({d_.store->MinOffsetInQueue(name, QueueId(q)).value(),
                        d_.store->MaxOffsetInQueue(name, QueueId(q)).value()});
    }
  }
  in.consumed = d_.offsets->ByTopic();
  if (d_.schedule != nullptr) {
    auto& levels = in.consumed[model::kScheduleTopic]["(delay levels)"];
    for (const auto& [level, offset] : d_.schedule->OffsetTable()) levels[level - 1] = offset;
  }
  if (d_.timer_pending) in.timer_pending = d_.timer_pending();
  return ComputeBacklog(in);
}

RemotingCommand AdminProcessor::TopicStats(const RemotingCommand& req) {
  auto h = Header<protocol::TopicHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  auto topic = d_.topics->Find(h->topic);
  if (!topic) return Error(rc::kTopicNotExist, "topic[" + h->topic + "] not exist");
  model::TopicStatsTable table;
  for (int32_t q = 0; q < topic->write_queue_nums; ++q) {
    model::TopicOffset o;
    o.min_offset = std::max<int64_t>(0, d_.store->MinOffsetInQueue(h->topic, QueueId(q)).value());
    o.max_offset = std::max<int64_t>(0, d_.store->MaxOffsetInQueue(h->topic, QueueId(q)).value());
    if (o.max_offset > 0) {
      auto t = d_.store->MessageStoreTimestamp(h->topic, QueueId(q), QueueOffset(o.max_offset - 1));
      if (t.ok()) o.last_update_timestamp = *t;
    }
    table[{h->topic, d_.broker->broker_name, q}] = o;
  }
  return Ok(model::EncodeTopicStatsTable(table));
}

RemotingCommand AdminProcessor::ConsumeStats(const RemotingCommand& req) {
  auto h = Header<protocol::ConsumerGroupHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  std::set<std::string> topics;
  if (h->topic && !h->topic->empty()) {
    topics.insert(*h->topic);
  } else {
    topics = d_.offsets->TopicsOfGroup(h->consumer_group);
    if (auto info = d_.clients->Consumer(h->consumer_group)) {
      for (const auto& [t, sub] : info->subscriptions) topics.insert(t);
    }
  }
  model::ConsumeStats stats;
  const auto online = d_.clients->Consumer(h->consumer_group);
  for (const auto& t : topics) {
    auto topic = d_.topics->Find(t);
    if (!topic) continue;
    // As Apache's broker: a topic the group's online consumers no longer subscribe to is not its progress.
    if (online && !online->subscriptions.empty() && online->subscriptions.count(t) == 0) continue;
    for (int32_t q = 0; q < topic->read_queue_nums; ++q) {
      model::OffsetWrapper o;
      o.broker_offset = std::max<int64_t>(0, d_.store->MaxOffsetInQueue(t, QueueId(q)).value());
      o.consumer_offset = std::max<int64_t>(0, d_.offsets->Query(h->consumer_group, t, q).value_or(0));
      if (o.consumer_offset > 0) {
        auto ts = d_.store->MessageStoreTimestamp(t, QueueId(q), QueueOffset(o.consumer_offset - 1));
        if (ts.ok()) o.last_timestamp = *ts;
      }
      stats.offset_table[{t, d_.broker->broker_name, q}] = o;
    }
    if (d_.stats) {
      if (auto w = d_.stats->Stats(BrokerStats::kGroupGetNums, t + "@" + h->consumer_group)) {
        stats.consume_tps += w->minute.tps;
      }
    }
  }
  return Ok(model::EncodeConsumeStats(stats));
}

namespace {
model::ClientConnection ConnectionOf(const ClientChannel& ch) {
  return {ch.client_id, ch.remote_addr, std::string(protocol::LanguageName(ch.language)), ch.version};
}
}  // namespace

RemotingCommand AdminProcessor::ConsumerConnections(const RemotingCommand& req) {
  auto h = Header<protocol::ConsumerGroupHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  auto info = d_.clients->Consumer(h->consumer_group);
  if (!info || info->channels.empty()) {
    return Error(rc::kConsumerNotOnline, "the consumer group[" + h->consumer_group + "] not online");
  }
  model::ConsumerConnection c;
  for (const auto& ch : info->channels) c.connection_set.push_back(ConnectionOf(ch));
  c.subscription_table = info->subscriptions;
  c.consume_type = info->consume_type;
  c.message_model = info->message_model;
  c.consume_from_where = info->consume_from_where;
  return Ok(model::EncodeConsumerConnection(c));
}

RemotingCommand AdminProcessor::ProducerConnections(const RemotingCommand& req) {
  auto h = Header<protocol::ProducerGroupHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  auto channels = d_.clients->Producers(h->producer_group);
  if (channels.empty())
    return Error(rc::kSystemError, "the producer group[" + h->producer_group + "] not exist");
  std::vector<model::ClientConnection> conns;
  for (const auto& ch : channels) conns.push_back(ConnectionOf(ch));
  return Ok(model::EncodeProducerConnection(conns));
}

RemotingCommand AdminProcessor::TopicConsumedByWho(const RemotingCommand& req) {
  auto h = Header<protocol::TopicHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  std::set<std::string> groups = d_.offsets->GroupsOfTopic(h->topic);
  for (const auto& g : d_.clients->GroupsSubscribedTo(h->topic)) groups.insert(g);
  return Ok(nlohmann::json({{"groupList", groups}}).dump());
}

RemotingCommand AdminProcessor::AllConsumerOffsets() { return Ok(d_.offsets->EncodeAll()); }

RemotingCommand AdminProcessor::ViewMessageById(const RemotingCommand& req) {
  auto h = Header<protocol::ViewMessageHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  auto buf = d_.store->SelectMessageByOffset(PhysicalOffset(h->offset));
  if (!buf.ok())
    return Error(rc::kSystemError, "can not find message by the offset, " + std::to_string(h->offset));
  return Ok(std::string(reinterpret_cast<const char*>(buf->data), buf->size));
}

RemotingCommand AdminProcessor::QueryMessage(const RemotingCommand& req) {
  auto h = Header<protocol::QueryMessageHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  int32_t max = h->max_num;
  if (auto u = req.ext_fields.find("_UNIQUE_KEY_QUERY"); u != req.ext_fields.end() && u->second == "true")
    max = 32;
  auto found =
      d_.store->QueryMessage(h->topic, h->key, std::max(1, max), h->begin_timestamp, h->end_timestamp);
  RemotingCommand resp;
  protocol::QueryMessageResponseHeader rh{found.index_last_update_timestamp,
                                          found.index_last_update_phy_offset};
  if (found.messages.empty()) {
    resp = Error(rc::kQueryNotFound, "can not find message, maybe time range not correct");
  } else {
    resp = Ok();
    for (const auto& m : found.messages) resp.body.append(reinterpret_cast<const char*>(m.data), m.size);
  }
  protocol::QueryMessageResponseHeader::Spec().Encode(rh, &resp.ext_fields);
  return resp;
}

// Broker2Client.resetOffset, with two departures written down in docs/semantics.md: the new offsets are also
// written to the broker's table at once (so queues no online client holds move too, and an offline group is
// reset rather than refused with CONSUMER_NOT_ONLINE), and each online client gets the body of its own
// language (RocketMQ picks one by the requester's language).
RemotingCommand AdminProcessor::ResetOffset(const RemotingCommand& req) {
  auto h = Header<protocol::ResetOffsetHeader>(req);
  if (!h.ok()) return Error(rc::kSystemError, std::string(h.status().message()));
  if (d_.ha && !d_.ha->is_master()) {
    return Error(rc::kSystemError, "Can't reset consumer offsets on a slave broker; ask its master");
  }
  auto topic = d_.topics->Find(h->topic);
  if (!topic) {
    return Error(rc::kSystemError,
                 "[reset-offset] reset offset failed, no topic in this broker. topic=" + h->topic);
  }
  const auto info = d_.clients->Consumer(h->group);
  const bool online = info && !info->channels.empty();
  const auto committed = d_.offsets->QueryAll(h->group, h->topic);
  if (committed.empty() && !online) {
    return Error(rc::kSystemError, "THe consumer group <" + h->group + "> not exist (no offset on topic " +
                                       h->topic + " and no consumer online)");
  }
  model::ResetOffsetTable table;
  std::string moved;
  for (int32_t q = 0; q < topic->write_queue_nums; ++q) {
    const QueueId queue(q);
    int64_t target = h->timestamp == -1
                         ? d_.store->MaxOffsetInQueue(h->topic, queue).value()
                         : d_.store->OffsetInQueueByTime(h->topic, queue, h->timestamp).value();
    target = std::max<int64_t>(0, target);
    auto it = committed.find(q);
    // A queue the group never committed is at its first message.
    const int64_t current = it != committed.end()
                                ? it->second
                                : std::max<int64_t>(0, d_.store->MinOffsetInQueue(h->topic, queue).value());
    const int64_t offset = h->is_force || target < current ? target : current;
    table[{h->topic, d_.broker->broker_name, q}] = offset;
    d_.offsets->Commit(h->group, h->topic, q, offset);
    if (offset != current)
      moved += " " + std::to_string(q) + ":" + std::to_string(current) + "->" + std::to_string(offset);
  }
  if (Status s = d_.offsets->Persist(); !s.ok()) {
    return Error(rc::kSystemError, "[reset-offset] offsets not persisted: " + s.ToString());
  }
  size_t told = 0;
  if (online) {
    protocol::ResetOffsetHeader notice = *h;
    for (const auto& ch : info->channels) {
      auto conn = ch.conn.lock();
      if (!conn || conn->closed()) continue;
      RemotingCommand r = RemotingCommand::Request(code::kResetConsumerClientOffset, 0);
      r.flag |= protocol::kFlagOneway;
      protocol::ResetOffsetHeader::Spec().Encode(notice, &r.ext_fields);
      r.body = ch.language == protocol::LanguageCode::kCpp ? model::EncodeResetOffsetBodyForC(table)
                                                           : model::EncodeResetOffsetBody(table);
      conn->Send(std::move(r));
      ++told;
    }
  }
  GetLogger("server")->info("reset-offset group={} topic={} timestamp={} force={} clients_told={} moved=[{}]",
                            h->group, h->topic, h->timestamp, h->is_force, told, moved);
  return Ok(model::EncodeResetOffsetBody(table));
}

// VIEW_BROKER_STATS_DATA (mqadmin statsAll): TOPIC_PUT_NUMS/_SIZE of a topic, GROUP_GET_NUMS/_SIZE,
// SNDBCK_PUT_NUMS, DEAD_PUT_NUMS and OFFSET_MOVED_NUMS of topic@group.
RemotingCommand AdminProcessor::BrokerStatsData(const RemotingCommand& req) {
  auto field = [&](const char* k) {
    auto it = req.ext_fields.find(k);
    return it == req.ext_fields.end() ? std::string() : it->second;
  };
  const std::string name = field("statsName"), key = field("statsKey");
  if (name != BrokerStats::kTopicPutNums && name != BrokerStats::kTopicPutSize &&
      name != BrokerStats::kGroupGetNums && name != BrokerStats::kGroupGetSize &&
      name != BrokerStats::kSendBackNums && name != BrokerStats::kDeadPutNums &&
      name != BrokerStats::kOffsetMovedNums) {
    return Error(rc::kSystemError, "The stats <" + name + "> not exist");
  }
  auto w = d_.stats ? d_.stats->Stats(name, key) : std::nullopt;
  if (!w) return Error(rc::kSystemError, "The stats <" + name + "> <" + key + "> not exist");
  auto j = [](const BrokerStats::Window& x) {
    return nlohmann::json{{"avgpt", 0.0}, {"sum", x.sum}, {"tps", x.tps}};
  };
  return Ok(nlohmann::json{{"statsDay", j(w->day)}, {"statsHour", j(w->hour)}, {"statsMinute", j(w->minute)}}
                .dump());
}

// FERRYMQ_TOPIC_PRODUCERS (9110): the producer groups that sent to a topic in the last day.
RemotingCommand AdminProcessor::TopicProducers(const RemotingCommand& req) {
  auto it = req.ext_fields.find("topic");
  if (it == req.ext_fields.end() || it->second.empty())
    return Error(rc::kSystemError, "the topic is missing");
  nlohmann::json groups = nlohmann::json::object();
  if (d_.stats) {
    for (const auto& [group, at] : d_.stats->ProducerGroups(it->second)) groups[group] = at;
  }
  return Ok(nlohmann::json{{"producerGroups", groups}}.dump());
}

// GET_BROKER_CONFIG: the effective settings as Java properties text (what mqadmin getBrokerConfig prints).
RemotingCommand AdminProcessor::GetBrokerConfig() {
  auto props = BrokerConfigProperties(*d_.broker);
  props.merge(d_.store->EffectiveConfig().ToProperties());
  std::string body;
  for (const auto& [k, v] : props) body += k + "=" + v + "\n";
  RemotingCommand r = Ok(std::move(body));
  const auto version = d_.topics->Snapshot().data_version;
  r.ext_fields["version"] =
      nlohmann::json{{"counter", version.counter}, {"timestamp", version.timestamp}}.dump();
  return r;
}

// UPDATE_BROKER_CONFIG: Java properties text; the settings FerryMQ can change while it runs are applied at
// once, anything else is refused naming the key (nothing of the request is applied then).
RemotingCommand AdminProcessor::UpdateBrokerConfig(const RemotingCommand& req) {
  std::vector<std::pair<std::string, std::string>> kv;
  size_t start = 0;
  while (start < req.body.size()) {
    size_t end = req.body.find('\n', start);
    std::string line = req.body.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? req.body.size() : end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    size_t eq = line.find_first_of("=:");
    if (eq == std::string::npos) return Error(rc::kSystemError, "config line '" + line + "' has no '='");
    kv.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  if (kv.empty()) return Error(rc::kSystemError, "no config key in the request");
  std::optional<int32_t> permission;
  for (const auto& [k, v] : kv) {
    if (k == "brokerPermission") {
      int32_t p = 0;
      if (Status s = ParsePropertyNumberInRange(k, v, 0, 15, &p); !s.ok()) {
        return Error(rc::kSystemError, std::string(s.message()) + ". Nothing was changed");
      }
      permission = p;
    } else if (k != "maxMessageSize" && k != "fileReservedTime") {
      return Error(rc::kSystemError,
                   "config key " + k +
                       " cannot be changed while the broker runs (live: brokerPermission, maxMessageSize, "
                       "fileReservedTime); change broker.conf and restart. Nothing was changed");
    }
  }
  for (const auto& [k, v] : kv) {
    if (k == "brokerPermission") continue;
    if (Status s = d_.store->UpdateLiveConfig(k, v); !s.ok()) {
      return Error(rc::kSystemError, std::string(s.message()));
    }
  }
  if (permission && *permission != d_.broker->broker_permission.load()) {
    GetLogger("server")->warn("brokerPermission changed from {} to {} (UPDATE_BROKER_CONFIG)",
                              d_.broker->broker_permission.load(), *permission);
    d_.broker->broker_permission.store(*permission);
    if (Status s = d_.topics->NextDataVersion(); !s.ok())
      return Error(rc::kSystemError, std::string(s.message()));
    // The name servers learn it now (a broker without write permission announces its topics read-only).
    if (d_.on_topics_changed) d_.on_topics_changed();
  }
  return Ok();
}

// CONSUME_MESSAGE_DIRECTLY (the message, read here by its offset id, is consumed once more by one client:
// mqadmin queryMsgById -g G -d clientId) and GET_CONSUMER_RUNNING_INFO (mqadmin consumerStatus,
// consumerProgress -s): forwarded to that client and its answer relayed, as Apache's callConsumer does.
void AdminProcessor::CallConsumer(RemotingCommand request, net::Responder responder) {
  auto answer = [&](int32_t c, std::string remark) { responder.Send(Error(c, std::move(remark))); };
  auto field = [&](const char* k) {
    auto it = request.ext_fields.find(k);
    return it == request.ext_fields.end() ? std::string() : it->second;
  };
  const std::string group = field("consumerGroup"), client_id = field("clientId");
  auto conn = d_.clients->FindConsumerConnection(group, client_id);
  if (!conn || conn->closed()) {
    return answer(rc::kSystemError, "The Consumer <" + group + "> <" + client_id + "> not online");
  }
  RemotingCommand forward = RemotingCommand::Request(request.code, 0);
  forward.ext_fields = request.ext_fields;
  if (request.code == code::kConsumeMessageDirectly) {
    forward.ext_fields["brokerName"] = d_.broker->broker_name;
    auto id = model::DecodeOffsetMessageId(field("msgId"));
    if (!id.ok()) return answer(rc::kSystemError, std::string(id.status().message()));
    auto m = d_.store->LookMessageByOffset(id->offset);
    if (!m.ok()) {
      return answer(rc::kSystemError,
                    "can not find message by the offset, " + std::to_string(id->offset.value()));
    }
    model::EncodeStoredMessage(*m, /*compute_crc=*/false, &forward.body);
  }
  conn->Invoke(std::move(forward), std::chrono::milliseconds(10'000),
               [responder, group, client_id](Result<RemotingCommand> r) {
                 if (r.ok()) {
                   RemotingCommand out = std::move(*r);
                   responder.Send(std::move(out));
                   return;
                 }
                 const bool timeout = r.status().code() == StatusCode::kDeadlineExceeded;
                 responder.Send(RemotingCommand::Answer(
                     timeout ? rc::kConsumeMsgTimeout : rc::kSystemError,
                     std::string(timeout ? "consumer <" : "invoke consumer <") + group + "> <" + client_id +
                         (timeout ? "> Timeout: " : "> Exception: ") + std::string(r.status().message())));
               });
}

}  // namespace fmq::server
