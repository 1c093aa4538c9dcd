#include "operator/api/conditions.h"

#include "broker/base/time_codec.h"

namespace fmq::op::api {

std::string FormatTime(std::chrono::system_clock::time_point t) {
  return FormatRfc3339(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

Result<std::chrono::system_clock::time_point> ParseTime(std::string_view text) {
  // Conditions carry whole seconds, as metav1.Time does: a fraction is dropped.
  FMQ_ASSIGN_OR_RETURN(int64_t micros, ParseRfc3339Micros(text));
  return std::chrono::system_clock::time_point(
      std::chrono::floor<std::chrono::seconds>(std::chrono::microseconds(micros)));
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
