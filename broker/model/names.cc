#include "broker/model/names.h"

#include <set>
#include <string>

namespace fmq::model {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '%' || c == '|';
}

Status ValidateName(std::string_view kind, std::string_view name, size_t max_len) {
  if (name.empty()) return Status::InvalidArgument(std::string(kind) + " name is empty");
  if (name.size() > max_len) {
    return Status::InvalidArgument(std::string(kind) + " name is " + std::to_string(name.size()) +
                                   " characters long; the limit is " + std::to_string(max_len));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i])) {
      unsigned code = static_cast<unsigned char>(name[i]);
      std::string shown =
          code >= 0x20 && code < 0x7f ? std::string(1, name[i]) : "\\x" + std::to_string(code);
      return Status::InvalidArgument(std::string(kind) + " name '" + std::string(name) +
                                     "' has the character '" + shown + "' at position " + std::to_string(i) +
                                     "; allowed are letters, digits, '_', '-', '%' and '|'");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTopicName(std::string_view topic) { return ValidateName("topic", topic, kMaxTopicNameLength); }
Status ValidateGroupName(std::string_view group) { return ValidateName("group", group, kMaxGroupNameLength); }

bool IsSendForbiddenTopic(std::string_view topic) {
  static const std::set<std::string_view> kForbidden = {
      "SCHEDULE_TOPIC_XXXX",        "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC",
      "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC",          "OFFSET_MOVED_EVENT",
      "rmq_sys_wheel_timer"};
  return kForbidden.count(topic) > 0;
}

bool IsSystemTopic(std::string_view topic, std::string_view cluster, std::string_view broker_name) {
  return IsSendForbiddenTopic(topic) || topic == "TBW102" || topic.starts_with("RMQ_SYS_") ||
         topic.starts_with("rmq_sys_") || topic == cluster || topic == broker_name ||
         (topic.size() == cluster.size() + 12 && topic.starts_with(cluster) &&
          topic.ends_with("_REPLY_TOPIC"));
}

bool IsSystemGroup(std::string_view group) {
  static const std::set<std::string_view> kGroups = {
      "TOOLS_CONSUMER",    "FILTERSRV_CONSUMER", "__MONITOR_CONSUMER", "CLIENT_INNER_PRODUCER",
      "SELF_TEST_P_GROUP", "SELF_TEST_C_GROUP",  "CID_ONS-HTTP-PROXY", "CID_ONSAPI_PERMISSION",
      "CID_ONSAPI_OWNER",  "CID_ONSAPI_PULL"};
  return group.starts_with("CID_RMQ_SYS_") || kGroups.count(group) > 0;
}

}  // namespace fmq::model
