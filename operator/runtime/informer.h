#pragma once

// Informer: a local, indexed cache of one kind, kept current by LIST then WATCH, with add/update/delete
// handlers.
//
// Per watched namespace (or once for all namespaces / a cluster-scoped kind) a reflector thread:
//   1. LISTs with pagination (a consistent read), replaces that namespace's part of the cache (handlers see
//   the
//      difference: adds, updates of changed objects, deletes of vanished ones) and marks it synced;
//   2. WATCHes from the list's resourceVersion with bookmarks, applying events and moving its resourceVersion
//      forward on every event and bookmark; when the apiserver ends the watch (timeoutSeconds) it watches
//      again from there;
//   3. on 410 Gone / Expired re-LISTs (step 1): it never retries a stale resourceVersion;
//   4. on other errors retries with jittered exponential backoff (800 ms .. 30 s), re-listing after a failed
//   list.
// Resync replays the cache to on_update(obj, obj) every resync_period (and on Resync()); it never re-lists.
//
// Cache reads return shared_ptr<const Json> snapshots: cheap to keep, never changed in place.
// Indexes: "namespace" is built in; AddIndex adds more (e.g. IndexByOwnerUid, IndexByClusterRef below).
//
// Created by the composition root with a client that outlives it. Indexes and handlers are added before
// Start(). Thread-safety: cache reads from any thread. Handlers run on reflector threads (one per namespace,
// so handlers of different namespaces may run concurrently): they must be quick and thread-safe (typically:
// enqueue a key).

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/metrics.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "operator/kube/client.h"
#include "operator/kube/resource.h"

namespace fmq::op::runtime {

using Json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const Json>;

// Index values of an object (an object may sit under several values, or none).
using IndexFunc = std::function<std::vector<std::string>(const Json& object)>;

// The name of the built-in namespace index.
inline constexpr char kNamespaceIndex[] = "namespace";
// metadata.ownerReferences[*].uid.
std::vector<std::string> IndexByOwnerUid(const Json& object);
// The controller owner as "namespace/name" when its kind is `owner_kind` (e.g. "Cluster").
IndexFunc IndexByControllerOwner(std::string owner_kind);
// spec.clusterRef as "namespace/name" (namespace defaults to the object's), for Topic, ConsumerGroup and
// User.
std::vector<std::string> IndexByClusterRef(const Json& object);

struct EventHandler {
  std::function<void(const Json& object)> on_add;
  std::function<void(const Json& old_object, const Json& new_object)> on_update;
  // The last state seen (after a re-list, the last cached state of an object deleted while not watching).
  std::function<void(const Json& object)> on_delete;
};

struct InformerOptions {
  // Namespaces to watch; empty = all namespaces (one watch), also for cluster-scoped kinds.
  std::vector<std::string> namespaces{};
  std::string label_selector{};
  std::string field_selector{};
  int64_t page_size = 500;
  // The apiserver ends each watch after this long; the informer then re-watches from its last version.
  int watch_timeout_seconds = 300;
  // 0 = no periodic resync (drift against brokers is handled by RequeueAfter, not by resync).
  std::chrono::milliseconds resync_period{0};
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_max{30'000};
  // Not owned, may be null: ferrymq_operator_informer_lists_total{resource},
  // ferrymq_operator_informer_events_total{resource,type}, ferrymq_operator_informer_objects{resource}.
  MetricRegistry* metrics = nullptr;
};

class Informer {
 public:
  // `client` is not owned and must outlive the informer.
  Informer(kube::Client* client, kube::ResourceKind kind, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // REQUIRES: before Start().
  void AddIndex(const std::string& name, IndexFunc fn) FMQ_EXCLUDES(mu_);
  void AddEventHandler(EventHandler handler);

  Status Start();
  // Stops the reflectors (cancelling their watches) and waits for them. Idempotent. The cache stays readable.
  void Stop();

  // True once every namespace was listed at least once.
  bool HasSynced() const;
  // Waits until HasSynced() or the timeout; returns HasSynced().
  bool WaitForSync(std::chrono::milliseconds timeout) const FMQ_EXCLUDES(mu_);

  ObjectPtr Get(const std::string& key) const FMQ_EXCLUDES(mu_);
  ObjectPtr Get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> List() const FMQ_EXCLUDES(mu_);
  std::vector<std::string> ListKeys() const FMQ_EXCLUDES(mu_);
  // Objects whose index `index` yields `value`. An unknown index gives nothing.
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const FMQ_EXCLUDES(mu_);
  size_t Size() const FMQ_EXCLUDES(mu_);

  // Replays every cached object to on_update(obj, obj). Never talks to the apiserver.
  void Resync();

  const kube::ResourceKind& kind() const { return kind_; }
  // LISTs done so far (the first per namespace included) and ERROR/410 re-lists among them.
  uint64_t list_count() const { return lists_.load(); }
  uint64_t relist_after_gone_count() const { return gone_relists_.load(); }
  // The resourceVersion the reflector of `ns` ("" for the all-namespaces one) would watch from next.
  std::string LastResourceVersion(const std::string& ns = "") const FMQ_EXCLUDES(mu_);

  // Test hook: cancels the current watch of `ns` and makes its next watch start at `resource_version` (e.g.
  // one that was compacted away, to see the 410 path).
  void TEST_RestartWatchFrom(const std::string& ns, const std::string& resource_version);

 private:
  class Reflector;
  class ResyncThread;

  struct Delivery {
    enum Kind { kAdd, kUpdate, kDelete } kind;
    ObjectPtr old_object;
    ObjectPtr object;
  };

  // Cache mutations; they return what handlers must hear (delivered outside the lock).
  std::vector<Delivery> ReplaceNamespace(const std::string& ns, std::vector<Json> items) FMQ_EXCLUDES(mu_);
  std::optional<Delivery> Upsert(Json object) FMQ_EXCLUDES(mu_);
  std::optional<Delivery> Remove(const Json& object) FMQ_EXCLUDES(mu_);
  void Deliver(const std::vector<Delivery>& deliveries);
  void IndexLocked(const std::string& key, const Json& object) FMQ_REQUIRES(mu_);
  void UnindexLocked(const std::string& key, const Json& object) FMQ_REQUIRES(mu_);
  void MarkSynced(const std::string& ns) FMQ_EXCLUDES(mu_);
  void SetResourceVersion(const std::string& ns, const std::string& rv) FMQ_EXCLUDES(mu_);
  void CountEvent(const char* type);

  kube::Client* const client_;  // not owned
  const kube::ResourceKind kind_;
  const InformerOptions options_;
  std::vector<EventHandler> handlers_;  // written before Start() only
  std::vector<std::unique_ptr<Reflector>> reflectors_;
  std::unique_ptr<ResyncThread> resync_;  // periodic resync, if any
  std::atomic<bool> started_{false};
  std::atomic<uint64_t> lists_{0};
  std::atomic<uint64_t> gone_relists_{0};

  mutable Mutex mu_;
  mutable CondVar synced_cv_{&mu_};
  std::unordered_map<std::string, ObjectPtr> items_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, IndexFunc> index_funcs_ FMQ_GUARDED_BY(mu_);
  // index name -> value -> keys
  std::map<std::string, std::unordered_map<std::string, std::set<std::string>>> indexes_ FMQ_GUARDED_BY(mu_);
  std::set<std::string> synced_namespaces_ FMQ_GUARDED_BY(mu_);
  std::map<std::string, std::string> resource_versions_ FMQ_GUARDED_BY(mu_);
  size_t namespaces_to_sync_ = 0;  // set in Start()
  std::atomic<bool> synced_{false};

  Counter* lists_metric_ = nullptr;  // owned by the registry
  CounterFamily* events_metric_ = nullptr;
  Gauge* objects_metric_ = nullptr;
};

}  // namespace fmq::op::runtime
