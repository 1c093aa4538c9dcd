#include "operator/kube/errors.h"

#include <fmt/format.h>

namespace fmq::op::kube {

namespace {

std::string_view DefaultReason(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "";
  }
}

std::string StringField(const nlohmann::json& j, const char* key) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

std::string Shorten(std::string_view s, size_t max) {
  std::string out(s.substr(0, max));
  for (auto& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

StatusCode CodeForHttp(int http_code, std::string_view reason) {
  switch (http_code) {
    case 400:
    case 405:
    case 413:
    case 415:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kAborted;
    case 410:
      return StatusCode::kOutOfRange;
    case 429:
      return StatusCode::kResourceExhausted;
    case 500:
      return StatusCode::kInternal;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      if (http_code >= 500) return StatusCode::kUnavailable;
      if (http_code >= 400) return StatusCode::kInvalidArgument;
      return StatusCode::kInternal;
  }
}

Status StatusFromApiStatus(std::string_view verb, std::string_view path, const nlohmann::json& status) {
  int code = 500;
  if (status.is_object() && status.contains("code") && status["code"].is_number_integer()) {
    code = status["code"].get<int>();
  }
  std::string reason = StringField(status, "reason");
  if (reason.empty()) reason = std::string(DefaultReason(code));
  std::string message = StringField(status, "message");
  std::string text = fmt::format("{} {}: {} {}", verb, path, code, reason);
  if (!message.empty()) text += ": " + message;
  // Causes carry the field paths of 422 Invalid and the conflicting managers of an apply conflict (unless the
  // message already lists them, as the apiserver does for a few causes).
  if (status.is_object() && status.contains("details") && status["details"].is_object()) {
    const auto& details = status["details"];
    if (details.contains("causes") && details["causes"].is_array()) {
      std::string causes;
      for (const auto& cause : details["causes"]) {
        std::string field = StringField(cause, "field");
        std::string cmsg = StringField(cause, "message");
        if (!cmsg.empty() && message.find(cmsg) != std::string::npos) continue;
        if (!causes.empty()) causes += "; ";
        causes += field.empty() ? cmsg : field + ": " + cmsg;
      }
      if (!causes.empty()) text += " (causes: " + causes + ")";
    }
  }
  return Status(CodeForHttp(code, reason), std::move(text));
}

Status StatusFromHttp(std::string_view verb, std::string_view path, int http_code, std::string_view body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && StringField(parsed, "kind") == "Status") {
    if (!parsed.contains("code") || !parsed["code"].is_number_integer()) parsed["code"] = http_code;
    return StatusFromApiStatus(verb, path, parsed);
  }
  std::string reason(DefaultReason(http_code));
  std::string text = fmt::format("{} {}: {} {}", verb, path, http_code, reason.empty() ? "Error" : reason);
  if (!body.empty()) text += ": " + Shorten(body, 300);
  return Status(CodeForHttp(http_code, reason), std::move(text));
}

}  // namespace fmq::op::kube
