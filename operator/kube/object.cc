#include "operator/kube/object.h"

#include "broker/base/time_codec.h"

namespace fmq::op::kube {

namespace {

const Json& Metadata(const Json& obj) {
  static const Json kEmpty = Json::object();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::string MapValue(const Json& obj, const char* map, std::string_view key) {
  const Json& md = Metadata(obj);
  auto it = md.find(map);
  if (it == md.end() || !it->is_object()) return "";
  return GetString(*it, key);
}

}  // namespace

std::string GetString(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Name(const Json& obj) { return GetString(Metadata(obj), "name"); }
std::string Namespace(const Json& obj) { return GetString(Metadata(obj), "namespace"); }
std::string Uid(const Json& obj) { return GetString(Metadata(obj), "uid"); }
std::string ResourceVersion(const Json& obj) { return GetString(Metadata(obj), "resourceVersion"); }

int64_t Generation(const Json& obj) {
  const Json& md = Metadata(obj);
  auto it = md.find("generation");
  return it != md.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string Label(const Json& obj, std::string_view key) { return MapValue(obj, "labels", key); }
std::string Annotation(const Json& obj, std::string_view key) { return MapValue(obj, "annotations", key); }

bool IsBeingDeleted(const Json& obj) {
  const Json& md = Metadata(obj);
  auto it = md.find("deletionTimestamp");
  return it != md.end() && !it->is_null();
}

std::string MakeKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

std::string ObjectKey(const Json& obj) { return MakeKey(Namespace(obj), Name(obj)); }

std::pair<std::string, std::string> SplitKey(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

std::string FormatTime(int64_t unix_millis) { return FormatRfc3339(unix_millis); }
std::string FormatMicroTime(int64_t unix_micros) { return FormatRfc3339Micros(unix_micros); }
Result<int64_t> ParseTimeMicros(std::string_view text) { return ParseRfc3339Micros(text); }

}  // namespace fmq::op::kube
