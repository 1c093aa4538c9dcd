#pragma once

// RocketMQ's delay levels and their progress table.
//
// A message sent with the property DELAY=n (1 <= n <= the number of levels; larger values clamp to the last
// level, 0 or less means no delay) is stored in SCHEDULE_TOPIC_XXXX, queue n-1, with its real topic and queue
// in REAL_TOPIC / REAL_QID, and its consume-queue tag code holds the time it is due (store time + the level's
// delay). `messageDelayLevel` names the levels: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
// by default, one <number><unit> per level, unit s, m, h or d, separated by single spaces.
//
// The broker's progress per level (the next queue offset to deliver) is delayOffset.json and the body of
// GET_ALL_DELAY_OFFSET: {"offsetTable":{"1":12,"2":0}} (fastjson writes the level numbers unquoted; both
// forms are read).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/status.h"

namespace fmq::model {

inline constexpr const char* kScheduleTopic = "SCHEDULE_TOPIC_XXXX";
inline constexpr const char* kDefaultMessageDelayLevel =
    "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

class DelayLevels {
 public:
  // The default table.
  DelayLevels();
  // InvalidArgument naming the bad entry.
  static Result<DelayLevels> Parse(std::string_view text);

  int max_level() const { return static_cast<int>(delay_ms_.size()); }
  // Delay of a level, 1..max_level().
  int64_t DelayMs(int level) const { return delay_ms_[static_cast<size_t>(level - 1)]; }
  // The level a DELAY=level message is stored at: levels above the last are the last. REQUIRES: level > 0.
  int Clamp(int level) const { return level > max_level() ? max_level() : level; }
  // When a message stored at `store_timestamp` in queue level-1 is due; a level the table does not have
  // (the table changed since it was stored) is due one second after it was stored, as RocketMQ computes it.
  int64_t DeliverTimestamp(int level, int64_t store_timestamp) const;
  // The text form, as messageDelayLevel writes it.
  std::string ToString() const;

 private:
  struct Empty {};
  explicit DelayLevels(Empty) {}
  std::vector<int64_t> delay_ms_;
  std::vector<std::string> text_;
};

// The tag code of a record's consume-queue entry: for SCHEDULE_TOPIC_XXXX with DELAY > 0 the time it is due
// (store time + the level's delay, the level clamped to the table), for rmq_sys_wheel_timer its TIMER_OUT_MS
// (model/timer.h), otherwise the hash of its TAGS (0
// without). Dispatch writes it; recovery's torn-tail check and the store tools compare entries with it.
int64_t ConsumeQueueTagsCode(std::string_view topic, std::string_view properties, int64_t store_timestamp,
                             const DelayLevels& levels);

// The DELAY property's level: nullopt when absent; InvalidArgument when it is not an integer.
Result<int> ParseDelayLevelProperty(std::string_view value);

std::string EncodeDelayOffsetTable(const std::map<int32_t, int64_t>& table);
Result<std::map<int32_t, int64_t>> DecodeDelayOffsetTable(std::string_view text);

}  // namespace fmq::model
