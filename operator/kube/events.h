#pragma once

// EventRecorder: Kubernetes Events (core/v1) about objects the operator manages, e.g. "Warning BrokerError
// topic orders: broker prod-broker-0 refused the update".
//
// Repeats are aggregated the way kubectl shows them: the first occurrence of (object, type, reason, message)
// creates an Event; each repeat patches that Event's count and lastTimestamp instead of creating another
// object. The recorder remembers the last `max_tracked` distinct events; an Event the apiserver already
// expired (1 h TTL) is created again.
//
// Created by the composition root with the client; the client must outlive it. Thread-safety: Record may be
// called from any thread; calls are serialised (Events are rare; a worker waits at most for one other Event
// write).

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "operator/kube/client.h"

namespace fmq::op::kube {

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  // source.component and reportingComponent of every Event.
  std::string reporting_controller = "ferrymq-operator";
  // reportingInstance: which replica (the pod name).
  std::string reporting_instance{};
  // Distinct events remembered for aggregation (least recently used forgotten first).
  size_t max_tracked = 4096;
  // Not owned; SystemClock() by default.
  const Clock* clock = nullptr;
};

class EventRecorder {
 public:
  EventRecorder(Client* client, EventRecorderOptions options);
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records an Event about `involved` (an object with apiVersion, kind, metadata.name, and namespace/uid when
  // it has them). `reason` is one CamelCase word; `message` is for humans (cut at 1024 bytes). Returns the
  // write's error; callers usually log and go on (an Event is never worth failing a reconcile for).
  Status Record(const nlohmann::json& involved, EventType type, std::string_view reason,
                std::string_view message, std::string_view action = {}) FMQ_EXCLUDES(mu_);

 private:
  struct Tracked {
    std::string name;
    std::string ns;
    int64_t count = 0;
    std::list<std::string>::iterator lru;
  };

  Client* const client_;  // not owned
  const EventRecorderOptions options_;
  const Clock* const clock_;
  Mutex mu_;
  std::list<std::string> lru_ FMQ_GUARDED_BY(mu_);  // most recent first
  std::unordered_map<std::string, Tracked> tracked_ FMQ_GUARDED_BY(mu_);
  uint64_t seq_ FMQ_GUARDED_BY(mu_) = 0;
};

}  // namespace fmq::op::kube
