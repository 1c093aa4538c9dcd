#include "broker/client/unique_id.h"

#include <unistd.h>

#include <ctime>
#include <random>

#include "broker/net/local_address.h"

namespace fmq::client {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendHex(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    const uint8_t b = static_cast<uint8_t>(v >> (8 * i));
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 0xF]);
  }
}

// Start of the month after the one starting at `start` (local time).
int64_t NextMonth(int64_t start) {
  time_t secs = static_cast<time_t>(start / 1000);
  struct tm tm {};
  localtime_r(&secs, &tm);
  tm.tm_mon += 1;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm)) * 1000;
}

}  // namespace

int64_t UniqueIdGenerator::StartOfMonthMillis(int64_t millis) {
  time_t secs = static_cast<time_t>(millis / 1000);
  struct tm tm {};
  localtime_r(&secs, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm)) * 1000;
}

UniqueIdGenerator::UniqueIdGenerator(std::array<uint8_t, 4> ip, uint16_t pid, uint32_t random,
                                     const Clock* clock)
    : clock_(clock) {
  for (uint8_t b : ip) AppendHex(b, 1, &fixed_);
  AppendHex(pid, 2, &fixed_);
  AppendHex(random, 4, &fixed_);
}

UniqueIdGenerator::UniqueIdGenerator()
    : UniqueIdGenerator(net::LocalIpV4(), static_cast<uint16_t>(getpid()),
                        static_cast<uint32_t>(std::random_device()()), &SystemClock()) {}

std::string UniqueIdGenerator::Next() {
  const int64_t now = clock_->NowMillis();
  int64_t start = start_of_month_.load(std::memory_order_acquire);
  if (now >= next_month_.load(std::memory_order_acquire) || now < start) {
    MutexLock lock(&mu_);
    start = StartOfMonthMillis(now);
    next_month_.store(NextMonth(start), std::memory_order_release);
    start_of_month_.store(start, std::memory_order_release);
  }
  std::string id;
  id.reserve(32);
  id = fixed_;
  AppendHex(static_cast<uint32_t>(static_cast<int32_t>(now - start)), 4, &id);
  AppendHex(static_cast<uint16_t>(counter_.fetch_add(1, std::memory_order_relaxed)), 2, &id);
  return id;
}

}  // namespace fmq::client
