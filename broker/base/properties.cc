#include "broker/base/properties.h"

namespace fmq {
namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

Result<std::map<std::string, std::string>> ParseProperties(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos || Trim(line.substr(0, sep)).empty()) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + " is not key=value: '" +
                                     std::string(line) + "'");
    }
    out[std::string(Trim(line.substr(0, sep)))] = std::string(Trim(line.substr(sep + 1)));
  }
  return out;
}

Status ParsePropertyBool(const std::string& key, const std::string& value, bool* out) {
  if (value == "true") {
    *out = true;
  } else if (value == "false") {
    *out = false;
  } else {
    return Status::InvalidArgument("config key " + key + ": '" + value + "' is not true or false");
  }
  return Status::Ok();
}

}  // namespace fmq
