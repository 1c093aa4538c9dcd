#include "operator/kube/watch.h"

namespace fmq::op::kube {

std::string_view WatchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

Result<WatchEvent> WatchDecoder::DecodeLine(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Status::Corruption("watch stream line is not a JSON object: '" + std::string(line.substr(0, 200)) +
                              "'");
  }
  auto type_it = j.find("type");
  auto obj_it = j.find("object");
  if (type_it == j.end() || !type_it->is_string() || obj_it == j.end() || !obj_it->is_object()) {
    return Status::Corruption("watch event without type or object: '" + std::string(line.substr(0, 200)) +
                              "'");
  }
  const std::string& type = type_it->get_ref<const std::string&>();
  WatchEvent ev;
  if (type == "ADDED") {
    ev.type = WatchEventType::kAdded;
  } else if (type == "MODIFIED") {
    ev.type = WatchEventType::kModified;
  } else if (type == "DELETED") {
    ev.type = WatchEventType::kDeleted;
  } else if (type == "BOOKMARK") {
    ev.type = WatchEventType::kBookmark;
  } else if (type == "ERROR") {
    ev.type = WatchEventType::kError;
  } else {
    return Status::Corruption("watch event of unknown type '" + type + "'");
  }
  ev.object = std::move(*obj_it);
  return ev;
}

Status WatchDecoder::Feed(std::string_view bytes, std::vector<WatchEvent>* out) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(bytes);
      if (pending_.size() > max_line_bytes_) {
        return Status::Corruption("watch event longer than " + std::to_string(max_line_bytes_) + " bytes");
      }
      return Status::Ok();
    }
    std::string_view line;
    if (pending_.empty()) {
      line = bytes.substr(0, nl);
    } else {
      pending_.append(bytes.substr(0, nl));
      line = pending_;
    }
    bytes.remove_prefix(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) {
      auto ev = DecodeLine(line);
      if (!ev.ok()) return ev.status();
      out->push_back(std::move(ev).value());
    }
    pending_.clear();
  }
  return Status::Ok();
}

void Cancellation::Cancel() {
  std::function<void()> hook;
  {
    MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    hook = hook_;
  }
  if (hook) hook();
}

bool Cancellation::IsCancelled() const {
  MutexLock lock(&mu_);
  return cancelled_;
}

void Cancellation::Reset() {
  MutexLock lock(&mu_);
  cancelled_ = false;
}

bool Cancellation::SetHook(std::function<void()> hook) {
  MutexLock lock(&mu_);
  if (cancelled_) return false;
  hook_ = std::move(hook);
  return true;
}

void Cancellation::ClearHook() {
  MutexLock lock(&mu_);
  hook_ = nullptr;
}

}  // namespace fmq::op::kube
