#include "broker/model/names.h"

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

}  // namespace fmq::model
