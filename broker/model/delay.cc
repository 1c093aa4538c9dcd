#include "broker/model/delay.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/model/admin_body.h"
#include "broker/model/message.h"
#include "broker/model/message_format.h"
#include "broker/model/timer.h"

namespace fmq::model {

DelayLevels::DelayLevels() { *this = Parse(kDefaultMessageDelayLevel).value(); }

Result<DelayLevels> DelayLevels::Parse(std::string_view text) {
  DelayLevels levels{Empty{}};
  size_t pos = 0;
  while (true) {
    const size_t end = std::min(text.find(' ', pos), text.size());
    const std::string_view entry = text.substr(pos, end - pos);
    const std::string where = "messageDelayLevel '" + std::string(text) + "': level " +
                              std::to_string(levels.delay_ms_.size() + 1) + " '" + std::string(entry) + "' ";
    if (entry.size() < 2) return Status::InvalidArgument(where + "is not <number><s|m|h|d>");
    int64_t unit = 0;
    switch (entry.back()) {
      case 's':
        unit = 1000;
        break;
      case 'm':
        unit = 60'000;
        break;
      case 'h':
        unit = 3'600'000;
        break;
      case 'd':
        unit = 86'400'000;
        break;
      default:
        return Status::InvalidArgument(where + "does not end in a unit s, m, h or d");
    }
    int64_t n = 0;
    const char* first = entry.data();
    const char* last = entry.data() + entry.size() - 1;
    auto [p, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || p != last || n < 0 || n > INT64_MAX / unit / 2)
      return Status::InvalidArgument(where + "does not start with a non-negative number");
    levels.delay_ms_.push_back(n * unit);
    levels.text_.emplace_back(entry);
    if (end == text.size()) break;
    pos = end + 1;
  }
  return levels;
}

int64_t DelayLevels::DeliverTimestamp(int level, int64_t store_timestamp) const {
  if (level >= 1 && level <= max_level()) return store_timestamp + DelayMs(level);
  return store_timestamp + 1000;
}

std::string DelayLevels::ToString() const {
  std::string out;
  for (const auto& t : text_) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

int64_t ConsumeQueueTagsCode(std::string_view topic, std::string_view properties, int64_t store_timestamp,
                             const DelayLevels& levels) {
  if (topic == kScheduleTopic) {
    if (auto d = FindProperty(properties, prop::kDelayTimeLevel)) {
      if (auto level = ParseDelayLevelProperty(*d); level.ok() && *level > 0)
        return levels.DeliverTimestamp(levels.Clamp(*level), store_timestamp);
    }
  }
  if (topic == kTimerTopic) {
    // A timer's slot time (docs/formats/timer.md); unreadable: due at once.
    int64_t out = store_timestamp;
    if (auto v = FindProperty(properties, prop::kTimerOutMs)) {
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
      if (ec != std::errc() || p != v->data() + v->size()) out = store_timestamp;
    }
    return out;
  }
  auto tags = FindProperty(properties, prop::kTags);
  return tags ? TagsHashCode(*tags) : 0;
}

Result<int> ParseDelayLevelProperty(std::string_view value) {
  int level = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), level);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size())
    return Status::InvalidArgument("the DELAY property '" + std::string(value.substr(0, 32)) +
                                   "' is not a delay level (an integer)");
  return level;
}

std::string EncodeDelayOffsetTable(const std::map<int32_t, int64_t>& table) {
  nlohmann::json t = nlohmann::json::object();
  for (const auto& [level, offset] : table) t[std::to_string(level)] = offset;
  return nlohmann::json({{"offsetTable", t}}).dump();
}

Result<std::map<int32_t, int64_t>> DecodeDelayOffsetTable(std::string_view text) {
  auto normal = NormalizeFastjson(text);
  if (!normal.ok()) return normal.status();
  auto j = nlohmann::json::parse(*normal, nullptr, false);
  if (!j.is_object() || !j.contains("offsetTable") || !j["offsetTable"].is_object())
    return Status::InvalidArgument("a delay offset table is {\"offsetTable\":{\"<level>\":<offset>,...}}");
  std::map<int32_t, int64_t> table;
  for (const auto& [key, offset] : j["offsetTable"].items()) {
    int32_t level = 0;
    auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), level);
    if (ec != std::errc() || p != key.data() + key.size() || level <= 0)
      return Status::InvalidArgument("delay offset table: '" + key.substr(0, 32) + "' is not a delay level");
    if (!offset.is_number_integer() || offset.get<int64_t>() < 0)
      return Status::InvalidArgument("delay offset table: level " + key + " has no non-negative offset");
    table[level] = offset.get<int64_t>();
  }
  return table;
}

}  // namespace fmq::model
