#pragma once

// Value types of the client API: MessageQueue, Message (what a producer sends), MessageExt (what a consumer
// receives), SendResult and PullResult, and the property names the client sets (protocol reference 5.3).
//
// Thread-safety: values.

#include <compare>
#include <cstdint>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/model/admin_body.h"

namespace fmq::client {

// Properties the client adds on receipt (the others are in model/message_format.h, model::prop).
namespace property {
inline constexpr char kMinOffset[] = "MIN_OFFSET";
inline constexpr char kMaxOffset[] = "MAX_OFFSET";
}  // namespace property

// Name of the template topic producers fall back to when a topic has no route yet (auto-creation).
inline constexpr char kAutoCreateTopicKey[] = "TBW102";

using MessageQueue = model::MessageQueue;  // topic, broker name, queue id; ordered as Java's compareTo
// "MessageQueue [topic=t, brokerName=b, queueId=0]" as Java prints it.
std::string QueueName(const MessageQueue& mq);

// A message to send. `keys` are separated by single spaces (each one is indexed by the broker).
struct Message {
  std::string topic;
  std::string tags;
  std::string keys;
  std::string body;
  int32_t flag = 0;
  std::map<std::string, std::string>
      properties;  // user properties; the producer adds TAGS/KEYS/UNIQ_KEY/WAIT
};

// A message received from a broker (RocketMQ's MessageExt).
struct MessageExt {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int64_t commit_log_offset = 0;
  std::string msg_id;         // UNIQ_KEY when the producer set one, else the offset message id
  std::string offset_msg_id;  // store host + commit-log offset (protocol reference 5.1)
  std::string tags;
  std::string keys;
  std::string body;
  int32_t flag = 0;
  int32_t sys_flag = 0;
  int32_t reconsume_times = 0;
  int64_t born_timestamp = 0;
  int64_t store_timestamp = 0;
  std::string born_host;
  std::string store_host;
  std::map<std::string, std::string> properties;
};

// Decodes a pull / query / view body: stored-message records back to back, until the bytes end (protocol
// reference 2.3). Corruption names the record that failed. Bodies are not CRC-checked (as Java's client).
Result<std::vector<MessageExt>> DecodeMessages(std::span<const uint8_t> body, const std::string& broker_name);

enum class SendStatus {
  kSendOk,
  kFlushDiskTimeout,   // response code 10: stored, not yet flushed
  kFlushSlaveTimeout,  // 12: stored on the master
  kSlaveNotAvailable,  // 11: stored on the master
};
const char* SendStatusName(SendStatus s);

struct SendResult {
  SendStatus status = SendStatus::kSendOk;
  std::string msg_id;         // UNIQ_KEY (for a batch: the ids joined with ',')
  std::string offset_msg_id;  // from the broker (for a batch: comma list)
  MessageQueue queue;
  int64_t queue_offset = 0;
};

enum class PullStatus { kFound, kNoNewMsg, kNoMatchedMsg, kOffsetIllegal };
const char* PullStatusName(PullStatus s);

struct PullResult {
  PullStatus status = PullStatus::kNoNewMsg;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int64_t suggest_which_broker_id = 0;
  std::vector<MessageExt> messages;  // after the client-side tag filter
};

}  // namespace fmq::client
