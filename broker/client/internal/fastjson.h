#pragma once

// Java brokers write several admin bodies with fastjson's non-standard maps (protocol reference 1.8): numeric
// keys without quotes (`{0:"10.0.0.1:10911"}`) and objects as keys (`{{"brokerName":"b","queueId":0,
// "topic":"t"}:{...}}`). NormalizeFastJson rewrites such text into standard JSON by quoting every key that is
// not a string (an object key becomes the string of its JSON text), so nlohmann-json can parse it. Standard
// JSON passes through unchanged. Pure function.

#include <string>
#include <string_view>

namespace fmq::client::internal {

std::string NormalizeFastJson(std::string_view text);

}  // namespace fmq::client::internal
