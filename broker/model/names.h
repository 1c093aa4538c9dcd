#pragma once

// Name rules for topics and groups, as RocketMQ's TopicValidator enforces them: 1..127 characters from
// [A-Za-z0-9_-%|] ('%' and '|' appear in system topics such as %RETRY%group and %DLQ%group).
// Errors say which character or length broke the rule.

#include <string_view>

#include "broker/base/status.h"

namespace fmq::model {

inline constexpr size_t kMaxTopicNameLength = 127;
inline constexpr size_t kMaxGroupNameLength = 255;
// A consumer group's retry and dead-letter topics: %RETRY%<group>, %DLQ%<group>.
inline constexpr std::string_view kRetryTopicPrefix = "%RETRY%";
inline constexpr std::string_view kDlqTopicPrefix = "%DLQ%";
inline bool IsRetryTopic(std::string_view topic) { return topic.starts_with(kRetryTopicPrefix); }
inline bool IsDlqTopic(std::string_view topic) { return topic.starts_with(kDlqTopicPrefix); }

// RocketMQ's system topics no client may send to (SCHEDULE_TOPIC_XXXX, RMQ_SYS_TRANS_HALF_TOPIC, ...).
bool IsSendForbiddenTopic(std::string_view topic);
// RocketMQ's own topics (is_system="true" in the metrics; left out of ferryctl top): the send-forbidden ones,
// TBW102, RMQ_SYS_* / rmq_sys_*, and a cluster's and a broker's own topics, which carry their names.
bool IsSystemTopic(std::string_view topic, std::string_view cluster, std::string_view broker_name);
// RocketMQ's own consumer groups (CID_RMQ_SYS_*, TOOLS_CONSUMER, ...).
bool IsSystemGroup(std::string_view group);

Status ValidateTopicName(std::string_view topic);
Status ValidateGroupName(std::string_view group);

}  // namespace fmq::model
