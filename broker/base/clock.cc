#include "broker/base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace fmq {
namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  int64_t MonotonicNanos() const override {
    using namespace std::chrono;
    return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

std::tm LocalTm(int64_t millis) {
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return tm;
}
}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

int LocalHourOfDay(int64_t millis) { return LocalTm(millis).tm_hour; }

std::string LocalTimestampName(int64_t millis) {
  std::tm tm = LocalTm(millis);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis % 1000));
  return buf;
}

}  // namespace fmq
