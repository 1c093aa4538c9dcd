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

Status ValidateTopicName(std::string_view topic);
Status ValidateGroupName(std::string_view group);

}  // namespace fmq::model
