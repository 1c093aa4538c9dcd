#include "broker/server/send_message_processor.h"

#include <random>

#include "broker/base/coding.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"
#include "broker/server/response_mapping.h"

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
                                           TopicConfigManager& topics, std::function<void()> on_topic_created,
                                           ha::HaService* ha)
    : broker_(broker),
      store_(store),
      topics_(topics),
      on_topic_created_(std::move(on_topic_created)),
      ha_(ha) {}

void SendMessageProcessor::Handle(RemotingCommand request, net::Responder responder) {
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
  if (IsSendForbiddenTopic(topic)) {
    return responder.Send(
        RemotingCommand::Answer(rc::kNoPermission, "Sending message to topic[" + topic + "] is forbidden."));
  }
  const std::string props = header->properties.value_or("");
  if (topic.rfind("%RETRY%", 0) == 0 ||
      model::FindProperty(props, model::prop::kTransactionPrepared) == "true" ||
      model::FindProperty(props, model::prop::kDelayTimeLevel).has_value()) {
    return responder.Send(RemotingCommand::Answer(
        rc::kSystemError,
        "retry topics, transaction and delay messages are not supported by this FerryMQ "
        "build yet; the message was not stored"));
  }
  auto config = topics_.Find(topic);
  if (!config) {
    auto created =
        topics_.CreateInSendMessageMethod(topic, header->default_topic, header->default_topic_queue_nums,
                                          header->unit_mode.value_or(false) ? 1 : 0);
    if (!created.ok())
      return responder.Send(RemotingCommand::Answer(rc::kSystemError, created.status().ToString()));
    config = *created;
    if (config && on_topic_created_) on_topic_created_();
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
  if (queue_id < 0) {
    thread_local std::mt19937 rng{std::random_device{}()};
    queue_id = static_cast<int32_t>(rng() % static_cast<uint32_t>(std::max(1, config->write_queue_nums)));
  }

  model::StoredMessage base;
  base.topic = topic;
  base.queue_id = QueueId(queue_id);
  base.sys_flag = header->sys_flag;
  if (config->topic_filter_type == "MULTI_TAG") base.sys_flag |= model::sysflag::kMultiTags;
  base.born_timestamp = header->born_timestamp;
  if (auto conn = responder.connection()) {
    if (auto born = model::HostAddress::Parse(conn->remote_address()); born.ok()) base.born_host = *born;
  }
  base.reconsume_times = header->reconsume_times.value_or(0);

  std::vector<model::StoredMessage> messages;
  if (header->batch.value_or(false)) {
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
      messages.push_back(std::move(m));
    }
  } else {
    model::StoredMessage m = std::move(base);
    m.flag = header->flag;
    m.body = std::move(request.body);
    m.properties = WithProperties(props, {{model::prop::kCluster, broker_.cluster_name}});
    messages.push_back(std::move(m));
  }

  auto wait = model::FindProperty(props, model::prop::kWaitStoreMsgOk);
  const bool wait_for_replicas = ha_ && ha_->WaitsForReplicas() && !(wait && *wait == "false");
  store_.AsyncPutMessages(
      std::move(messages), [this, responder, queue_id, wait_for_replicas](Result<store::PutMessageResult> r) {
        if (ha_ && (r.ok() || r.status().code() == StatusCode::kDeadlineExceeded)) ha_->NotifyAppended();
        if (!r.ok() || !wait_for_replicas) return Answer(responder, queue_id, std::move(r), rc::kSuccess, "");
        const int64_t end = r->wrote_offset.value() + r->wrote_bytes;
        auto result = std::make_shared<store::PutMessageResult>(std::move(*r));
        ha_->WaitReplicated(end, [this, responder, queue_id, result](ha::ReplicaWait w) {
          switch (w) {
            case ha::ReplicaWait::kReplicated:
              return Answer(responder, queue_id, std::move(*result), rc::kSuccess, "");
            case ha::ReplicaWait::kTimeout:
              return Answer(responder, queue_id, std::move(*result), rc::kFlushSlaveTimeout,
                            "stored on the master, but its in-sync slaves did not confirm it within "
                            "slaveTimeout");
            case ha::ReplicaWait::kSlaveNotAvailable:
              return Answer(responder, queue_id, std::move(*result), rc::kSlaveNotAvailable,
                            "stored on the master, but too few slaves are in sync to confirm it "
                            "(minInSyncReplicas, whenBelowMinInSync=reject)");
            case ha::ReplicaWait::kNotMaster:
              return Answer(responder, queue_id, std::move(*result), rc::kFlushSlaveTimeout,
                            "stored, but the broker stopped being the master before its slaves confirmed it");
          }
        });
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
