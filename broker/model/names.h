#pragma once

// Name rules for topics and groups, as RocketMQ's TopicValidator enforces them: 1..127 characters from
// [A-Za-z0-9_-%|] ('%' and '|' appear in system topics such as %RETRY%group and %DLQ%group).
// Errors say which character or length broke the rule.

#include <string_view>

#include "broker/base/status.h"

namespace fmq::model {

inline constexpr size_t kMaxTopicNameLength = 127;
inline constexpr size_t kMaxGroupNameLength = 255;

Status ValidateTopicName(std::string_view topic);
Status ValidateGroupName(std::string_view group);

}  // namespace fmq::model
