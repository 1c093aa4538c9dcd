#pragma once

// The statistics items a broker answers VIEW_BROKER_STATS_DATA for (RocketMQ's BrokerStatsManager names,
// which mqadmin statsAll, the exporter and MQCloud ask by), and how their keys are spelled. The broker's
// BrokerStats keeps them; the admin client, ferryctl and the operator ask for them.

#include <string>
#include <string_view>

namespace fmq::model::stats_item {

// Keyed by topic: messages and bytes stored by sends.
inline constexpr const char* kTopicPutNums = "TOPIC_PUT_NUMS";
inline constexpr const char* kTopicPutSize = "TOPIC_PUT_SIZE";
// Keyed by GroupKey(topic, group): messages and bytes pulled, messages handed back for a retry.
inline constexpr const char* kGroupGetNums = "GROUP_GET_NUMS";
inline constexpr const char* kGroupGetSize = "GROUP_GET_SIZE";
inline constexpr const char* kSendBackNums = "SNDBCK_PUT_NUMS";
// Keyed by GroupKey(topic, group): messages moved to %DLQ%<group> (the name of Sohu's broker, which MQCloud's
// dead-message alert reads) and pulls answered PULL_OFFSET_MOVED (FerryMQ's; RocketMQ 4 wrote an
// OFFSET_MOVED_EVENT message instead, 5 only logs it).
inline constexpr const char* kDeadPutNums = "DEAD_PUT_NUMS";
inline constexpr const char* kOffsetMovedNums = "OFFSET_MOVED_NUMS";

// A topic@group item's key, RocketMQ's spelling.
inline std::string GroupKey(std::string_view topic, std::string_view group) {
  std::string key;
  key.reserve(topic.size() + 1 + group.size());
  key.append(topic).append("@").append(group);
  return key;
}

}  // namespace fmq::model::stats_item
