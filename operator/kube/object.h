#pragma once

// Small helpers over Kubernetes objects held as nlohmann::json: metadata fields, cache keys, timestamps.
// Missing or mistyped fields read as empty/zero, never throw.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "broker/base/status.h"

namespace fmq::op::kube {

using Json = nlohmann::json;

std::string Name(const Json& obj);
std::string Namespace(const Json& obj);
std::string Uid(const Json& obj);
std::string ResourceVersion(const Json& obj);
int64_t Generation(const Json& obj);
// metadata.labels[key] or metadata.annotations[key], "" if absent.
std::string Label(const Json& obj, std::string_view key);
std::string Annotation(const Json& obj, std::string_view key);
bool IsBeingDeleted(const Json& obj);  // metadata.deletionTimestamp is set

// A string member of an object, "" when absent or not a string (for reading nested API fields safely).
std::string GetString(const Json& obj, std::string_view key);

// The cache and work-queue key: "namespace/name", or "name" for cluster-scoped objects.
std::string ObjectKey(const Json& obj);
std::string MakeKey(std::string_view ns, std::string_view name);
// Splits a key into namespace ("" for cluster-scoped) and name.
std::pair<std::string, std::string> SplitKey(std::string_view key);

// metav1.Time ("2024-05-01T10:00:00Z") and metav1.MicroTime ("2024-05-01T10:00:00.123456Z") in UTC.
std::string FormatTime(int64_t unix_millis);
std::string FormatMicroTime(int64_t unix_micros);
// Parses either format (and RFC 3339 offsets such as +02:00) to microseconds since the Unix epoch.
Result<int64_t> ParseTimeMicros(std::string_view text);

}  // namespace fmq::op::kube
