#include "broker/server/send_message_processor.h"

#include <chrono>
#include <random>

#include "broker/base/coding.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/response_mapping.h"
#include "broker/server/schedule_message_service.h"
#include "broker/server/timer_message_service.h"
#include "broker/server/transaction_service.h"

namespace fmq::server {

namespace rc = protocol::response_code;
using protocol::RemotingCommand;

namespace {
// Appends `extra` properties to an encoded properties string.
std::string WithProperties(std::string props, const std::map<std::string, std::string>& extra) {
  for (const auto& [k, v] : extra) {
    if (!props.empty() && props.back() != model::prop::kPropertySeparator)
      props += model::prop::kPropertySeparator;
    props += k;
    props += model::prop::kNameValueSeparator;
    props += v;
  }
  return props;
}
}  // namespace

SendMessageProcessor::SendMessageProcessor(const BrokerConfig& broker, store::MessageStore& store,
                                           TopicConfigManager& topics, SubscriptionGroupManager& groups,
                                           std::function<void()> on_topic_created, ha::HaService* ha)
    : broker_(broker),
      store_(store),
      topics_(topics),
      groups_(groups),
      on_topic_created_(std::move(on_topic_created)),
      ha_(ha) {}

int32_t SendMessageProcessor::RandomQueue(int32_t queues) {
  thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<int32_t>(rng() % static_cast<uint32_t>(std::max(1, queues)));
}

Result<std::optional<model::TopicConfig>> SendMessageProcessor::CreateSystemTopic(const std::string& topic,
                                                                                  int32_t queues) {
  if (auto found = topics_.Find(topic)) return found;
  model::TopicConfig c;
  c.topic_name = topic;
  c.read_queue_nums = c.write_queue_nums = std::max(1, queues);
  c.perm = model::perm::kRead | model::perm::kWrite;
  FMQ_ASSIGN_OR_RETURN(bool created, topics_.CreateIfAbsent(c));
  if (created && on_topic_created_) on_topic_created_();
  return topics_.Find(topic);
}

void SendMessageProcessor::Handle(RemotingCommand request, net::Responder responder) {
  if (request.code == protocol::request_code::kConsumerSendMsgBack)
    return SendBack(std::move(request), responder);
  auto header = protocol::SendMessageRequestHeader::FromCommand(request);
  if (!header.ok())
    return responder.Send(RemotingCommand::Answer(rc::kSystemError, std::string(header.status().message())));
  const std::string& topic = header->topic;
  if (Status s = model::ValidateTopicName(topic); !s.ok()) {
    return responder.Send(RemotingCommand::Answer(rc::kSystemError, std::string(s.message())));
  }
  if (ha_) {
    std::string why;
    switch (ha_->CheckWrite(&why)) {
      case ha::WriteGate::kOpen:
        break;
      case ha::WriteGate::kSlave:
      case ha::WriteGate::kFenced:
        return responder.Send(RemotingCommand::Answer(rc::kServiceNotAvailable, why));
      case ha::WriteGate::kTooFewInSync: {
        // Nothing was stored; the header still carries the fields clients decode from this answer.
        RemotingCommand resp = RemotingCommand::Answer(rc::kSlaveNotAvailable, why);
        resp.ext_fields = {
            {"msgId", ""}, {"queueId", std::to_string(std::max(0, header->queue_id))}, {"queueOffset", "-1"}};
        return responder.Send(std::move(resp));
      }
    }
  }
  // A broker without write permission (brokerPermission, e.g. a group leaving the cluster) refuses every
  // send; the client retries on another broker (NO_PERMISSION is one of its retry codes). Apache refuses only
  // order topics here and relies on the routes for the rest; a client with a stale route would still write.
  if ((broker_.broker_permission & model::perm::kWrite) == 0) {
    return responder.Send(RemotingCommand::Answer(
        rc::kNoPermission, "the broker[" + broker_.broker_name + "] sending message is forbidden"));
  }
  if (IsSendForbiddenTopic(topic)) {
    return responder.Send(
        RemotingCommand::Answer(rc::kNoPermission, "Sending message to topic[" + topic + "] is forbidden."));
  }
  std::string props = header->properties.value_or("");
  const bool batch = header->batch.value_or(false);
  const bool half = model::FindProperty(props, model::prop::kTransactionPrepared) == "true";
  if (half && broker_.reject_transaction_message) {
    return responder.Send(RemotingCommand::Answer(
        rc::kNoPermission,
        "the broker[" + broker_.broker_name + "] sending transaction message is forbidden"));
  }
  if (half && batch) {
    return responder.Send(RemotingCommand::Answer(
        rc::kMessageIllegal, "a batch cannot hold transaction messages; nothing was stored"));
  }
  const bool retry_topic = model::IsRetryTopic(topic);
  if (batch && retry_topic) {
    return responder.Send(
        RemotingCommand::Answer(rc::kMessageIllegal, "batch request does not support retry group " + topic));
  }
  auto config = topics_.Find(topic);
  if (!config) {
    auto created =
        topics_.CreateInSendMessageMethod(topic, header->default_topic, header->default_topic_queue_nums,
                                          header->unit_mode.value_or(false) ? 1 : 0);
    if (!created.ok())
      return responder.Send(RemotingCommand::Answer(rc::kSystemError, created.status().ToString()));
    config = *created;
    if (!config && retry_topic) {
      // A consumer's own resend of a message it could not send back (RocketMQ's msgCheck).
      auto retry = CreateSystemTopic(topic, 1);
      if (!retry.ok())
        return responder.Send(RemotingCommand::Answer(rc::kSystemError, retry.status().ToString()));
      config = *retry;
    } else if (config && on_topic_created_) {
      on_topic_created_();
    }
  }
  if (!config) {
    return responder.Send(
        RemotingCommand::Answer(rc::kTopicNotExist, "topic[" + topic + "] not exist, apply first please!"));
  }
  int32_t queue_id = header->queue_id;
  if (queue_id >= std::max(config->write_queue_nums, config->read_queue_nums)) {
    return responder.Send(RemotingCommand::Answer(
        rc::kSystemError, "request queueId[" + std::to_string(queue_id) + "] is illegal, topic " + topic +
                              " has " + std::to_string(config->write_queue_nums) + " write queues"));
  }
  if (queue_id < 0) queue_id = RandomQueue(config->write_queue_nums);

  // A resend to %RETRY%<group> that used up its reconsume times goes to %DLQ%<group> (handleRetryAndDLQ).
  std::string store_topic = topic;
  int32_t store_queue = queue_id;
  if (retry_topic) {
    const std::string group = topic.substr(model::kRetryTopicPrefix.size());
    auto sub = groups_.FindOrCreate(group);
    if (!sub.ok()) return responder.Send(RemotingCommand::Answer(rc::kSystemError, sub.status().ToString()));
    if (!*sub) {
      return responder.Send(
          RemotingCommand::Answer(rc::kSubscriptionGroupNotExist, "subscription group not exist, " + group));
    }
    const int32_t max_times = header->max_reconsume_times.value_or((*sub)->retry_max_times);
    if (header->reconsume_times.value_or(0) >= max_times) {
      auto dlq = CreateSystemTopic(std::string(model::kDlqTopicPrefix) + group, 1);
      if (!dlq.ok())
        return responder.Send(RemotingCommand::Answer(rc::kSystemError, dlq.status().ToString()));
      store_topic = (*dlq)->topic_name;
      store_queue = 0;
      props = model::WithProperty(props, model::prop::kDelayTimeLevel, "0");
    }
  }

  model::StoredMessage base;
  base.topic = store_topic;
  base.queue_id = QueueId(store_queue);
  base.sys_flag = header->sys_flag;
  if (config->topic_filter_type == "MULTI_TAG") base.sys_flag |= model::sysflag::kMultiTags;
  base.born_timestamp = header->born_timestamp;
  if (auto conn = responder.connection()) {
    if (auto born = model::HostAddress::Parse(conn->remote_address()); born.ok()) base.born_host = *born;
  }
  base.reconsume_times = header->reconsume_times.value_or(0);

  std::vector<model::StoredMessage> messages;
  if (batch) {
    auto entries = model::DecodeBatchBody(AsBytes(request.body));
    if (!entries.ok())
      return responder.Send(
          RemotingCommand::Answer(rc::kMessageIllegal, std::string(entries.status().message())));
    const std::map<std::string, std::string> batch_props = {{model::prop::kCluster, broker_.cluster_name}};
    for (auto& e : *entries) {
      model::StoredMessage m = base;
      m.flag = e.flag;
      m.body = std::move(e.body);
      m.properties = WithProperties(WithProperties(std::move(e.properties), model::DecodeProperties(props)),
                                    batch_props);
      if (auto d = model::FindProperty(m.properties, model::prop::kDelayTimeLevel); d && *d != "0") {
        return responder.Send(RemotingCommand::Answer(
            rc::kMessageIllegal,
            "a batch cannot hold delayed messages (DELAY=" + std::string(d->substr(0, 16)) +
                "); send them one by one. Nothing was stored"));
      }
      messages.push_back(std::move(m));
    }
  } else {
    model::StoredMessage m = std::move(base);
    m.flag = header->flag;
    m.body = std::move(request.body);
    m.properties = WithProperties(props, {{model::prop::kCluster, broker_.cluster_name}});
    if (Status s = ApplyDelayLevel(store_.delay_levels(), &m); !s.ok())
      return responder.Send(RemotingCommand::Answer(rc::kMessageIllegal, std::string(s.message())));
    if (Status s = ApplyTimer(store_.config(), clock_->NowMillis(), &m); !s.ok())
      return responder.Send(RemotingCommand::Answer(rc::kMessageIllegal, std::string(s.message())));
    // Apache does not store WAIT (9 bytes a message) on a plain message; delayed, timer and half messages
    // keep it, as Apache rebuilds their properties from the map it put WAIT back into.
    if (!half && m.topic == header->topic)
      m.properties = model::WithProperty(m.properties, model::prop::kWaitStoreMsgOk, std::nullopt);
    if (half) ToHalfMessage(&m);  // consumers see it only once END_TRANSACTION commits it
    messages.push_back(std::move(m));
  }

  auto wait = model::FindProperty(props, model::prop::kWaitStoreMsgOk);
  const bool wait_for_replicas = !(wait && *wait == "false");
  // What the metrics count: RocketMQ 5's message types, the bodies' bytes, a move to a dead-letter queue.
  // (Worked out only when metrics are served.)
  int64_t body_bytes = 0;
  std::string_view message_type;
  const bool to_dlq = model::IsDlqTopic(store_topic);
  std::string dlq_origin, dlq_group;
  if (to_dlq) {
    dlq_origin = model::FindProperty(props, model::prop::kRetryTopic).value_or(topic);
    dlq_group = store_topic.substr(model::kDlqTopicPrefix.size());
  }
  if (metrics_) {
    for (const auto& m : messages) body_bytes += static_cast<int64_t>(m.body.size());
    const bool delayed =
        !messages.empty() &&
        (messages.front().topic != store_topic ||
         model::FindProperty(messages.front().properties, model::prop::kDelayTimeLevel).value_or("0") != "0");
    message_type = half ? "transaction" : delayed ? "delay" : config->order ? "fifo" : "normal";
  }
  Store(std::move(messages), wait_for_replicas,
        [this, responder, queue_id, topic, message_type, body_bytes, to_dlq, dlq_origin, dlq_group,
         producer = header->producer_group](Result<store::PutMessageResult> r, int32_t code_if_stored,
                                            const std::string& remark) {
          if (r.ok() && stats_) {
            stats_->AddTopicPut(topic, producer, r->message_count, r->wrote_bytes);
            if (to_dlq) stats_->AddDead(dlq_origin, dlq_group);
          }
          if (r.ok() && metrics_) {
            if (to_dlq) {
              metrics_->OnSendToDlq(dlq_origin, dlq_group);
            } else {
              metrics_->OnMessagesIn(topic, message_type, r->message_count, body_bytes);
            }
          }
          Answer(responder, queue_id, std::move(r), code_if_stored, remark);
        });
}

void SendMessageProcessor::Store(std::vector<model::StoredMessage> messages, bool wait_for_replicas,
                                 StoreDone done) {
  wait_for_replicas = wait_for_replicas && ha_ && ha_->WaitsForReplicas();
  const auto started = std::chrono::steady_clock::now();
  store_.AsyncPutMessages(std::move(messages), [this, wait_for_replicas, started,
                                                done = std::move(done)](Result<store::PutMessageResult> r) {
    // RocketMQ's putMessageEntireTime: the store's part (queueing for the commit log, appending, flushing
    // when flushDiskType=SYNC_FLUSH), not the wait for replicas.
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (stats_) stats_->AddPutTime(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
    if (metrics_) metrics_->OnStorePut(elapsed);
    if (ha_ && (r.ok() || r.status().code() == StatusCode::kDeadlineExceeded)) ha_->NotifyAppended();
    if (!r.ok() || !wait_for_replicas) return done(std::move(r), rc::kSuccess, "");
    const int64_t end = r->wrote_offset.value() + r->wrote_bytes;
    auto result = std::make_shared<store::PutMessageResult>(std::move(*r));
    ha_->WaitReplicated(end, [result, done](ha::ReplicaWait w) {
      switch (w) {
        case ha::ReplicaWait::kReplicated:
          return done(std::move(*result), rc::kSuccess, "");
        case ha::ReplicaWait::kTimeout:
          return done(std::move(*result), rc::kFlushSlaveTimeout,
                      "stored on the master, but its in-sync slaves did not confirm it within slaveTimeout");
        case ha::ReplicaWait::kSlaveNotAvailable:
          return done(std::move(*result), rc::kSlaveNotAvailable,
                      "stored on the master, but too few slaves are in sync to confirm it "
                      "(minInSyncReplicas, whenBelowMinInSync=reject)");
        case ha::ReplicaWait::kNotMaster:
          return done(std::move(*result), rc::kFlushSlaveTimeout,
                      "stored, but the broker stopped being the master before its slaves confirmed it");
      }
    });
  });
}

// CONSUMER_SEND_MSG_BACK (36): a consumer hands back a message it failed to consume. RocketMQ's
// asyncConsumerSendMsgBack: a copy goes to %RETRY%<group> with delay level 3 + reconsume times (or the level
// asked for), or to %DLQ%<group> once the reconsume times reach maxReconsumeTimes (or the level is negative).
void SendMessageProcessor::SendBack(RemotingCommand request, net::Responder responder) {
  auto answer = [&responder](int32_t code, std::string remark) {
    responder.Send(RemotingCommand::Answer(code, std::move(remark)));
  };
  auto h = protocol::ConsumerSendMsgBackHeader::Spec().Decode(request.ext_fields);
  if (!h.ok()) return answer(rc::kSystemError, std::string(h.status().message()));
  if (Status s = model::ValidateGroupName(h->group); !s.ok())
    return answer(rc::kSystemError, std::string(s.message()));
  if (ha_) {
    std::string why;
    if (ha_->CheckWrite(&why) != ha::WriteGate::kOpen) return answer(rc::kServiceNotAvailable, why);
  }
  auto sub = groups_.FindOrCreate(h->group);
  if (!sub.ok()) return answer(rc::kSystemError, sub.status().ToString());
  if (!*sub) return answer(rc::kSubscriptionGroupNotExist, "subscription group not exist, " + h->group);
  if ((broker_.broker_permission & model::perm::kWrite) == 0) {
    // The client then sends the message to %RETRY%<group> itself, through a writable broker.
    return answer(rc::kNoPermission, "the broker[" + broker_.broker_name + "] sending message is forbidden");
  }
  if ((*sub)->retry_queue_nums <= 0) return answer(rc::kSuccess, "");  // the group wants no retries
  const std::string retry_topic = std::string(model::kRetryTopicPrefix) + h->group;
  auto config = CreateSystemTopic(retry_topic, (*sub)->retry_queue_nums);
  if (!config.ok()) return answer(rc::kSystemError, config.status().ToString());
  if (!*config) return answer(rc::kSystemError, "topic[" + retry_topic + "] not exist");
  if (((*config)->perm & model::perm::kWrite) == 0)
    return answer(rc::kNoPermission, "the topic[" + retry_topic + "] sending message is forbidden");
  auto original = store_.LookMessageByOffset(PhysicalOffset(h->offset));
  if (!original.ok())
    return answer(rc::kSystemError, "look message by offset failed, " + std::to_string(h->offset));
  // SNDBCK_PUT_NUMS, DEAD_PUT_NUMS and the metrics count by the topic the consumer read (a retried message's
  // original topic).
  const std::string read_topic(
      model::FindProperty(original->properties, model::prop::kRetryTopic).value_or(original->topic));
  if (stats_) stats_->AddSendBack(read_topic, h->group);

  model::StoredMessage m;
  m.topic = retry_topic;
  m.queue_id = QueueId(RandomQueue((*sub)->retry_queue_nums));
  std::string props = original->properties;
  if (!model::FindProperty(props, model::prop::kRetryTopic))
    props = model::WithProperty(props, model::prop::kRetryTopic, original->topic);
  props = model::WithProperty(props, model::prop::kWaitStoreMsgOk, "false");
  const int32_t max_times = h->max_reconsume_times.value_or((*sub)->retry_max_times);
  int32_t level = h->delay_level;
  if (original->reconsume_times >= max_times || level < 0) {
    auto dlq = CreateSystemTopic(std::string(model::kDlqTopicPrefix) + h->group, 1);
    if (!dlq.ok()) return answer(rc::kSystemError, dlq.status().ToString());
    if (!*dlq)
      return answer(rc::kSystemError,
                    "topic[" + std::string(model::kDlqTopicPrefix) + h->group + "] not exist");
    m.topic = (*dlq)->topic_name;
    m.queue_id = QueueId(0);
    level = 0;
  } else if (level == 0) {
    level = 3 + original->reconsume_times;
  }
  props = model::WithProperty(props, model::prop::kDelayTimeLevel, std::to_string(level));
  if (!model::FindProperty(props, model::prop::kOriginMessageId)) {
    props =
        model::WithProperty(props, model::prop::kOriginMessageId,
                            model::CreateOffsetMessageId(original->store_host, original->physical_offset));
  }
  m.properties = std::move(props);
  m.body = std::move(original->body);
  m.flag = original->flag;
  m.sys_flag = original->sys_flag;
  m.born_timestamp = original->born_timestamp;
  m.born_host = original->born_host;
  m.reconsume_times = original->reconsume_times + 1;
  if (Status s = ApplyDelayLevel(store_.delay_levels(), &m); !s.ok())
    return answer(rc::kSystemError, std::string(s.message()));
  if (Status s = ApplyTimer(store_.config(), clock_->NowMillis(), &m); !s.ok())
    return answer(rc::kSystemError, std::string(s.message()));
  const bool to_dlq = model::IsDlqTopic(m.topic);
  std::vector<model::StoredMessage> batch;
  batch.push_back(std::move(m));
  // Waits for the replicas even though the copy carries WAIT=false: the consumer acknowledges the original
  // once this answers, so the copy must survive a failover.
  Store(
      std::move(batch), /*wait_for_replicas=*/true,
      [this, responder, to_dlq, origin = read_topic, group = h->group](
          Result<store::PutMessageResult> r, int32_t code_if_stored, const std::string& remark) {
        if (r.ok() && to_dlq && stats_) stats_->AddDead(origin, group);
        if (r.ok() && metrics_) {
          metrics_->OnSendBack(origin, group);
          if (to_dlq) metrics_->OnSendToDlq(origin, group);
        }
        if (!r.ok()) {
          return responder.Send(RemotingCommand::Answer(rc::kSystemError, std::string(r.status().message())));
        }
        if (code_if_stored != rc::kSuccess)
          return responder.Send(RemotingCommand::Answer(rc::kSystemError, remark));
        responder.Send(RemotingCommand::Answer(rc::kSuccess, ""));
      });
}

void SendMessageProcessor::Answer(const net::Responder& responder, int32_t queue_id,
                                  Result<store::PutMessageResult> r, int32_t code_if_stored,
                                  const std::string& remark) const {
  RemotingCommand resp;
  resp.code = r.ok() ? code_if_stored : PutResponseCode(r.status());
  const bool stored = r.ok() || r.status().code() == StatusCode::kDeadlineExceeded;
  if (!r.ok()) resp.remark = std::string(r.status().message());
  if (!remark.empty()) resp.remark = remark;
  if (r.ok()) {
    protocol::SendMessageResponseHeader h{r->msg_id, queue_id, r->queue_offset.value(), std::nullopt};
    protocol::SendMessageResponseHeader::Spec().Encode(h, &resp.ext_fields);
  } else if (stored) {
    resp.ext_fields = {{"msgId", ""}, {"queueId", std::to_string(queue_id)}, {"queueOffset", "0"}};
  }
  resp.ext_fields["MSG_REGION"] = broker_.region_id;
  resp.ext_fields["TRACE_ON"] = broker_.trace_on ? "true" : "false";
  responder.Send(std::move(resp));
}

}  // namespace fmq::server
