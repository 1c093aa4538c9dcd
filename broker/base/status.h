#pragma once

// Status and Result<T>: errors are values (CONVENTIONS.md rule 3).
//
// A Status is either OK (no allocation, one pointer compare) or a canonical code with a message. Result<T>
// holds a T or a non-OK Status. Both are [[nodiscard]]; propagate with FMQ_RETURN_IF_ERROR /
// FMQ_ASSIGN_OR_RETURN. Mapping to RocketMQ wire response codes happens in one place in the protocol layer,
// never here.
//
// Thread-safety: const methods are safe to call concurrently; a Status is a value and is cheap to move.

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fmq {

enum class StatusCode : int {
  kOk = 0,
  kNotFound,
  kInvalidArgument,
  kCorruption,
  kIOError,
  kUnavailable,
  kDeadlineExceeded,
  kFailedPrecondition,
  kResourceExhausted,
  kAlreadyExists,
  kInternal,
  // The store refuses writes because the disk passed its "disk full" threshold. Distinct from
  // ResourceExhausted so the broker can answer SERVICE_NOT_AVAILABLE (code 14) with a precise remark.
  kDiskFull,
  // The caller is authenticated but not allowed to do this (HTTP 403).
  kPermissionDenied,
  // The caller's credentials are missing or invalid (HTTP 401).
  kUnauthenticated,
  // A concurrent change won: compare-and-swap on a version failed, or a server-side apply conflicted with
  // another field manager (HTTP 409 Conflict). Retrying with fresh state may succeed.
  kAborted,
  // The operation asked for something outside the range the server still holds, e.g. a Kubernetes watch or
  // list from a resourceVersion that was compacted away (HTTP 410 Gone): start over from fresh state.
  kOutOfRange,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) { return {StatusCode::kDeadlineExceeded, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {StatusCode::kResourceExhausted, std::move(msg)};
  }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status DiskFull(std::string msg) { return {StatusCode::kDiskFull, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status OutOfRange(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : std::string_view(); }

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsDiskFull() const { return code() == StatusCode::kDiskFull; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsAborted() const { return code() == StatusCode::kAborted; }
  bool IsOutOfRange() const { return code() == StatusCode::kOutOfRange; }

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  // Status is copyable (copies share the immutable representation).
  Status(const Status&) = default;
  Status& operator=(const Status&) = default;
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

// Result<T>: a T or an error Status. Accessing value() of an error aborts (a broken invariant, not bad
// input).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status);                     // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  const Status& status() const&;
  Status status() &&;

  T& value() & { return CheckedValue(); }
  const T& value() const& { return const_cast<Result*>(this)->CheckedValue(); }
  T&& value() && { return std::move(CheckedValue()); }
  T* operator->() { return &CheckedValue(); }
  const T* operator->() const { return &const_cast<Result*>(this)->CheckedValue(); }
  T& operator*() & { return CheckedValue(); }
  const T& operator*() const& { return const_cast<Result*>(this)->CheckedValue(); }
  T&& operator*() && { return std::move(CheckedValue()); }

 private:
  T& CheckedValue();
  std::variant<T, Status> v_;
};

namespace internal {
[[noreturn]] void DieOnBadResultAccess(const Status& status);
[[noreturn]] void DieOnOkStatusInResult();
const Status& OkStatus();
}  // namespace internal

template <typename T>
Result<T>::Result(Status status) : v_(std::move(status)) {
  if (std::get<1>(v_).ok()) internal::DieOnOkStatusInResult();
}

template <typename T>
const Status& Result<T>::status() const& {
  return ok() ? internal::OkStatus() : std::get<1>(v_);
}

template <typename T>
Status Result<T>::status() && {
  return ok() ? Status() : std::move(std::get<1>(v_));
}

template <typename T>
T& Result<T>::CheckedValue() {
  if (!ok()) internal::DieOnBadResultAccess(std::get<1>(v_));
  return std::get<0>(v_);
}

}  // namespace fmq

#define FMQ_STATUS_CONCAT_INNER(a, b) a##b
#define FMQ_STATUS_CONCAT(a, b) FMQ_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define FMQ_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::fmq::Status fmq_status_tmp_ = (expr);            \
    if (!fmq_status_tmp_.ok()) return fmq_status_tmp_; \
  } while (0)

// `lhs = value of rexpr` (a Result<T>), or returns its error from the enclosing function.
#define FMQ_ASSIGN_OR_RETURN(lhs, rexpr) \
  FMQ_ASSIGN_OR_RETURN_IMPL(FMQ_STATUS_CONCAT(fmq_result_, __LINE__), lhs, rexpr)
#define FMQ_ASSIGN_OR_RETURN_IMPL(result, lhs, rexpr)  \
  auto result = (rexpr);                               \
  if (!result.ok()) return std::move(result).status(); \
  lhs = std::move(result).value()
