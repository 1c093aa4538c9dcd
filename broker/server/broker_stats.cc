#include "broker/server/broker_stats.h"

#include <time.h>

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
}  // namespace

BrokerStats::BrokerStats(const Clock& clock) : clock_(clock) {}

void BrokerStats::Sample(int64_t puts_total) {
  MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  const Point p{now, puts_total, got_total()};
  const int day = LocalDayOfYear(now);
  if (day_ == -1) {
    day_ = day;
    today_morning_ = yesterday_morning_ = {now, 0, 0};
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
  return kv;
}

void BrokerStats::AddKeyed(const std::string& key, int64_t messages) {
  const int64_t minute = clock_.NowMillis() / 60'000;
  MutexLock lock(&keyed_mu_);
  auto& m = keyed_[key].minutes;
  if (!m.empty() && m.back().first == minute) {
    m.back().second += messages;
    return;
  }
  m.emplace_back(minute, messages);
  while (!m.empty() && m.front().first <= minute - 1440) m.pop_front();
}

void BrokerStats::AddTopicPut(const std::string& topic, int64_t messages) {
  AddKeyed(std::string(kTopicPutNums) + "|" + topic, messages);
}

void BrokerStats::AddGroupGet(const std::string& topic, const std::string& group, int64_t messages) {
  AddKeyed(std::string(kGroupGetNums) + "|" + topic + "@" + group, messages);
}

std::optional<BrokerStats::Windows> BrokerStats::Stats(const std::string& name,
                                                       const std::string& key) const {
  const int64_t now_minute = clock_.NowMillis() / 60'000;
  MutexLock lock(&keyed_mu_);
  auto it = keyed_.find(name + "|" + key);
  if (it == keyed_.end()) return std::nullopt;
  Windows w;
  for (const auto& [minute, n] : it->second.minutes) {
    const int64_t age = now_minute - minute;  // 0: this minute
    if (age < 1440) w.day.sum += n;
    if (age < 60) w.hour.sum += n;
    if (age <= 1) w.minute.sum += n;  // this minute and the last (a full minute of traffic at least)
  }
  w.minute.tps = static_cast<double>(w.minute.sum) / 120.0;
  w.hour.tps = static_cast<double>(w.hour.sum) / 3600.0;
  w.day.tps = static_cast<double>(w.day.sum) / 86400.0;
  return w;
}

}  // namespace fmq::server
