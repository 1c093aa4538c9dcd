#pragma once

// Message trace records, as RocketMQ's clients write them to the trace topic (RMQ_SYS_TRACE_TOPIC by default)
// when enableMsgTrace is on (TraceDataEncoder): one message body holds several records separated by 0x02,
// each record's fields separated by 0x01, its first field the type:
//   Pub            timestamp region group topic msgId tags keys storeHost bodyLength costMs msgType
//                  [offsetMsgId] success [clientHost]
//   SubBefore      timestamp region group requestId msgId retryTimes keys [clientHost]
//   SubAfter       requestId msgId costMs success keys [contextCode [timestamp group]]
//   EndTransaction timestamp region group topic msgId tags keys storeHost msgType transactionId
//                  transactionState fromTransactionCheck
// The trace message's KEYS are the traced message ids (and its keys), which is how QUERY_MESSAGE finds them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fmq::model {

inline constexpr const char* kDefaultTraceTopic = "RMQ_SYS_TRACE_TOPIC";

struct TraceRecord {
  std::string type;       // Pub, SubBefore, SubAfter, EndTransaction
  int64_t timestamp = 0;  // ms; 0 when the record has none (old SubAfter)
  std::string region;
  std::string group;
  std::string topic;
  std::string msg_id;
  std::string offset_msg_id;
  std::string tags;
  std::string keys;
  std::string store_host;
  std::string client_host;
  std::string request_id;  // pairs SubBefore with SubAfter
  int64_t cost_ms = 0;
  int32_t retry_times = 0;
  int32_t body_length = 0;
  bool success = true;
  std::string transaction_id;
  std::string transaction_state;
};

// The records of one trace message body; malformed records (unknown type, too few fields, non-numbers) are
// skipped, as a reader of data from any client must.
std::vector<TraceRecord> DecodeTraceBody(std::string_view body);

}  // namespace fmq::model
