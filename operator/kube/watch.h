#pragma once

// Watch events and the decoder of a watch response body: newline-delimited JSON objects
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, arriving in chunks cut anywhere.
//
// Thread-safety: WatchDecoder is used by one thread at a time; Cancellation is safe from any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/mutex.h"
#include "broker/base/status.h"

namespace fmq::op::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view WatchEventTypeName(WatchEventType t);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object; for kBookmark only metadata.resourceVersion is meaningful; for kError a metav1.Status.
  nlohmann::json object;
};

// Splits a byte stream into events. Feed() whatever arrived; complete lines become events.
class WatchDecoder {
 public:
  // Lines longer than this are an error (a broken stream; the apiserver's objects are far smaller).
  explicit WatchDecoder(size_t max_line_bytes = 64 << 20) : max_line_bytes_(max_line_bytes) {}

  // Appends `bytes`; every complete line is decoded into `out`. A malformed line or an unknown type is a
  // Corruption error (the stream cannot be trusted after it).
  Status Feed(std::string_view bytes, std::vector<WatchEvent>* out);
  // True when bytes of an unfinished line are buffered (a stream that ends here was cut mid-event).
  bool HasPartialLine() const { return !pending_.empty(); }

  // Decodes one line.
  static Result<WatchEvent> DecodeLine(std::string_view line);

 private:
  const size_t max_line_bytes_;
  std::string pending_;
};

// Cancels a blocking call (Client::Watch) from another thread. One Cancellation may be reused for consecutive
// calls only after Reset(). Thread-safety: all methods from any thread.
class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Cancels the call in progress (and any call started later until Reset()).
  void Cancel() FMQ_EXCLUDES(mu_);
  bool IsCancelled() const FMQ_EXCLUDES(mu_);
  void Reset() FMQ_EXCLUDES(mu_);

  // For the client: `hook` runs on Cancel() (at once if already cancelled). Returns false if already
  // cancelled.
  bool SetHook(std::function<void()> hook) FMQ_EXCLUDES(mu_);
  void ClearHook() FMQ_EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  bool cancelled_ FMQ_GUARDED_BY(mu_) = false;
  std::function<void()> hook_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::op::kube
