#pragma once

// HeartbeatData, the body of HEART_BEAT (protocol reference 2.5, checklist 8 and 9). Decoding accepts what
// every target client sends: enums as names (Java, Go) or ordinals (C++), `subVersion` as a number or a
// string, missing optional fields. The tag code set is always recomputed from the subscription expression
// with Java's String.hashCode (the C++ client sends atoi(tag), which is wrong).

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "broker/base/status.h"

namespace fmq::model {

enum class ConsumeType { kActively = 0, kPassively = 1 };  // pull / push
enum class MessageModel { kBroadcasting = 0, kClustering = 1 };
enum class ConsumeFromWhere {
  kLastOffset = 0,
  kLastOffsetAndFromMinWhenBootFirst = 1,
  kMinOffset = 2,
  kMaxOffset = 3,
  kFirstOffset = 4,
  kTimestamp = 5,
};

struct SubscriptionData {
  std::string topic;
  std::string sub_string = "*";  // "*" or "tagA || tagB"; an SQL92 expression when expression_type is SQL92
  std::set<std::string> tags_set;
  std::set<int32_t> code_set;  // Java hashCode of each tag, recomputed
  int64_t sub_version = 0;
  std::string expression_type = "TAG";
  bool class_filter_mode = false;
};

struct ConsumerData {
  std::string group_name;
  ConsumeType consume_type = ConsumeType::kPassively;
  MessageModel message_model = MessageModel::kClustering;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  bool unit_mode = false;
  std::vector<SubscriptionData> subscriptions;
};

struct HeartbeatData {
  std::string client_id;
  std::vector<std::string> producer_groups;
  std::vector<ConsumerData> consumers;
};

// Java's enum names.
std::string_view ConsumeTypeName(ConsumeType t);
std::string_view MessageModelName(MessageModel m);
std::string_view ConsumeFromWhereName(ConsumeFromWhere w);

Result<HeartbeatData> DecodeHeartbeat(std::string_view json);
std::string EncodeHeartbeat(const HeartbeatData& data);  // Java's form (enum names)

// Splits a TAG subscription ("*", "a || b") into tags and their Java hash codes ("*" or empty: all, no tags).
void ParseTagExpression(const std::string& expression, std::set<std::string>* tags, std::set<int32_t>* codes);

}  // namespace fmq::model
