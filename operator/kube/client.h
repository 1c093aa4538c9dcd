#pragma once

// Client: the Kubernetes REST API over cpprestsdk (the only module that sees cpprestsdk; nothing of it
// appears in this header). Objects are nlohmann::json; errors are Status values mapped in errors.h (no
// exception leaves the client).
//
//   FMQ_ASSIGN_OR_RETURN(auto config, kube::DefaultConfig(flags.kubeconfig, flags.context));
//   FMQ_ASSIGN_OR_RETURN(auto client, kube::Client::New(config, {.metrics = &registry}));
//   auto cm = client->Get(kinds::kConfigMap, "ns", "name");
//   client->Apply(kinds::kStatefulSet, "ns", "prod-broker-0", desired, {.field_manager =
//   "ferrymq-operator"});
//
// Requests time out after ClientOptions::request_timeout. Idempotent requests (GET, PUT, DELETE, apply and
// merge patches) are retried with jittered exponential backoff on connection errors, 429 (honouring
// Retry-After) and 5xx; POST and JSON patches are retried only on 429, which the apiserver answers before
// doing anything.
//
// Metrics (when ClientOptions::metrics is set):
//   ferrymq_operator_kube_requests_total{verb,resource,code}  every request, code "error" for connection
//   errors ferrymq_operator_kube_writes_total{verb,resource,code}    the subset that writes (create, update,
//   patch, apply,
//                                                             delete), so "a converged pass writes nothing"
//                                                             is visible on /metrics
// Verbs: get, list, watch, create, update, patch, apply, delete.
//
// Thread-safety: every method may be called concurrently from any thread. A Watch blocks its caller; cancel
// it from another thread through its Cancellation.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/metrics.h"
#include "broker/base/status.h"
#include "operator/kube/config.h"
#include "operator/kube/resource.h"
#include "operator/kube/watch.h"

namespace fmq::op::kube {

using Json = nlohmann::json;

struct ClientOptions {
  std::string user_agent = "ferrymq-operator/0.1";
  // Per request; for a watch, the inactivity limit is the watch's timeout_seconds plus this.
  std::chrono::milliseconds request_timeout{30'000};
  // Attempts for retriable requests (1 = no retry).
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{5'000};
  // A Retry-After longer than this is shortened to it (the request is retried anyway, just not later than
  // this).
  std::chrono::milliseconds max_retry_after{10'000};
  // How often a token file is re-read (projected service-account tokens rotate; kubelet refreshes them at 80
  // % of their lifetime, so a minute is ample).
  std::chrono::milliseconds token_reload_interval{60'000};
  // Not owned; must outlive the client. Null: no metrics.
  MetricRegistry* metrics = nullptr;
};

struct ListOptions {
  std::string label_selector{};
  std::string field_selector{};
  int64_t limit = 0;             // page size; 0 = everything at once
  std::string continue_token{};  // from the previous page
  // "" = a consistent read from etcd (what an informer wants); "0" = any cached version.
  std::string resource_version{};
  std::string resource_version_match{};  // "NotOlderThan" | "Exact" | ""
};

struct ListResult {
  std::vector<Json> items{};
  std::string resource_version{};  // of the list (of the first page for ListAll): where a watch continues
  std::string continue_token{};    // "" on the last page
};

struct WriteOptions {
  std::string field_manager{};  // recorded in managedFields ("" = the apiserver's default)
  bool dry_run = false;
};

struct ApplyOptions {
  std::string field_manager{};  // required for apply
  bool force = false;           // take over fields owned by other managers instead of failing with a conflict
  bool dry_run = false;
};

enum class PatchType { kMerge, kStrategicMerge, kJson };

struct DeleteOptions {
  // Preconditions: the delete fails with Conflict (IsConflict) unless the object still has this uid /
  // version.
  std::string uid{};
  std::string resource_version{};
  std::string propagation_policy{};  // "Foreground" | "Background" | "Orphan" | "" (the kind's default)
  std::optional<int64_t> grace_period_seconds{};
  bool dry_run = false;
};

struct WatchOptions {
  std::string label_selector{};
  std::string field_selector{};
  // Where to start: a list's resourceVersion (or a bookmark's). "" = "now" with synthetic ADDED events first.
  std::string resource_version{};
  bool allow_bookmarks = true;
  // The apiserver ends the watch after this long (an informer then re-watches from its last version).
  int timeout_seconds = 300;
};

// Called for every event, in order, on the watching thread. Return false to stop the watch (Watch then
// returns OK). An ERROR event is delivered and then ends the watch with its mapped Status.
using WatchCallback = std::function<bool(const WatchEvent&)>;

// Request and write counts as seen by this client (also exported as metrics).
struct ClientStats {
  uint64_t requests = 0;
  uint64_t writes = 0;
};

class Client {
 public:
  // Validates the TLS material and builds the HTTP client. InvalidArgument for a bad server URL or PEM.
  static Result<std::unique_ptr<Client>> New(Config config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `ns` is ignored for cluster-scoped kinds; it must be set for namespaced kinds except in List/Watch ("" =
  // all).
  Result<Json> Get(const ResourceKind& kind, std::string_view ns, std::string_view name);
  // One page.
  Result<ListResult> List(const ResourceKind& kind, std::string_view ns, const ListOptions& options = {});
  // Every page, following continue tokens (options.limit is the page size). An expired continue token (410)
  // is returned as IsGone: start over.
  Result<ListResult> ListAll(const ResourceKind& kind, std::string_view ns, ListOptions options = {});

  // POST. IsAlreadyExists when the name is taken.
  Result<Json> Create(const ResourceKind& kind, std::string_view ns, const Json& object,
                      const WriteOptions& options = {});
  // PUT of the whole object. metadata.resourceVersion in `object` makes it a compare-and-swap: IsConflict
  // when the object changed since that version.
  Result<Json> Replace(const ResourceKind& kind, std::string_view ns, const Json& object,
                       const WriteOptions& options = {});
  // PUT to the status subresource (same CAS rule).
  Result<Json> UpdateStatus(const ResourceKind& kind, std::string_view ns, const Json& object,
                            const WriteOptions& options = {});
  // Server-side apply (PATCH application/apply-patch+yaml with a JSON body). `object` needs apiVersion, kind
  // and metadata.name. IsConflict when another manager owns a field with another value and force is false.
  Result<Json> Apply(const ResourceKind& kind, std::string_view ns, const Json& object,
                     const ApplyOptions& options);
  // Server-side apply of the status subresource.
  Result<Json> ApplyStatus(const ResourceKind& kind, std::string_view ns, const Json& object,
                           const ApplyOptions& options);
  // Strimzi's way: apply without force; on a conflict log which managers own which fields, then apply with
  // force. `conflict_message`, if not null, receives the conflict that was overridden ("" if none).
  Result<Json> ApplyForcingConflicts(const ResourceKind& kind, std::string_view ns, const Json& object,
                                     const std::string& field_manager,
                                     std::string* conflict_message = nullptr);
  // PATCH with a merge, strategic merge or JSON patch; `subresource` "" or "status".
  Result<Json> Patch(const ResourceKind& kind, std::string_view ns, std::string_view name, PatchType type,
                     const Json& patch, std::string_view subresource = {}, const WriteOptions& options = {});
  // DELETE. NotFound when already gone (callers that do not care test IsNotFound).
  Status Delete(const ResourceKind& kind, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {});

  // Streams events until the apiserver ends the watch (OK), `on_event` returns false (OK), `cancel` fires
  // (OK), or an error: IsGone (410, also as an ERROR event) means the resourceVersion is too old: re-list,
  // never retry it.
  Status Watch(const ResourceKind& kind, std::string_view ns, const WatchOptions& options,
               const WatchCallback& on_event, Cancellation* cancel = nullptr);

  // The apiserver's version document (GET /version), e.g. for a startup check.
  Result<Json> ServerVersion();

  const Config& config() const;
  ClientStats Stats() const;

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fmq::op::kube
