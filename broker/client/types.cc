#include "broker/client/types.h"

#include <zlib.h>

#include "broker/model/message.h"

namespace fmq::client {

std::string QueueName(const MessageQueue& mq) {
  return "MessageQueue [topic=" + mq.topic + ", brokerName=" + mq.broker_name +
         ", queueId=" + std::to_string(mq.queue_id) + "]";
}

const char* SendStatusName(SendStatus s) {
  switch (s) {
    case SendStatus::kSendOk:
      return "SEND_OK";
    case SendStatus::kFlushDiskTimeout:
      return "FLUSH_DISK_TIMEOUT";
    case SendStatus::kFlushSlaveTimeout:
      return "FLUSH_SLAVE_TIMEOUT";
    case SendStatus::kSlaveNotAvailable:
      return "SLAVE_NOT_AVAILABLE";
  }
  return "?";
}

const char* PullStatusName(PullStatus s) {
  switch (s) {
    case PullStatus::kFound:
      return "FOUND";
    case PullStatus::kNoNewMsg:
      return "NO_NEW_MSG";
    case PullStatus::kNoMatchedMsg:
      return "NO_MATCHED_MSG";
    case PullStatus::kOffsetIllegal:
      return "OFFSET_ILLEGAL";
  }
  return "?";
}

namespace {

// Java producers zlib-compress bodies of 4 KiB and more (sysflag bit 0); consumers see the original bytes.
Result<std::string> Inflate(const std::string& in) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Status::Internal("inflateInit failed");
  std::string out;
  out.resize(std::max<size_t>(in.size() * 4, 1024));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.total_out >= out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) rc = Z_OK;  // needs more room
  }
  const size_t n = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::Corruption("compressed message body does not inflate");
  out.resize(n);
  return out;
}

}  // namespace

Result<std::vector<MessageExt>> DecodeMessages(std::span<const uint8_t> body,
                                               const std::string& broker_name) {
  std::vector<MessageExt> out;
  size_t pos = 0;
  while (pos < body.size()) {
    auto rec = model::DecodeStoredMessage(body.subspan(pos), /*check_crc=*/false);
    if (!rec.ok()) {
      return rec.status().WithContext("message " + std::to_string(out.size()) + " at byte " +
                                      std::to_string(pos));
    }
    model::StoredMessage& m = *rec;
    pos += m.EncodedSize();
    MessageExt e;
    e.topic = std::move(m.topic);
    e.broker_name = broker_name;
    e.queue_id = m.queue_id.value();
    e.queue_offset = m.queue_offset.value();
    e.commit_log_offset = m.physical_offset.value();
    e.flag = m.flag;
    e.sys_flag = m.sys_flag;
    e.reconsume_times = m.reconsume_times;
    e.born_timestamp = m.born_timestamp;
    e.store_timestamp = m.store_timestamp;
    e.born_host = m.born_host.ToString();
    e.store_host = m.store_host.ToString();
    e.offset_msg_id = model::CreateOffsetMessageId(m.store_host, m.physical_offset);
    e.properties = model::DecodeProperties(m.properties);
    if (m.sys_flag & model::sysflag::kCompressed) {
      FMQ_ASSIGN_OR_RETURN(e.body, Inflate(m.body));
    } else {
      e.body = std::move(m.body);
    }
    auto find = [&](const char* name) {
      auto it = e.properties.find(name);
      return it == e.properties.end() ? std::string() : it->second;
    };
    e.tags = find(model::prop::kTags);
    e.keys = find(model::prop::kKeys);
    e.msg_id = find(model::prop::kUniqKey);
    if (e.msg_id.empty()) e.msg_id = e.offset_msg_id;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace fmq::client
