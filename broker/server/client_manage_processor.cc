#include "broker/server/client_manage_processor.h"

#include <nlohmann/json.hpp>

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/subscription_filter.h"

namespace fmq::server {

namespace rc = protocol::response_code;
namespace code = protocol::request_code;
using protocol::RemotingCommand;

std::set<model::MessageQueue> RebalanceLockManager::TryLockBatch(const std::string& group,
                                                                 const std::set<model::MessageQueue>& mqs,
                                                                 const std::string& client_id) {
  MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  auto& table = locks_[group];
  std::set<model::MessageQueue> locked;
  for (const auto& mq : mqs) {
    auto it = table.find(mq);
    if (it == table.end()) {
      table[mq] = {client_id, now};
      locked.insert(mq);
    } else if (it->second.client_id == client_id) {
      it->second.last_update_ms = now;
      locked.insert(mq);
    } else if (now - it->second.last_update_ms > kLockMaxLiveMillis) {
      GetLogger("server")->warn(
          "queue lock expired, handing it over group={} topic={} queue={} from={} to={}", group, mq.topic,
          mq.queue_id, it->second.client_id, client_id);
      it->second = {client_id, now};
      locked.insert(mq);
    }
  }
  return locked;
}

void RebalanceLockManager::UnlockBatch(const std::string& group, const std::set<model::MessageQueue>& mqs,
                                       const std::string& client_id) {
  MutexLock lock(&mu_);
  auto g = locks_.find(group);
  if (g == locks_.end()) return;
  for (const auto& mq : mqs) {
    auto it = g->second.find(mq);
    if (it != g->second.end() && it->second.client_id == client_id) g->second.erase(it);
  }
  if (g->second.empty()) locks_.erase(g);
}

ClientManageProcessor::ClientManageProcessor(const BrokerConfig& broker, ClientRegistry& clients,
                                             SubscriptionGroupManager& groups, TopicConfigManager& topics,
                                             RebalanceLockManager& locks,
                                             std::function<void()> on_topics_changed)
    : broker_(broker),
      clients_(clients),
      groups_(groups),
      topics_(topics),
      locks_(locks),
      on_topics_changed_(std::move(on_topics_changed)) {}

void ClientManageProcessor::Handle(RemotingCommand request, net::Responder responder) {
  RemotingCommand resp;
  switch (request.code) {
    case code::kHeartBeat:
      resp = HeartBeat(request, responder);
      break;
    case code::kUnregisterClient:
      resp = Unregister(request, responder);
      break;
    case code::kGetConsumerListByGroup:
      resp = ConsumerList(request);
      break;
    case code::kCheckClientConfig:
      resp = CheckClientConfig(request);
      break;
    case code::kLockBatchMq:
      resp = LockBatch(request);
      break;
    case code::kUnlockBatchMq:
      resp = UnlockBatch(request);
      break;
    default:
      resp = RemotingCommand::Answer(rc::kRequestCodeNotSupported,
                                     "request code " + std::to_string(request.code) + " not supported");
  }
  responder.Send(std::move(resp));
}

RemotingCommand ClientManageProcessor::HeartBeat(const RemotingCommand& req,
                                                 const net::Responder& responder) {
  auto hb = model::DecodeHeartbeat(req.body);
  if (!hb.ok()) return RemotingCommand::Answer(rc::kSystemError, std::string(hb.status().message()));
  auto conn = responder.connection();
  if (!conn) return RemotingCommand::Answer(rc::kSystemError, "connection closed");
  ClientChannel channel{conn, hb->client_id, conn->remote_address(), req.language, req.version, 0, ""};
  bool topics_changed = false;
  for (const auto& consumer : hb->consumers) {
    auto group = groups_.FindOrCreate(consumer.group_name);
    if (!group.ok()) return RemotingCommand::Answer(rc::kSystemError, group.status().ToString());
    bool notify = true;
    if (group->has_value()) {
      notify = (*group)->notify_consumer_ids_changed_enable;
      if ((*group)->retry_queue_nums > 0) {
        model::TopicConfig retry;
        retry.topic_name = "%RETRY%" + consumer.group_name;
        retry.read_queue_nums = retry.write_queue_nums = (*group)->retry_queue_nums;
        retry.perm = model::perm::kRead | model::perm::kWrite;
        auto created = topics_.CreateIfAbsent(retry);
        if (!created.ok()) return RemotingCommand::Answer(rc::kSystemError, created.status().ToString());
        topics_changed |= *created;
      }
    }
    clients_.RegisterConsumer(consumer, channel, notify);
  }
  for (const auto& group : hb->producer_groups) clients_.RegisterProducer(group, channel);
  if (topics_changed && on_topics_changed_) on_topics_changed_();
  return RemotingCommand::Answer(rc::kSuccess);
}

RemotingCommand ClientManageProcessor::Unregister(const RemotingCommand& req,
                                                  const net::Responder& responder) {
  auto h = protocol::UnregisterClientHeader::Spec().Decode(req.ext_fields);
  if (!h.ok()) return RemotingCommand::Answer(rc::kSystemError, std::string(h.status().message()));
  auto conn = responder.connection();
  if (!conn) return RemotingCommand::Answer(rc::kSuccess);
  if (h->producer_group && !h->producer_group->empty())
    clients_.UnregisterProducer(*h->producer_group, conn.get());
  if (h->consumer_group && !h->consumer_group->empty()) {
    auto group = groups_.Find(*h->consumer_group);
    clients_.UnregisterConsumer(*h->consumer_group, conn.get(),
                                !group || group->notify_consumer_ids_changed_enable);
  }
  return RemotingCommand::Answer(rc::kSuccess);
}

RemotingCommand ClientManageProcessor::ConsumerList(const RemotingCommand& req) {
  auto h = protocol::ConsumerGroupHeader::Spec().Decode(req.ext_fields);
  if (!h.ok()) return RemotingCommand::Answer(rc::kSystemError, std::string(h.status().message()));
  auto ids = clients_.ConsumerIds(h->consumer_group);
  if (ids.empty())
    return RemotingCommand::Answer(rc::kSystemError, "no consumer for this group, " + h->consumer_group);
  RemotingCommand resp = RemotingCommand::Answer(rc::kSuccess);
  resp.body = model::EncodeConsumerIdList(ids);
  return resp;
}

RemotingCommand ClientManageProcessor::CheckClientConfig(const RemotingCommand& req) {
  auto j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return RemotingCommand::Answer(rc::kSystemError, "CHECK_CLIENT_CONFIG body is not a JSON object");
  std::string type = kExpressionTypeTag, expression;
  if (auto sd = j.find("subscriptionData"); sd != j.end() && sd->is_object()) {
    if (auto t = sd->find("expressionType"); t != sd->end() && t->is_string()) type = t->get<std::string>();
    if (auto s = sd->find("subString"); s != sd->end() && s->is_string()) expression = s->get<std::string>();
  }
  if (IsTagType(type)) return RemotingCommand::Answer(rc::kSuccess);
  if (!broker_.enable_property_filter) {
    return RemotingCommand::Answer(rc::kSystemError,
                                   "The broker does not support consumer to filter message by " + type);
  }
  if (type != kExpressionTypeSql92) {
    return RemotingCommand::Answer(rc::kSubscriptionParseFailed, "unknown expression type " + type);
  }
  auto compiled = filter::Sql92Expression::Compile(expression);
  if (!compiled.ok()) {
    auto str = [&](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    GetLogger("server")->warn("client={} group={} selector refused: {}", str("clientId"), str("group"),
                              compiled.status().message());
    return RemotingCommand::Answer(rc::kSubscriptionParseFailed, std::string(compiled.status().message()));
  }
  return RemotingCommand::Answer(rc::kSuccess);
}

RemotingCommand ClientManageProcessor::LockBatch(const RemotingCommand& req) {
  auto body = model::DecodeLockBatchRequest(req.body);
  if (!body.ok()) return RemotingCommand::Answer(rc::kSystemError, std::string(body.status().message()));
  RemotingCommand resp = RemotingCommand::Answer(rc::kSuccess);
  resp.body = model::EncodeLockBatchResponse(
      locks_.TryLockBatch(body->consumer_group, body->mq_set, body->client_id));
  return resp;
}

RemotingCommand ClientManageProcessor::UnlockBatch(const RemotingCommand& req) {
  auto body = model::DecodeLockBatchRequest(req.body);
  if (!body.ok()) return RemotingCommand::Answer(rc::kSystemError, std::string(body.status().message()));
  locks_.UnlockBatch(body->consumer_group, body->mq_set, body->client_id);
  return RemotingCommand::Answer(rc::kSuccess);
}

}  // namespace fmq::server
