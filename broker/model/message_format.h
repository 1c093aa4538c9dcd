#pragma once

// Constants of the RocketMQ V1 stored-message record (protocol reference 4.1; byte table in
// docs/formats/commitlog.md). The record is also the pull/query body format clients decode, so it lives in
// model (below protocol and store alike).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fmq::model {

inline constexpr int32_t kMessageMagicV1 = static_cast<int32_t>(0xDAA320A7);  // -626843481
inline constexpr int32_t kBlankMagic = static_cast<int32_t>(0xCBD43194);  // -875286124, end-of-file marker
inline constexpr size_t kEndFileMinBlankLength = 8;                       // TOTALSIZE + MAGICCODE

// Field positions that do not depend on host address lengths.
inline constexpr size_t kTotalSizePos = 0;
inline constexpr size_t kMagicPos = 4;
inline constexpr size_t kBodyCrcPos = 8;
inline constexpr size_t kQueueIdPos = 12;
inline constexpr size_t kFlagPos = 16;
inline constexpr size_t kQueueOffsetPos = 20;
inline constexpr size_t kPhysicalOffsetPos = 28;
inline constexpr size_t kSysFlagPos = 36;
inline constexpr size_t kBornTimestampPos = 40;
inline constexpr size_t kBornHostPos = 48;

// Host address lengths in the record: 4-byte IPv4 or 16-byte IPv6, each followed by an int32 port.
inline constexpr size_t kHostV4Length = 8;
inline constexpr size_t kHostV6Length = 20;

// Size of every fixed field of a record with two IPv4 hosts (TOTALSIZE = this + body + topic + properties).
inline constexpr size_t kFixedSizeV4 = 91;

inline constexpr size_t kMaxTopicLength = 127;         // signed byte length field
inline constexpr size_t kMaxPropertiesLength = 32767;  // int16 length field

// Message SYSFLAG bits (protocol reference 4.3).
namespace sysflag {
inline constexpr int32_t kCompressed = 0x1;
inline constexpr int32_t kMultiTags = 0x2;
inline constexpr int32_t kTransactionNotType = 0x0;
inline constexpr int32_t kTransactionPrepared = 0x4;
inline constexpr int32_t kTransactionCommit = 0x8;
inline constexpr int32_t kTransactionRollback = 0xC;
inline constexpr int32_t kTransactionMask = 0xC;
inline constexpr int32_t kBornHostV6 = 0x10;
inline constexpr int32_t kStoreHostV6 = 0x20;
inline constexpr int32_t kCompressionTypeMask = 0x700;

inline constexpr int32_t TransactionType(int32_t flag) { return flag & kTransactionMask; }
// PREPARED and ROLLBACK records are not dispatched to consume queues and carry queue offset 0.
inline constexpr bool IsDispatchable(int32_t flag) {
  int32_t t = TransactionType(flag);
  return t == kTransactionNotType || t == kTransactionCommit;
}
}  // namespace sysflag

// Property names with broker-side meaning (protocol reference 5.3).
namespace prop {
inline constexpr char kNameValueSeparator = '\x01';
inline constexpr char kPropertySeparator = '\x02';
inline constexpr const char* kTags = "TAGS";
inline constexpr const char* kKeys = "KEYS";
inline constexpr const char* kUniqKey = "UNIQ_KEY";
inline constexpr const char* kWaitStoreMsgOk = "WAIT";
inline constexpr const char* kDelayTimeLevel = "DELAY";
inline constexpr const char* kRealTopic = "REAL_TOPIC";
inline constexpr const char* kRealQueueId = "REAL_QID";
inline constexpr const char* kTransactionPrepared = "TRAN_MSG";
inline constexpr const char* kProducerGroup = "PGROUP";
inline constexpr const char* kCluster = "CLUSTER";
inline constexpr const char* kRetryTopic = "RETRY_TOPIC";
inline constexpr const char* kOriginMessageId = "ORIGIN_MESSAGE_ID";
inline constexpr const char* kMaxReconsumeTimes = "MAX_RECONSUME_TIMES";
inline constexpr const char* kReconsumeTime = "RECONSUME_TIME";
inline constexpr const char* kTransactionCheckTimes = "TRANSACTION_CHECK_TIMES";
inline constexpr const char* kCheckImmunityTimeInSeconds = "CHECK_IMMUNITY_TIME_IN_SECONDS";
inline constexpr const char* kTransactionPreparedQueueOffset = "TRAN_PREPARED_QUEUE_OFFSET";
// Timer messages (RocketMQ 5's names; TIMER_SRC is FerryMQ's, docs/formats/timer.md).
inline constexpr const char* kTimerDeliverMs = "TIMER_DELIVER_MS";
inline constexpr const char* kTimerDelaySec = "TIMER_DELAY_SEC";
inline constexpr const char* kTimerDelayMs = "TIMER_DELAY_MS";
inline constexpr const char* kTimerOutMs = "TIMER_OUT_MS";
inline constexpr const char* kTimerEnqueueMs = "TIMER_ENQUEUE_MS";
inline constexpr const char* kTimerDequeueMs = "TIMER_DEQUEUE_MS";
inline constexpr const char* kTimerRollTimes = "TIMER_ROLL_TIMES";
inline constexpr const char* kTimerSource = "TIMER_SRC";
inline constexpr char kKeySeparator = ' ';

// RocketMQ's reserved property names (MessageConst.STRING_HASH_SET of 4.9.7 plus RocketMQ 5's timer names):
// what a tool copying a message's user properties must leave behind.
inline bool IsSystem(std::string_view name) {
  static constexpr std::string_view kNames[] = {"TRACE_ON",
                                                "MSG_REGION",
                                                "KEYS",
                                                "TAGS",
                                                "WAIT",
                                                "DELAY",
                                                "RETRY_TOPIC",
                                                "REAL_TOPIC",
                                                "REAL_QID",
                                                "TRAN_MSG",
                                                "PGROUP",
                                                "MIN_OFFSET",
                                                "MAX_OFFSET",
                                                "BUYER_ID",
                                                "ORIGIN_MESSAGE_ID",
                                                "TRANSFER_FLAG",
                                                "CORRECTION_FLAG",
                                                "MQ2_FLAG",
                                                "RECONSUME_TIME",
                                                "UNIQ_KEY",
                                                "MAX_RECONSUME_TIMES",
                                                "CONSUME_START_TIME",
                                                "TRAN_PREPARED_QUEUE_OFFSET",
                                                "TRANSACTION_CHECK_TIMES",
                                                "CHECK_IMMUNITY_TIME_IN_SECONDS",
                                                "SHARDING_KEY",
                                                "__STARTDELIVERTIME",
                                                "CLUSTER",
                                                "MSG_TYPE",
                                                "REPLY_TO_CLIENT",
                                                "CORRELATION_ID",
                                                "TTL",
                                                "ARRIVE_TIME",
                                                "PUSH_REPLY_TIME",
                                                "INSTANCE_ID",
                                                "TIMER_DELIVER_MS",
                                                "TIMER_DELAY_SEC",
                                                "TIMER_DELAY_MS",
                                                "TIMER_OUT_MS",
                                                "TIMER_ENQUEUE_MS",
                                                "TIMER_DEQUEUE_MS",
                                                "TIMER_ROLL_TIMES",
                                                "TIMER_DEL_UNIQKEY",
                                                "TIMER_SRC"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}
}  // namespace prop

}  // namespace fmq::model
