#pragma once

// Java .properties text as RocketMQ's broker.conf / namesrv.conf use it: `key=value` or `key: value` lines,
// `#` and `!` comments, surrounding blanks trimmed. (Line continuations and unicode escapes are not used by
// those files and are not interpreted.) Malformed lines are errors naming the line.

#include <map>
#include <string>
#include <string_view>

#include "broker/base/status.h"

namespace fmq {

Result<std::map<std::string, std::string>> ParseProperties(std::string_view text);

}  // namespace fmq
