#include "broker/client/producer.h"

#include "broker/base/logging.h"
#include "broker/client/internal/remoting_util.h"
#include "broker/model/heartbeat.h"
#include "broker/model/message.h"
#include "broker/model/names.h"
#include "broker/protocol/codes.h"
#include "broker/protocol/headers.h"

namespace fmq::client {

namespace rq = protocol::request_code;
namespace rc = protocol::response_code;
using protocol::RemotingCommand;

// A message (or batch) encoded once; every attempt reuses it and only changes the queue.
struct Producer::Prepared {
  std::string topic;
  std::string uniq_id;  // batch: ids joined with ','
  bool batch = false;
  int32_t code = rq::kSendMessageV2;
  protocol::SendMessageRequestHeader header;  // queue id set per attempt
  std::string own_body;  // batch bodies, and bodies of async sends (which outlive the caller's message)
  const std::string* body = nullptr;  // own_body or, for synchronous sends, the caller's message body
};

struct Producer::AsyncSend {
  std::shared_ptr<Prepared> prepared;
  SendCallback callback;
  int attempts_left = 0;
  std::string last_broker;
  std::chrono::steady_clock::time_point deadline;
};

bool IsRetriableSendCode(int32_t code) {
  return code == rc::kTopicNotExist || code == rc::kServiceNotAvailable || code == rc::kSystemError ||
         code == rc::kNoPermission || code == rc::kNoBuyerId || code == rc::kNotInCurrentUnit;
}

Result<SendResult> ProcessSendResponse(const RemotingCommand& response, const MessageQueue& mq,
                                       const std::string& uniq_id) {
  SendResult r;
  switch (response.code) {
    case rc::kSuccess:
      r.status = SendStatus::kSendOk;
      break;
    case rc::kFlushDiskTimeout:
      r.status = SendStatus::kFlushDiskTimeout;
      break;
    case rc::kFlushSlaveTimeout:
      r.status = SendStatus::kFlushSlaveTimeout;
      break;
    case rc::kSlaveNotAvailable:
      r.status = SendStatus::kSlaveNotAvailable;
      break;
    default:
      return internal::ResponseError(response, "send to " + QueueName(mq));
  }
  r.msg_id = uniq_id;
  auto h = internal::DecodeResponseHeader<protocol::SendMessageResponseHeader>(response);
  if (!h.ok()) {
    // A degraded answer without the stored message's position: FerryMQ's SLAVE_NOT_AVAILABLE for a send it
    // refused before storing (its empty msgId does not survive the binary header encoding, where an empty
    // value reads as absent).
    if (r.status == SendStatus::kSendOk) return h.status();
    r.queue = mq;
    r.queue_offset = -1;
    return r;
  }
  r.offset_msg_id = h->msg_id;
  r.queue = {mq.topic, mq.broker_name, h->queue_id};
  r.queue_offset = h->queue_offset;
  return r;
}

namespace {

void AppendProperty(std::string_view name, std::string_view value, std::string* out) {
  if (name.empty() || value.empty()) return;
  if (!out->empty()) out->push_back(model::prop::kPropertySeparator);
  out->append(name);
  out->push_back(model::prop::kNameValueSeparator);
  out->append(value);
}

// Properties text of one message: the user's, then TAGS, KEYS, UNIQ_KEY, WAIT.
std::string MessageProperties(const Message& m, const std::string& uniq, bool wait) {
  std::string out;
  out.reserve(64 + m.tags.size() + m.keys.size());
  for (const auto& [k, v] : m.properties) {
    if (k != model::prop::kTags && k != model::prop::kKeys && k != model::prop::kUniqKey)
      AppendProperty(k, v, &out);
  }
  AppendProperty(model::prop::kTags, m.tags, &out);
  AppendProperty(model::prop::kKeys, m.keys, &out);
  AppendProperty(model::prop::kUniqKey, uniq, &out);
  if (!m.properties.count(model::prop::kWaitStoreMsgOk)) {
    AppendProperty(model::prop::kWaitStoreMsgOk, wait ? "true" : "false", &out);
  }
  return out;
}

Status ValidateMessage(const Message& m, size_t max_size) {
  FMQ_RETURN_IF_ERROR(model::ValidateTopicName(m.topic));
  if (m.body.empty()) return Status::InvalidArgument("the message body length is zero");
  if (m.body.size() > max_size) {
    return Status::InvalidArgument("the message body size over max value, MAX: " + std::to_string(max_size));
  }
  return Status::Ok();
}

int64_t NowMillis() { return SystemClock().NowMillis(); }

}  // namespace

Producer::Producer(ProducerConfig config) : config_(std::move(config)), core_(config_.client) {}

Producer::~Producer() { Stop(); }

Status Producer::Start() {
  if (started_) return Status::Ok();
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config_.group));
  FMQ_RETURN_IF_ERROR(core_.Start());
  FMQ_RETURN_IF_ERROR(retry_executor_.Start());
  tasks_.Add(
      "route-refresh", config_.client.poll_name_server_interval, [this] { core_.routes().RefreshAll(); },
      false);
  if (config_.heartbeat) {
    tasks_.Add(
        "heartbeat", config_.client.heartbeat_interval, [this] { SendHeartbeat(); }, false);
  }
  FMQ_RETURN_IF_ERROR(tasks_.Start());
  started_ = true;
  return Status::Ok();
}

void Producer::Stop() {
  if (!started_) return;
  started_ = false;
  tasks_.Stop();
  retry_executor_.Stop();
  if (config_.heartbeat) {
    protocol::UnregisterClientHeader h;
    h.client_id = core_.client_id();
    h.producer_group = config_.group;
    for (const auto& addr : core_.routes().AllBrokerAddrs(true)) {
      (void)core_.remoting()->InvokeSync(addr, internal::MakeRequest(rq::kUnregisterClient, h),
                                         config_.client.rpc_timeout);
    }
  }
  core_.Stop();
}

void Producer::SendHeartbeat() {
  model::HeartbeatData hb;
  hb.client_id = core_.client_id();
  hb.producer_groups = {config_.group};
  const std::string body = model::EncodeHeartbeat(hb);
  for (const auto& addr : core_.routes().AllBrokerAddrs(true)) {
    RemotingCommand req = RemotingCommand::Request(rq::kHeartBeat, 0);
    req.body = body;
    auto resp = core_.remoting()->InvokeSync(addr, std::move(req), config_.client.rpc_timeout);
    if (!resp.ok())
      GetLogger("client")->warn("heartbeat failed broker={} error=\"{}\"", addr, resp.status().message());
  }
}

Result<std::shared_ptr<Producer::Prepared>> Producer::Prepare(const Message& msg, bool copy_body) {
  FMQ_RETURN_IF_ERROR(ValidateMessage(msg, config_.max_message_size));
  auto p = std::make_shared<Prepared>();
  p->topic = msg.topic;
  p->uniq_id = ids_.Next();
  protocol::SendMessageRequestHeader& h = p->header;
  h.producer_group = config_.group;
  h.topic = msg.topic;
  h.default_topic = kAutoCreateTopicKey;
  h.default_topic_queue_nums = config_.client.default_topic_queue_nums;
  h.born_timestamp = NowMillis();
  h.flag = msg.flag;
  h.properties = MessageProperties(msg, p->uniq_id, config_.wait_store_msg_ok);
  h.reconsume_times = 0;
  h.unit_mode = false;
  h.batch = false;
  if (copy_body) {
    p->own_body = msg.body;
    p->body = &p->own_body;
  } else {
    p->body = &msg.body;
  }
  return p;
}

Result<std::shared_ptr<Producer::Prepared>> Producer::PrepareBatch(const std::vector<Message>& msgs) {
  if (msgs.empty()) return Status::InvalidArgument("a batch needs at least one message");
  auto p = std::make_shared<Prepared>();
  p->topic = msgs[0].topic;
  p->batch = true;
  p->code = rq::kSendBatchMessage;
  std::vector<model::BatchEntry> entries;
  entries.reserve(msgs.size());
  for (const auto& m : msgs) {
    FMQ_RETURN_IF_ERROR(ValidateMessage(m, config_.max_message_size));
    if (m.topic != p->topic)
      return Status::InvalidArgument("the topic of the messages in one batch should be the same");
    if (m.properties.count(model::prop::kDelayTimeLevel)) {
      return Status::InvalidArgument("TimeDelayLevel is not supported for batching");
    }
    const std::string id = ids_.Next();
    if (!p->uniq_id.empty()) p->uniq_id.push_back(',');
    p->uniq_id += id;
    entries.push_back({m.flag, m.body, MessageProperties(m, id, config_.wait_store_msg_ok)});
  }
  p->own_body = model::EncodeBatchBody(entries);
  p->body = &p->own_body;
  if (p->own_body.size() > config_.max_message_size) {
    return Status::InvalidArgument("the batch body size over max value, MAX: " +
                                   std::to_string(config_.max_message_size));
  }
  protocol::SendMessageRequestHeader& h = p->header;
  h.producer_group = config_.group;
  h.topic = p->topic;
  h.default_topic = kAutoCreateTopicKey;
  h.default_topic_queue_nums = config_.client.default_topic_queue_nums;
  h.born_timestamp = NowMillis();
  std::string props;
  AppendProperty(model::prop::kWaitStoreMsgOk, config_.wait_store_msg_ok ? "true" : "false", &props);
  h.properties = props;
  h.reconsume_times = 0;
  h.unit_mode = false;
  h.batch = true;
  return p;
}

RemotingCommand Producer::CommandFor(Prepared& p, const MessageQueue& mq) const {
  RemotingCommand cmd = RemotingCommand::Request(p.code, 0);
  p.header.queue_id = mq.queue_id;
  protocol::SendMessageRequestHeader::V2().Encode(p.header, &cmd.ext_fields);
  cmd.serialize_type = config_.client.request_serialize_type;
  cmd.body = *p.body;
  return cmd;
}

Result<SendResult> Producer::SendWithRetries(const std::shared_ptr<Prepared>& p, int max_attempts) {
  const auto start = std::chrono::steady_clock::now();
  FMQ_ASSIGN_OR_RETURN(auto info, core_.routes().GetPublishInfo(p->topic));
  std::string last_broker;
  Status last_error;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (elapsed >= config_.send_timeout) {
      return Status::DeadlineExceeded("sendDefaultImpl call timeout after " + std::to_string(attempt) +
                                      " attempt(s)" + (last_error.ok() ? "" : ": " + last_error.ToString()));
    }
    const MessageQueue& mq = info->SelectQueue(last_broker);
    last_broker = mq.broker_name;
    auto addr = core_.routes().MasterAddr(mq.broker_name);
    if (!addr) {
      (void)core_.routes().RefreshTopic(p->topic);
      addr = core_.routes().MasterAddr(mq.broker_name);
      if (!addr) {
        last_error = Status::Unavailable("The broker[" + mq.broker_name + "] not exist");
        continue;
      }
    }
    auto resp = core_.remoting()->InvokeSync(*addr, CommandFor(*p, mq), config_.send_timeout - elapsed);
    if (!resp.ok()) {
      last_error = resp.status().WithContext("send to " + *addr);
      continue;
    }
    if (IsRetriableSendCode(resp->code)) {
      last_error = internal::ResponseError(*resp, "send to " + QueueName(mq));
      continue;
    }
    return ProcessSendResponse(*resp, mq, p->uniq_id);
  }
  return last_error.WithContext("send failed after " + std::to_string(max_attempts) + " attempt(s)");
}

Result<SendResult> Producer::Send(const Message& msg) {
  FMQ_ASSIGN_OR_RETURN(auto p, Prepare(msg, /*copy_body=*/false));
  return SendWithRetries(p, 1 + config_.retry_times_when_send_failed);
}

Result<SendResult> Producer::Send(const Message& msg, const MessageQueue& queue) {
  FMQ_ASSIGN_OR_RETURN(auto p, Prepare(msg, /*copy_body=*/false));
  FMQ_RETURN_IF_ERROR(core_.routes().GetPublishInfo(msg.topic).status());
  auto addr = core_.routes().MasterAddr(queue.broker_name);
  if (!addr) return Status::NotFound("The broker[" + queue.broker_name + "] not exist");
  FMQ_ASSIGN_OR_RETURN(auto resp,
                       core_.remoting()->InvokeSync(*addr, CommandFor(*p, queue), config_.send_timeout));
  return ProcessSendResponse(resp, queue, p->uniq_id);
}

Result<SendResult> Producer::SendBatch(const std::vector<Message>& msgs) {
  FMQ_ASSIGN_OR_RETURN(auto p, PrepareBatch(msgs));
  return SendWithRetries(p, 1 + config_.retry_times_when_send_failed);
}

Status Producer::SendOneway(const Message& msg) {
  FMQ_ASSIGN_OR_RETURN(auto p, Prepare(msg, /*copy_body=*/false));
  FMQ_ASSIGN_OR_RETURN(auto info, core_.routes().GetPublishInfo(p->topic));
  const MessageQueue& mq = info->SelectQueue("");
  auto addr = core_.routes().MasterAddr(mq.broker_name);
  if (!addr) return Status::NotFound("The broker[" + mq.broker_name + "] not exist");
  return core_.remoting()->InvokeOneway(*addr, CommandFor(*p, mq));
}

void Producer::SendAsync(const Message& msg, SendCallback callback) {
  auto p = Prepare(msg, /*copy_body=*/true);
  if (!p.ok()) {
    callback(p.status());
    return;
  }
  auto send = std::make_shared<AsyncSend>();
  send->prepared = std::move(*p);
  send->callback = std::move(callback);
  send->attempts_left = 1 + config_.retry_times_when_send_async_failed;
  send->deadline = std::chrono::steady_clock::now() + config_.send_timeout;
  AsyncAttempt(std::move(send));
}

void Producer::AsyncAttempt(std::shared_ptr<AsyncSend> send) {
  auto info = core_.routes().GetPublishInfo(send->prepared->topic);
  if (!info.ok()) {
    send->callback(info.status());
    return;
  }
  const MessageQueue& mq = (*info)->SelectQueue(send->last_broker);
  send->last_broker = mq.broker_name;
  --send->attempts_left;
  auto addr = core_.routes().MasterAddr(mq.broker_name);
  if (!addr) {
    send->callback(Status::NotFound("The broker[" + mq.broker_name + "] not exist"));
    return;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(send->deadline -
                                                                          std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    send->callback(Status::DeadlineExceeded("send timeout before attempt to " + QueueName(mq)));
    return;
  }
  core_.remoting()->InvokeAsync(
      *addr, CommandFor(*send->prepared, mq), left, [this, send, mq](Result<RemotingCommand> resp) {
        Status failure;
        if (!resp.ok()) {
          failure = resp.status().WithContext("send to " + QueueName(mq));
        } else if (IsRetriableSendCode(resp->code)) {
          failure = internal::ResponseError(*resp, "send to " + QueueName(mq));
        } else {
          send->callback(ProcessSendResponse(*resp, mq, send->prepared->uniq_id));
          return;
        }
        // Retry off the network thread: the next broker may need a new connection, and connecting from
        // the network thread would wait for itself.
        if (send->attempts_left > 0 && std::chrono::steady_clock::now() < send->deadline &&
            retry_executor_.TrySubmit([this, send] { AsyncAttempt(send); })) {
          return;
        }
        send->callback(failure);
      });
}

}  // namespace fmq::client
