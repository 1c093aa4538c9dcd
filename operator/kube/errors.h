#pragma once

// Maps Kubernetes API answers to fmq::Status (CONVENTIONS.md rule 3), in one place:
//
//   400 BadRequest, 405, 413, 415, 422 Invalid  -> InvalidArgument
//   401 Unauthorized                            -> Unauthenticated
//   403 Forbidden                               -> PermissionDenied
//   404 NotFound                                -> NotFound
//   409 AlreadyExists                           -> AlreadyExists
//   409 Conflict (resourceVersion CAS, apply)   -> Aborted
//   410 Gone / Expired                          -> OutOfRange (re-list; never retry with the same
//   resourceVersion) 429 TooManyRequests                         -> ResourceExhausted 500 -> Internal 503 and
//   other 5xx                           -> Unavailable 504                                         ->
//   DeadlineExceeded
//
// Messages name the verb, the path, the HTTP code and reason, and the apiserver's own Status message and
// causes:
//   "PUT /api/v1/namespaces/a/configmaps/x: 409 Conflict: Operation cannot be fulfilled on configmaps "x":
//   the
//    object has been modified; please apply your changes to the latest version and try again"
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/base/status.h"

namespace fmq::op::kube {

// The Status for a non-2xx answer. `body` is the response body (a metav1.Status when the apiserver wrote it;
// anything else is quoted, shortened).
Status StatusFromHttp(std::string_view verb, std::string_view path, int http_code, std::string_view body);

// The Status for a metav1.Status object (an ERROR watch event, or a parsed error body).
Status StatusFromApiStatus(std::string_view verb, std::string_view path, const nlohmann::json& status);

// The canonical code for an HTTP status code and the apiserver's reason ("AlreadyExists", "Conflict", ...).
StatusCode CodeForHttp(int http_code, std::string_view reason);

inline bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
inline bool IsAlreadyExists(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }
// 409 Conflict: a resourceVersion precondition failed or a server-side apply met another field manager.
inline bool IsConflict(const Status& s) { return s.code() == StatusCode::kAborted; }
// 410 Gone: the resourceVersion (or continue token) is too old; re-list from scratch.
inline bool IsGone(const Status& s) { return s.code() == StatusCode::kOutOfRange; }
inline bool IsForbidden(const Status& s) { return s.code() == StatusCode::kPermissionDenied; }
inline bool IsUnauthorized(const Status& s) { return s.code() == StatusCode::kUnauthenticated; }
inline bool IsInvalid(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }

}  // namespace fmq::op::kube
