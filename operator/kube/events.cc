#include "operator/kube/events.h"

#include <fmt/format.h>

#include "broker/base/logging.h"
#include "operator/kube/errors.h"
#include "operator/kube/object.h"

namespace fmq::op::kube {

namespace {

constexpr size_t kMaxMessageBytes = 1024;

std::string Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
  return std::string(s.substr(0, n));
}

}  // namespace

EventRecorder::EventRecorder(Client* client, EventRecorderOptions options)
    : client_(client),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &SystemClock()) {}

Status EventRecorder::Record(const nlohmann::json& involved, EventType type, std::string_view reason,
                             std::string_view message, std::string_view action) {
  const std::string obj_name = Name(involved);
  if (obj_name.empty()) return Status::InvalidArgument("an Event needs an involved object with a name");
  const std::string obj_ns = Namespace(involved);
  const std::string event_ns = obj_ns.empty() ? "default" : obj_ns;
  const std::string type_name = type == EventType::kWarning ? "Warning" : "Normal";
  const std::string text = Cut(message, kMaxMessageBytes);
  const std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", GetString(involved, "kind"),
                                      obj_ns, obj_name, Uid(involved), type_name, reason, text);
  const int64_t now_ms = clock_->NowMillis();
  const std::string now = FormatTime(now_ms);

  MutexLock lock(&mu_);
  auto it = tracked_.find(key);
  if (it != tracked_.end()) {
    Tracked& t = it->second;
    lru_.splice(lru_.begin(), lru_, t.lru);
    nlohmann::json patch = {{"count", t.count + 1}, {"lastTimestamp", now}};
    auto r = client_->Patch(kinds::kEvent, t.ns, t.name, PatchType::kMerge, patch);
    if (r.ok()) {
      t.count += 1;
      return Status::Ok();
    }
    if (!IsNotFound(r.status())) return r.status();
    // The Event expired: forget it and create a new one below.
    lru_.erase(t.lru);
    tracked_.erase(it);
  }

  nlohmann::json ref = {{"apiVersion", GetString(involved, "apiVersion")},
                        {"kind", GetString(involved, "kind")},
                        {"name", obj_name}};
  if (!obj_ns.empty()) ref["namespace"] = obj_ns;
  if (!Uid(involved).empty()) ref["uid"] = Uid(involved);
  // client-go's naming: <object>.<unix nanos in hex>; the sequence keeps two Events of one millisecond apart.
  std::string event_name =
      fmt::format("{}.{:x}", Cut(obj_name, 230), now_ms * 1'000'000 + (seq_++ % 1'000'000));
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", event_name}, {"namespace", event_ns}}},
      {"involvedObject", ref},
      {"reason", std::string(reason)},
      {"message", text},
      {"type", type_name},
      {"count", 1},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"source", {{"component", options_.reporting_controller}}},
      {"reportingComponent", options_.reporting_controller},
      {"reportingInstance", options_.reporting_instance},
  };
  if (!action.empty()) event["action"] = std::string(action);
  auto created = client_->Create(kinds::kEvent, event_ns, event);
  if (!created.ok()) return created.status();

  lru_.push_front(key);
  tracked_[key] = Tracked{Name(*created), event_ns, 1, lru_.begin()};
  while (tracked_.size() > std::max<size_t>(options_.max_tracked, 1)) {
    tracked_.erase(lru_.back());
    lru_.pop_back();
  }
  return Status::Ok();
}

}  // namespace fmq::op::kube
