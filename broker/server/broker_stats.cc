#include "broker/server/broker_stats.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

namespace fmq::server {

namespace {
int LocalDayOfYear(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  localtime_r(&secs, &tm);
  return tm.tm_year * 400 + tm.tm_yday;
}

std::string Tps(double a, double b, double c) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", a, b, c);
  return buf;
}

// The upper bounds (ms) of putMessageDistributeTime's buckets but the last.
constexpr std::array<int64_t, 12> kPutTimeBounds = {0,    10,   50,   100,  200,  500,
                                                    1000, 2000, 3000, 4000, 5000, 10000};

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}
}  // namespace

BrokerStats::BrokerStats(const Clock& clock) : clock_(clock) {}

void BrokerStats::AddPutTime(int64_t millis) {
  size_t i = 0;
  // RocketMQ's buckets: <=0 ms, then [bound(i-1), bound(i)) ms, and 10 s or more.
  if (millis > 0) {
    i = 1;
    while (i < kPutTimeBounds.size() && millis >= kPutTimeBounds[i]) ++i;
  }
  put_times_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicMax(put_time_max_, millis);
}

void BrokerStats::AddGetTime(int64_t millis) { AtomicMax(get_time_max_, millis); }

std::array<int64_t, BrokerStats::kPutTimeBuckets.size()> BrokerStats::PutTimesNow() const {
  std::array<int64_t, kPutTimeBuckets.size()> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = put_times_[i].load(std::memory_order_relaxed);
  return a;
}

std::array<int64_t, BrokerStats::kPutTimeBuckets.size()> BrokerStats::LastMinutePutTimesLocked() const {
  // Counted since the newest sample at least 60 s old; since the start while the broker is younger.
  std::array<int64_t, kPutTimeBuckets.size()> now = PutTimesNow();
  const int64_t at = clock_.NowMillis();
  const Point* base = nullptr;
  for (const Point& p : points_) {
    if (at - p.at_ms < 60'000) break;
    base = &p;
  }
  if (base == nullptr) return now;
  for (size_t i = 0; i < now.size(); ++i) now[i] -= base->put_times[i];
  return now;
}

void BrokerStats::Sample(int64_t puts_total) {
  MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  const Point p{now, puts_total, got_total(), PutTimesNow()};
  const int day = LocalDayOfYear(now);
  if (day_ == -1) {
    day_ = day;
    today_morning_ = yesterday_morning_ = Point{now, 0, 0, {}};
  } else if (day != day_) {
    day_ = day;
    yesterday_morning_ = today_morning_;
    today_morning_ = p;
  }
  points_.push_back(p);
  while (points_.size() > 2 && now - points_[1].at_ms >= 600'000) points_.pop_front();
}

double BrokerStats::RateLocked(int64_t window_ms, bool puts) const {
  if (points_.size() < 2) return 0;
  const Point& last = points_.back();
  const Point* first = &points_.front();
  for (const Point& p : points_) {
    if (last.at_ms - p.at_ms <= window_ms) {
      first = &p;
      break;
    }
  }
  const int64_t dt = last.at_ms - first->at_ms;
  if (dt <= 0) return 0;
  const int64_t dn = puts ? last.puts - first->puts : last.gets - first->gets;
  return static_cast<double>(dn) * 1000.0 / static_cast<double>(dt);
}

std::map<std::string, std::string> BrokerStats::RuntimeInfo(int64_t puts_total) const {
  MutexLock lock(&mu_);
  std::map<std::string, std::string> kv;
  kv["putTps"] = Tps(RateLocked(10'000, true), RateLocked(60'000, true), RateLocked(600'000, true));
  const std::string get =
      Tps(RateLocked(10'000, false), RateLocked(60'000, false), RateLocked(600'000, false));
  kv["getTransferedTps"] = get;
  kv["getTotalTps"] = get;
  kv["getFoundTps"] = get;
  kv["getMissTps"] = "0.00 0.00 0.00";
  kv["msgPutTotalTodayNow"] = std::to_string(puts_total);
  kv["msgGetTotalTodayNow"] = std::to_string(got_total());
  kv["msgPutTotalTodayMorning"] = std::to_string(today_morning_.puts);
  kv["msgGetTotalTodayMorning"] = std::to_string(today_morning_.gets);
  kv["msgPutTotalYesterdayMorning"] = std::to_string(yesterday_morning_.puts);
  kv["msgGetTotalYesterdayMorning"] = std::to_string(yesterday_morning_.gets);
  const auto times = LastMinutePutTimesLocked();
  std::string dist;
  int64_t count = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    if (i) dist += ' ';
    dist += std::string("[") + kPutTimeBuckets[i] + "]:" + std::to_string(times[i]);
    count += times[i];
  }
  kv["putMessageDistributeTime"] = dist;
  const int64_t put_max = put_time_max_.load(std::memory_order_relaxed);
  auto percentile = [&](double q) -> int64_t {
    if (count == 0) return 0;
    const auto rank = static_cast<int64_t>(q * static_cast<double>(count) + 0.999999);
    int64_t seen = 0;
    for (size_t i = 0; i < times.size(); ++i) {
      seen += times[i];
      if (seen >= rank) return i < kPutTimeBounds.size() ? kPutTimeBounds[i] : put_max;
    }
    return put_max;
  };
  kv["putLatency99"] = std::to_string(percentile(0.99));
  kv["putLatency999"] = std::to_string(percentile(0.999));
  kv["putMessageEntireTimeMax"] = std::to_string(put_max);
  kv["getMessageEntireTimeMax"] = std::to_string(get_time_max_.load(std::memory_order_relaxed));
  return kv;
}

std::pair<double, double> BrokerStats::MinuteRates() const {
  MutexLock lock(&mu_);
  return {RateLocked(60'000, true), RateLocked(60'000, false)};
}

std::optional<std::pair<std::string, bool>> BrokerStats::Family(const std::string& name) {
  if (name == kTopicPutNums) return std::make_pair(std::string("P|"), false);
  if (name == kTopicPutSize) return std::make_pair(std::string("P|"), true);
  if (name == kGroupGetNums) return std::make_pair(std::string("G|"), false);
  if (name == kGroupGetSize) return std::make_pair(std::string("G|"), true);
  if (name == kSendBackNums) return std::make_pair(std::string("B|"), false);
  if (name == kDeadPutNums) return std::make_pair(std::string("D|"), false);
  if (name == kOffsetMovedNums) return std::make_pair(std::string("M|"), false);
  return std::nullopt;
}

void BrokerStats::AddKeyed(const std::string& key, int64_t messages, int64_t bytes) {
  const int64_t minute = clock_.NowMillis() / 60'000;
  MutexLock lock(&keyed_mu_);
  AddKeyedLocked(key, messages, bytes, minute);
}

void BrokerStats::AddKeyedLocked(const std::string& key, int64_t messages, int64_t bytes, int64_t minute) {
  auto& m = keyed_[key].minutes;
  if (!m.empty() && m.back().minute == minute) {
    m.back().messages += messages;
    m.back().bytes += bytes;
    return;
  }
  m.push_back({minute, messages, bytes});
  while (!m.empty() && m.front().minute <= minute - 1440) m.pop_front();
}

void BrokerStats::AddTopicPut(const std::string& topic, const std::string& producer_group, int64_t messages,
                              int64_t bytes) {
  const int64_t now = clock_.NowMillis();
  const std::string key = "P|" + topic;
  MutexLock lock(&keyed_mu_);  // once per send: the send path's only stats lock
  AddKeyedLocked(key, messages, bytes, now / 60'000);
  if (producer_group.empty()) return;
  auto& groups = producers_[topic];
  groups[producer_group] = now;
  if (groups.size() > kMaxProducerGroups) {
    groups.erase(std::min_element(groups.begin(), groups.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
}

std::map<std::string, int64_t> BrokerStats::ProducerGroups(const std::string& topic) const {
  const int64_t since = clock_.NowMillis() - 86'400'000;
  MutexLock lock(&keyed_mu_);
  std::map<std::string, int64_t> out;
  if (auto it = producers_.find(topic); it != producers_.end()) {
    for (const auto& [group, at] : it->second) {
      if (at >= since) out.emplace(group, at);
    }
  }
  return out;
}

void BrokerStats::AddGroupGet(const std::string& topic, const std::string& group, int64_t messages,
                              int64_t bytes) {
  AddKeyed("G|" + model::stats_item::GroupKey(topic, group), messages, bytes);
}

void BrokerStats::AddSendBack(const std::string& topic, const std::string& group) {
  AddKeyed("B|" + model::stats_item::GroupKey(topic, group), 1, 0);
}

void BrokerStats::AddDead(const std::string& topic, const std::string& group) {
  AddKeyed("D|" + model::stats_item::GroupKey(topic, group), 1, 0);
}

void BrokerStats::AddOffsetMoved(const std::string& topic, const std::string& group) {
  AddKeyed("M|" + model::stats_item::GroupKey(topic, group), 1, 0);
}

BrokerStats::Windows BrokerStats::WindowsOf(const Keyed& k, bool bytes, int64_t now_minute) const {
  Windows w;
  for (const Minute& m : k.minutes) {
    const int64_t n = bytes ? m.bytes : m.messages;
    const int64_t age = now_minute - m.minute;  // 0: this minute
    if (age < 1440) w.day.sum += n;
    if (age < 60) w.hour.sum += n;
    if (age <= 1) w.minute.sum += n;  // this minute and the last (a full minute of traffic at least)
  }
  w.minute.tps = static_cast<double>(w.minute.sum) / 120.0;
  w.hour.tps = static_cast<double>(w.hour.sum) / 3600.0;
  w.day.tps = static_cast<double>(w.day.sum) / 86400.0;
  return w;
}

std::optional<BrokerStats::Windows> BrokerStats::Stats(const std::string& name,
                                                       const std::string& key) const {
  const auto family = Family(name);
  if (!family) return std::nullopt;
  const int64_t now_minute = clock_.NowMillis() / 60'000;
  MutexLock lock(&keyed_mu_);
  auto it = keyed_.find(family->first + key);
  if (it == keyed_.end()) return std::nullopt;
  return WindowsOf(it->second, family->second, now_minute);
}

std::vector<std::pair<std::string, BrokerStats::Windows>> BrokerStats::All(const std::string& name) const {
  std::vector<std::pair<std::string, Windows>> out;
  const auto family = Family(name);
  if (!family) return out;
  const int64_t now_minute = clock_.NowMillis() / 60'000;
  MutexLock lock(&keyed_mu_);
  for (const auto& [key, k] : keyed_) {
    if (key.compare(0, family->first.size(), family->first) != 0) continue;
    out.emplace_back(key.substr(family->first.size()), WindowsOf(k, family->second, now_minute));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace fmq::server
