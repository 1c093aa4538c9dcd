#include "operator/runtime/informer.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "broker/base/check.h"
#include "broker/base/logging.h"
#include "broker/base/service_thread.h"
#include "operator/kube/errors.h"
#include "operator/kube/object.h"
#include "operator/runtime/rate_limiter.h"

namespace fmq::op::runtime {

namespace {

std::string ThreadName(const kube::ResourceKind& kind) { return "inf-" + kind.plural; }

}  // namespace

std::vector<std::string> IndexByOwnerUid(const Json& object) {
  std::vector<std::string> out;
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return out;
  auto refs = md->find("ownerReferences");
  if (refs == md->end() || !refs->is_array()) return out;
  for (const auto& ref : *refs) {
    std::string uid = kube::GetString(ref, "uid");
    if (!uid.empty()) out.push_back(uid);
  }
  return out;
}

IndexFunc IndexByControllerOwner(std::string owner_kind) {
  return [owner_kind](const Json& object) {
    std::vector<std::string> out;
    auto md = object.find("metadata");
    if (md == object.end() || !md->is_object()) return out;
    auto refs = md->find("ownerReferences");
    if (refs == md->end() || !refs->is_array()) return out;
    for (const auto& ref : *refs) {
      auto ctrl = ref.find("controller");
      bool is_controller = ctrl != ref.end() && ctrl->is_boolean() && ctrl->get<bool>();
      if (is_controller && kube::GetString(ref, "kind") == owner_kind) {
        out.push_back(kube::MakeKey(kube::Namespace(object), kube::GetString(ref, "name")));
      }
    }
    return out;
  };
}

std::vector<std::string> IndexByClusterRef(const Json& object) {
  auto spec = object.find("spec");
  if (spec == object.end() || !spec->is_object()) return {};
  auto ref = spec->find("clusterRef");
  if (ref == spec->end() || !ref->is_object()) return {};
  std::string name = kube::GetString(*ref, "name");
  if (name.empty()) return {};
  std::string ns = kube::GetString(*ref, "namespace");
  if (ns.empty()) ns = kube::Namespace(object);
  return {kube::MakeKey(ns, name)};
}

// One LIST+WATCH loop for one namespace ("" = all namespaces or cluster-scoped).
class Informer::Reflector final : public ServiceThread {
 public:
  Reflector(Informer* informer, std::string ns)
      : ServiceThread(ThreadName(informer->kind_)), informer_(informer), ns_(std::move(ns)) {}

  // Cancels the watch in progress and joins the thread.
  void Shutdown() {
    stopping_.store(true);
    cancel_.Cancel();
    Stop();
  }

  void RestartFrom(std::string rv) {
    {
      MutexLock lock(&restart_mu_);
      restart_rv_ = std::move(rv);
    }
    cancel_.Cancel();
  }

  const std::string& ns() const { return ns_; }

 protected:
  void Run() override;

 private:
  bool ListAndReplace(std::string* rv);

  Informer* const informer_;  // owns this reflector
  const std::string ns_;
  std::atomic<bool> stopping_{false};
  kube::Cancellation cancel_;
  Mutex restart_mu_;
  std::optional<std::string> restart_rv_ FMQ_GUARDED_BY(restart_mu_);
};

class Informer::ResyncThread final : public ServiceThread {
 public:
  ResyncThread(Informer* informer, std::chrono::milliseconds period)
      : ServiceThread("resync-" + informer->kind_.plural), informer_(informer), period_(period) {}

 protected:
  void Run() override {
    while (!IsStopped()) {
      WaitForRunning(period_);
      if (IsStopped()) break;
      informer_->Resync();
    }
  }

 private:
  Informer* const informer_;
  const std::chrono::milliseconds period_;
};

bool Informer::Reflector::ListAndReplace(std::string* rv) {
  const auto& opt = informer_->options_;
  auto list = informer_->client_->ListAll(
      informer_->kind_, ns_,
      {.label_selector = opt.label_selector, .field_selector = opt.field_selector, .limit = opt.page_size});
  informer_->lists_.fetch_add(1);
  if (informer_->lists_metric_ != nullptr) informer_->lists_metric_->Inc();
  if (!list.ok()) {
    GetLogger("runtime")->warn("list failed resource={} namespace={} error={}", informer_->kind_.Resource(),
                               ns_, list.status().ToString());
    return false;
  }
  *rv = list->resource_version;
  informer_->Deliver(informer_->ReplaceNamespace(ns_, std::move(list->items)));
  informer_->SetResourceVersion(ns_, *rv);
  informer_->MarkSynced(ns_);
  return true;
}

void Informer::Reflector::Run() {
  auto log = GetLogger("runtime");
  const auto& opt = informer_->options_;
  Backoff backoff(opt.backoff_initial, opt.backoff_max);
  std::string rv;
  bool need_list = true;
  while (!stopping_.load()) {
    if (need_list) {
      if (!ListAndReplace(&rv)) {
        WaitForRunning(backoff.Next());
        continue;
      }
      need_list = false;
      backoff.Reset();
    }
    cancel_.Reset();
    if (stopping_.load()) break;
    {
      MutexLock lock(&restart_mu_);
      if (restart_rv_) {
        rv = *restart_rv_;
        restart_rv_.reset();
        informer_->SetResourceVersion(ns_, rv);
      }
    }
    bool got_events = false;
    Status s = informer_->client_->Watch(
        informer_->kind_, ns_,
        {.label_selector = opt.label_selector,
         .field_selector = opt.field_selector,
         .resource_version = rv,
         .allow_bookmarks = true,
         .timeout_seconds = opt.watch_timeout_seconds},
        [&](const kube::WatchEvent& ev) {
          if (stopping_.load()) return false;
          got_events = true;
          switch (ev.type) {
            case kube::WatchEventType::kAdded:
            case kube::WatchEventType::kModified: {
              informer_->CountEvent(ev.type == kube::WatchEventType::kAdded ? "ADDED" : "MODIFIED");
              rv = kube::ResourceVersion(ev.object);
              auto d = informer_->Upsert(ev.object);
              if (d) informer_->Deliver({*d});
              break;
            }
            case kube::WatchEventType::kDeleted: {
              informer_->CountEvent("DELETED");
              rv = kube::ResourceVersion(ev.object);
              auto d = informer_->Remove(ev.object);
              if (d) informer_->Deliver({*d});
              break;
            }
            case kube::WatchEventType::kBookmark:
              informer_->CountEvent("BOOKMARK");
              rv = kube::ResourceVersion(ev.object);
              break;
            case kube::WatchEventType::kError:
              informer_->CountEvent("ERROR");
              break;
          }
          informer_->SetResourceVersion(ns_, rv);
          return true;
        },
        &cancel_);
    if (stopping_.load()) break;
    {
      MutexLock lock(&restart_mu_);
      if (restart_rv_) continue;  // TEST_RestartWatchFrom: the next watch starts where the test said
    }
    if (kube::IsGone(s)) {
      // The version fell out of the apiserver's window: never watch from it again; list afresh.
      log->info("watch expired, re-listing resource={} namespace={} resourceVersion={} error={}",
                informer_->kind_.Resource(), ns_, rv, s.ToString());
      informer_->gone_relists_.fetch_add(1);
      need_list = true;
      continue;
    }
    if (!s.ok()) {
      log->warn("watch failed resource={} namespace={} resourceVersion={} error={}",
                informer_->kind_.Resource(), ns_, rv, s.ToString());
      WaitForRunning(backoff.Next());
      continue;
    }
    if (got_events) backoff.Reset();
    // The apiserver ended the watch (timeoutSeconds): watch again from the last version seen.
  }
}

Informer::Informer(kube::Client* client, kube::ResourceKind kind, InformerOptions options)
    : client_(client), kind_(std::move(kind)), options_(std::move(options)) {
  MutexLock lock(&mu_);
  index_funcs_[kNamespaceIndex] = [](const Json& o) { return std::vector<std::string>{kube::Namespace(o)}; };
  if (options_.metrics != nullptr) {
    lists_metric_ =
        &options_.metrics
             ->AddCounter("ferrymq_operator_informer_lists_total",
                          "LIST calls made by informers (first lists and re-lists).", {"resource"})
             .WithLabels({kind_.Resource()});
    events_metric_ =
        &options_.metrics->AddCounter("ferrymq_operator_informer_events_total",
                                      "Watch events received by informers.", {"resource", "type"});
    objects_metric_ =
        &options_.metrics
             ->AddGauge("ferrymq_operator_informer_objects", "Objects in the informer cache.", {"resource"})
             .WithLabels({kind_.Resource()});
  }
}

Informer::~Informer() { Stop(); }

void Informer::AddIndex(const std::string& name, IndexFunc fn) {
  FMQ_CHECK_MSG(!started_.load(), "Informer::AddIndex after Start()");
  MutexLock lock(&mu_);
  index_funcs_[name] = std::move(fn);
}

void Informer::AddEventHandler(EventHandler handler) {
  FMQ_CHECK_MSG(!started_.load(), "Informer::AddEventHandler after Start()");
  handlers_.push_back(std::move(handler));
}

Status Informer::Start() {
  if (started_.exchange(true))
    return Status::FailedPrecondition("informer for " + kind_.Resource() + " already started");
  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty() || !kind_.namespaced) namespaces = {""};
  std::sort(namespaces.begin(), namespaces.end());
  namespaces.erase(std::unique(namespaces.begin(), namespaces.end()), namespaces.end());
  namespaces_to_sync_ = namespaces.size();
  for (const auto& ns : namespaces) reflectors_.push_back(std::make_unique<Reflector>(this, ns));
  for (auto& r : reflectors_) FMQ_RETURN_IF_ERROR(r->Start());
  if (options_.resync_period.count() > 0) {
    resync_ = std::make_unique<ResyncThread>(this, options_.resync_period);
    FMQ_RETURN_IF_ERROR(resync_->Start());
  }
  GetLogger("runtime")->info(
      "informer started resource={} namespaces={}", kind_.Resource(),
      options_.namespaces.empty() ? std::string("all") : fmt::format("{}", fmt::join(namespaces, ",")));
  return Status::Ok();
}

void Informer::Stop() {
  if (resync_) resync_->Stop();
  for (auto& r : reflectors_) r->Shutdown();
}

bool Informer::HasSynced() const { return synced_.load(); }

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (!synced_.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    synced_cv_.WaitFor(deadline - now);
  }
  return true;
}

void Informer::MarkSynced(const std::string& ns) {
  MutexLock lock(&mu_);
  synced_namespaces_.insert(ns);
  if (synced_namespaces_.size() >= namespaces_to_sync_ && !synced_.load()) {
    synced_.store(true);
    synced_cv_.SignalAll();
  }
}

void Informer::SetResourceVersion(const std::string& ns, const std::string& rv) {
  MutexLock lock(&mu_);
  resource_versions_[ns] = rv;
}

std::string Informer::LastResourceVersion(const std::string& ns) const {
  MutexLock lock(&mu_);
  auto it = resource_versions_.find(ns);
  return it == resource_versions_.end() ? "" : it->second;
}

void Informer::CountEvent(const char* type) {
  if (events_metric_ != nullptr) events_metric_->WithLabels({kind_.Resource(), type}).Inc();
}

void Informer::IndexLocked(const std::string& key, const Json& object) {
  for (const auto& [name, fn] : index_funcs_) {
    for (const auto& value : fn(object)) indexes_[name][value].insert(key);
  }
}

void Informer::UnindexLocked(const std::string& key, const Json& object) {
  for (const auto& [name, fn] : index_funcs_) {
    auto& by_value = indexes_[name];
    for (const auto& value : fn(object)) {
      auto it = by_value.find(value);
      if (it == by_value.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) by_value.erase(it);
    }
  }
}

namespace {

Json WithTypeMeta(const kube::ResourceKind& kind, Json object) {
  if (object.is_object()) {
    if (!object.contains("apiVersion")) object["apiVersion"] = kind.ApiVersion();
    if (!object.contains("kind")) object["kind"] = kind.kind;
  }
  return object;
}

}  // namespace

std::optional<Informer::Delivery> Informer::Upsert(Json object) {
  auto ptr = std::make_shared<const Json>(WithTypeMeta(kind_, std::move(object)));
  std::string key = kube::ObjectKey(*ptr);
  MutexLock lock(&mu_);
  auto it = items_.find(key);
  if (it == items_.end()) {
    items_.emplace(key, ptr);
    IndexLocked(key, *ptr);
    if (objects_metric_ != nullptr) objects_metric_->Set(static_cast<double>(items_.size()));
    return Delivery{Delivery::kAdd, nullptr, ptr};
  }
  ObjectPtr old = it->second;
  UnindexLocked(key, *old);
  it->second = ptr;
  IndexLocked(key, *ptr);
  return Delivery{Delivery::kUpdate, old, ptr};
}

std::optional<Informer::Delivery> Informer::Remove(const Json& object) {
  std::string key = kube::ObjectKey(object);
  auto last = std::make_shared<const Json>(WithTypeMeta(kind_, object));
  MutexLock lock(&mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;  // never seen: nothing to tell
  UnindexLocked(key, *it->second);
  items_.erase(it);
  if (objects_metric_ != nullptr) objects_metric_->Set(static_cast<double>(items_.size()));
  return Delivery{Delivery::kDelete, nullptr, last};
}

std::vector<Informer::Delivery> Informer::ReplaceNamespace(const std::string& ns, std::vector<Json> items) {
  std::vector<Delivery> out;
  std::unordered_map<std::string, ObjectPtr> fresh;
  for (auto& item : items) {
    auto ptr = std::make_shared<const Json>(WithTypeMeta(kind_, std::move(item)));
    fresh[kube::ObjectKey(*ptr)] = ptr;
  }
  MutexLock lock(&mu_);
  // Objects of this namespace (every object for the all-namespaces reflector) that vanished.
  std::vector<std::string> gone;
  for (const auto& [key, obj] : items_) {
    if ((ns.empty() || kube::Namespace(*obj) == ns) && !fresh.count(key)) gone.push_back(key);
  }
  for (const auto& key : gone) {
    auto it = items_.find(key);
    UnindexLocked(key, *it->second);
    out.push_back({Delivery::kDelete, nullptr, it->second});
    items_.erase(it);
  }
  for (auto& [key, ptr] : fresh) {
    auto it = items_.find(key);
    if (it == items_.end()) {
      items_.emplace(key, ptr);
      IndexLocked(key, *ptr);
      out.push_back({Delivery::kAdd, nullptr, ptr});
    } else if (kube::ResourceVersion(*it->second) != kube::ResourceVersion(*ptr)) {
      ObjectPtr old = it->second;
      UnindexLocked(key, *old);
      it->second = ptr;
      IndexLocked(key, *ptr);
      out.push_back({Delivery::kUpdate, old, ptr});
    }
  }
  if (objects_metric_ != nullptr) objects_metric_->Set(static_cast<double>(items_.size()));
  return out;
}

void Informer::Deliver(const std::vector<Delivery>& deliveries) {
  for (const auto& d : deliveries) {
    for (const auto& h : handlers_) {
      switch (d.kind) {
        case Delivery::kAdd:
          if (h.on_add) h.on_add(*d.object);
          break;
        case Delivery::kUpdate:
          if (h.on_update) h.on_update(*d.old_object, *d.object);
          break;
        case Delivery::kDelete:
          if (h.on_delete) h.on_delete(*d.object);
          break;
      }
    }
  }
}

void Informer::Resync() {
  std::vector<ObjectPtr> all = List();
  for (const auto& obj : all) {
    for (const auto& h : handlers_) {
      if (h.on_update) h.on_update(*obj, *obj);
    }
  }
}

ObjectPtr Informer::Get(const std::string& key) const {
  MutexLock lock(&mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  return Get(kube::MakeKey(ns, name));
}

std::vector<ObjectPtr> Informer::List() const {
  MutexLock lock(&mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_) out.push_back(obj);
  return out;
}

std::vector<std::string> Informer::ListKeys() const {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_) out.push_back(key);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ObjectPtr> Informer::ByIndex(const std::string& index, const std::string& value) const {
  MutexLock lock(&mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const auto& key : keys->second) {
    auto it = items_.find(key);
    if (it != items_.end()) out.push_back(it->second);
  }
  return out;
}

size_t Informer::Size() const {
  MutexLock lock(&mu_);
  return items_.size();
}

void Informer::TEST_RestartWatchFrom(const std::string& ns, const std::string& resource_version) {
  for (auto& r : reflectors_) {
    if (r->ns() == ns) r->RestartFrom(resource_version);
  }
}

}  // namespace fmq::op::runtime
