#include "operator/api/conditions.h"

#include <cstdio>
#include <ctime>

namespace fmq::op::api {

std::string FormatTime(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<std::chrono::system_clock::time_point> ParseTime(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return Status::InvalidArgument("not an RFC 3339 time: '" + s + "'");
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  long offset_seconds = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2) {
      return Status::InvalidArgument("bad offset in time '" + s + "'");
    }
    offset_seconds = (s[i] == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
    i += 6;
  } else {
    return Status::InvalidArgument("time without zone: '" + s + "'");
  }
  if (i != s.size()) return Status::InvalidArgument("trailing characters in time '" + s + "'");
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return Status::InvalidArgument("time out of range: '" + s + "'");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs - offset_seconds);
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status == kTrue;
}

bool SetCondition(std::vector<Condition>* conditions, Condition c,
                  std::chrono::system_clock::time_point now) {
  for (Condition& existing : *conditions) {
    if (existing.type != c.type) continue;
    c.last_transition_time = existing.status == c.status && !existing.last_transition_time.empty()
                                 ? existing.last_transition_time
                                 : FormatTime(now);
    if (existing == c) return false;
    existing = std::move(c);
    return true;
  }
  c.last_transition_time = FormatTime(now);
  conditions->push_back(std::move(c));
  return true;
}

nlohmann::json ConditionsToJson(const std::vector<Condition>& conditions) {
  nlohmann::json out = nlohmann::json::array();
  for (const Condition& c : conditions) {
    out.push_back({{"type", c.type},
                   {"status", c.status},
                   {"reason", c.reason},
                   {"message", c.message},
                   {"lastTransitionTime", c.last_transition_time},
                   {"observedGeneration", c.observed_generation}});
  }
  return out;
}

std::vector<Condition> ConditionsFromJson(const nlohmann::json& j) {
  std::vector<Condition> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("type") || !e["type"].is_string()) continue;
    Condition c;
    c.type = e["type"].get<std::string>();
    c.status = e.value("status", std::string(kUnknown));
    c.reason = e.value("reason", std::string());
    c.message = e.value("message", std::string());
    c.last_transition_time = e.value("lastTransitionTime", std::string());
    if (auto g = e.find("observedGeneration"); g != e.end() && g->is_number_integer()) {
      c.observed_generation = g->get<int64_t>();
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace fmq::op::api
