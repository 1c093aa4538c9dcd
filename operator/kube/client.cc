#include "operator/kube/client.h"

#include <utility>  // Boost 1.74's Asio misses this include

#include <boost/asio/ssl.hpp>
// cpprestsdk defines a macro U(x) unless told not to; fmt and others use U as a template parameter.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "broker/base/logging.h"
#include "broker/base/mutex.h"
#include "operator/kube/errors.h"
#include "operator/kube/object.h"

namespace fmq::op::kube {

namespace http = web::http;
namespace hc = web::http::client;

namespace {

constexpr std::string_view kRequestsMetric = "ferrymq_operator_kube_requests_total";
constexpr std::string_view kWritesMetric = "ferrymq_operator_kube_writes_total";

struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Throws boost::system::system_error on bad PEM (callers catch).
void ApplyTls(boost::asio::ssl::context& ctx, const TlsMaterial& tls) {
  if (!tls.ca_pem.empty()) ctx.add_certificate_authority(boost::asio::buffer(tls.ca_pem));
  if (!tls.cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(tls.cert_pem));
    ctx.use_private_key(boost::asio::buffer(tls.key_pem), boost::asio::ssl::context::pem);
  }
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A bearer token, re-read from its file every `interval` (projected service-account tokens rotate).
class TokenSource {
 public:
  TokenSource(std::string token, std::string file, std::chrono::milliseconds interval)
      : static_token_(std::move(token)), file_(std::move(file)), interval_(interval) {}

  std::string Get() FMQ_EXCLUDES(mu_) {
    if (file_.empty()) return static_token_;
    MutexLock lock(&mu_);
    auto now = std::chrono::steady_clock::now();
    if (token_.empty() || now - loaded_at_ >= interval_) {
      std::ifstream in(file_);
      std::ostringstream ss;
      if (in) ss << in.rdbuf();
      std::string t = Trimmed(ss.str());
      if (!t.empty()) {
        token_ = std::move(t);
      } else {
        GetLogger("kube")->warn("cannot read token file={}; keeping the previous token", file_);
      }
      loaded_at_ = now;
    }
    return token_.empty() ? static_token_ : token_;
  }

 private:
  const std::string static_token_;
  const std::string file_;
  const std::chrono::milliseconds interval_;
  Mutex mu_;
  std::string token_ FMQ_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point loaded_at_ FMQ_GUARDED_BY(mu_);
};

// One HTTP exchange as the client sees it.
struct Call {
  std::string verb;      // metrics verb: get, list, watch, create, update, patch, apply, delete
  std::string method;    // GET, POST, PUT, PATCH, DELETE
  std::string path;      // escaped path, no query (for messages)
  std::string query;     // "" or "?..."
  std::string resource;  // "configmaps", "statefulsets.apps"
  std::string content_type;
  std::optional<std::string> body;
  bool idempotent = true;
  bool write = false;
};

struct Reply {
  int code = 0;
  std::string body;
  std::optional<std::chrono::milliseconds> retry_after;
};

std::optional<std::chrono::milliseconds> ParseRetryAfter(const std::string& v) {
  int secs = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc() || p != v.data() + v.size() || secs < 0)
    return std::nullopt;  // HTTP dates: use backoff
  return std::chrono::milliseconds(secs * 1000LL);
}

}  // namespace

class Client::Impl {
 public:
  Impl(Config config, ClientOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        tls_(std::make_shared<TlsMaterial>(
            TlsMaterial{config_.ca_pem, config_.client_cert_pem, config_.client_key_pem})),
        token_(config_.token, config_.token_file, options_.token_reload_interval),
        rng_(std::random_device{}()) {
    if (options_.metrics != nullptr) {
      requests_ = &options_.metrics->AddCounter(std::string(kRequestsMetric),
                                                "Kubernetes API requests by verb, resource and HTTP code.",
                                                {"verb", "resource", "code"});
      writes_ = &options_.metrics->AddCounter(
          std::string(kWritesMetric), "Kubernetes API write requests (create, update, patch, apply, delete).",
          {"verb", "resource", "code"});
    }
  }

  Status Init() {
    try {
      web::uri base(utility::conversions::to_string_t(config_.server));
      if (base.scheme() != "https" && base.scheme() != "http") {
        return Status::InvalidArgument("Kubernetes server '" + config_.server + "' is not an http(s) URL");
      }
      if (base.host().empty())
        return Status::InvalidArgument("Kubernetes server '" + config_.server + "' has no host");
    } catch (const std::exception& e) {
      return Status::InvalidArgument("Kubernetes server '" + config_.server + "' is not a URL: " + e.what());
    }
    try {
      boost::asio::ssl::context trial(boost::asio::ssl::context::sslv23);
      ApplyTls(trial, *tls_);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("TLS material of ") + config_.source +
                                     " is not usable (CA, client certificate or key): " + e.what());
    }
    if (!config_.tls_server_name.empty()) {
      GetLogger("kube")->warn(
          "tls-server-name={} is not supported and is ignored; the server is verified as {}",
          config_.tls_server_name, config_.server);
    }
    try {
      http_ = std::make_unique<hc::http_client>(utility::conversions::to_string_t(config_.server),
                                                HttpConfig(options_.request_timeout));
    } catch (const std::exception& e) {
      return Status::InvalidArgument("cannot create an HTTP client for " + config_.server + ": " + e.what());
    }
    return Status::Ok();
  }

  hc::http_client_config HttpConfig(std::chrono::milliseconds timeout) const {
    hc::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    cfg.set_validate_certificates(!config_.insecure_skip_tls_verify);
    cfg.set_proxy(web::web_proxy(web::web_proxy::disabled));
    std::shared_ptr<const TlsMaterial> tls = tls_;
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
      try {
        ApplyTls(ctx, *tls);
      } catch (const std::exception& e) {
        // Validated in Init(); only an OpenSSL failure at run time gets here. The handshake then fails and
        // the request reports it.
        GetLogger("kube")->error("cannot apply TLS material: {}", e.what());
      }
    });
    return cfg;
  }

  http::http_request MakeRequest(const Call& call) {
    http::http_request req(utility::conversions::to_string_t(call.method));
    req.set_request_uri(web::uri(utility::conversions::to_string_t(call.path + call.query)));
    auto& h = req.headers();
    h.add("Accept", "application/json");
    h.add("User-Agent", options_.user_agent);
    std::string token = token_.Get();
    if (!token.empty()) {
      h.add("Authorization", "Bearer " + token);
    } else if (!config_.username.empty()) {
      h.add("Authorization", "Basic " + Base64Encode(config_.username + ":" + config_.password));
    }
    if (call.body) {
      h.add("Content-Type", call.content_type);
      req.set_body(std::vector<unsigned char>(call.body->begin(), call.body->end()));
    }
    return req;
  }

  void Count(const Call& call, const std::string& code) {
    request_count_.fetch_add(1, std::memory_order_relaxed);
    if (call.write) write_count_.fetch_add(1, std::memory_order_relaxed);
    if (requests_ != nullptr) requests_->WithLabels({call.verb, call.resource, code}).Inc();
    if (writes_ != nullptr && call.write) writes_->WithLabels({call.verb, call.resource, code}).Inc();
  }

  Result<Reply> SendOnce(const Call& call) {
    try {
      http::http_response resp = http_->request(MakeRequest(call)).get();
      Reply r;
      r.code = resp.status_code();
      auto bytes = resp.extract_vector().get();
      r.body.assign(bytes.begin(), bytes.end());
      auto it = resp.headers().find("Retry-After");
      if (it != resp.headers().end()) r.retry_after = ParseRetryAfter(it->second);
      Count(call, std::to_string(r.code));
      return r;
    } catch (const std::exception& e) {
      Count(call, "error");
      return Status::Unavailable(
          fmt::format("{} {}: request to {} failed: {}", call.method, call.path, config_.server, e.what()));
    }
  }

  std::chrono::milliseconds Backoff(int attempt) FMQ_EXCLUDES(rng_mu_) {
    // base * 2^(attempt-1), capped, with "equal jitter": half fixed, half random.
    int64_t base = options_.backoff_base.count();
    int64_t cap = options_.backoff_max.count();
    int64_t d = base << std::min(attempt - 1, 20);
    d = std::min(d, cap);
    MutexLock lock(&rng_mu_);
    std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(d / 2, 1));
    return std::chrono::milliseconds(d / 2 + dist(rng_));
  }

  Result<Reply> Send(const Call& call) {
    const int attempts = std::max(1, options_.max_attempts);
    for (int attempt = 1;; ++attempt) {
      Result<Reply> r = SendOnce(call);
      bool retry;
      if (!r.ok()) {
        retry = call.idempotent;
      } else if (r->code == 429) {
        retry = true;  // rejected before processing: safe for every verb
      } else if (r->code >= 500 && r->code != 501) {
        retry = call.idempotent;
      } else {
        return r;
      }
      if (!retry || attempt >= attempts) return r;
      std::chrono::milliseconds delay = Backoff(attempt);
      if (r.ok() && r->retry_after) delay = std::min(*r->retry_after, options_.max_retry_after);
      GetLogger("kube")->debug("retrying verb={} path={} attempt={} after={}ms cause={}", call.method,
                               call.path, attempt, delay.count(),
                               r.ok() ? std::to_string(r->code) : std::string(r.status().message()));
      std::this_thread::sleep_for(delay);
    }
  }

  Result<Json> Do(const Call& call) {
    FMQ_ASSIGN_OR_RETURN(Reply r, Send(call));
    if (r.code < 200 || r.code >= 300) return StatusFromHttp(call.method, call.path, r.code, r.body);
    if (r.body.empty()) return Json::object();
    auto j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return Status::Corruption(
          fmt::format("{} {}: the answer is not JSON: '{}'", call.method, call.path, r.body.substr(0, 200)));
    }
    return j;
  }

  Status Watch(const ResourceKind& kind, std::string_view ns, const WatchOptions& options,
               const WatchCallback& on_event, Cancellation* cancel);

  const Config config_;
  const ClientOptions options_;
  const std::shared_ptr<const TlsMaterial> tls_;
  TokenSource token_;
  std::unique_ptr<hc::http_client> http_;
  CounterFamily* requests_ = nullptr;  // owned by the registry
  CounterFamily* writes_ = nullptr;
  std::atomic<uint64_t> request_count_{0};
  std::atomic<uint64_t> write_count_{0};
  Mutex rng_mu_;
  std::mt19937_64 rng_ FMQ_GUARDED_BY(rng_mu_);
};

namespace {

Status CheckScope(const ResourceKind& kind, std::string_view ns, std::string_view name) {
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(fmt::format("invalid {} name '{}'", kind.kind, name));
  }
  if (kind.namespaced && ns.empty()) {
    return Status::InvalidArgument(
        fmt::format("{} {} is namespaced: a namespace is required", kind.kind, name));
  }
  return Status::Ok();
}

Call MakeCall(std::string verb, std::string method, const ResourceKind& kind, std::string path) {
  Call c;
  c.verb = std::move(verb);
  c.method = std::move(method);
  c.path = std::move(path);
  c.resource = kind.Resource();
  return c;
}

// Fills apiVersion and kind from `kind` when the object leaves them out (list items of built-in kinds do).
Json WithTypeMeta(const ResourceKind& kind, Json object) {
  if (object.is_object()) {
    if (!object.contains("apiVersion")) object["apiVersion"] = kind.ApiVersion();
    if (!object.contains("kind")) object["kind"] = kind.kind;
  }
  return object;
}

void AddWriteOptions(Query* q, const WriteOptions& o) {
  q->AddIfSet("fieldManager", o.field_manager);
  if (o.dry_run) q->Add("dryRun", "All");
}

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::New(Config config, ClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(config), std::move(options));
  FMQ_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const Config& Client::config() const { return impl_->config_; }

ClientStats Client::Stats() const { return {impl_->request_count_.load(), impl_->write_count_.load()}; }

Result<Json> Client::Get(const ResourceKind& kind, std::string_view ns, std::string_view name) {
  FMQ_RETURN_IF_ERROR(CheckScope(kind, ns, name));
  Call c = MakeCall("get", "GET", kind, ResourcePath(kind, ns, name));
  FMQ_ASSIGN_OR_RETURN(Json obj, impl_->Do(c));
  return WithTypeMeta(kind, std::move(obj));
}

Result<ListResult> Client::List(const ResourceKind& kind, std::string_view ns, const ListOptions& options) {
  Call c = MakeCall("list", "GET", kind, ResourcePath(kind, ns));
  Query q;
  q.AddIfSet("labelSelector", options.label_selector);
  q.AddIfSet("fieldSelector", options.field_selector);
  if (options.limit > 0) q.Add("limit", std::to_string(options.limit));
  q.AddIfSet("continue", options.continue_token);
  q.AddIfSet("resourceVersion", options.resource_version);
  q.AddIfSet("resourceVersionMatch", options.resource_version_match);
  c.query = q.Encode();
  FMQ_ASSIGN_OR_RETURN(Json list, impl_->Do(c));
  ListResult out;
  if (list.contains("metadata") && list["metadata"].is_object()) {
    out.resource_version = GetString(list["metadata"], "resourceVersion");
    out.continue_token = GetString(list["metadata"], "continue");
  }
  auto items = list.find("items");
  if (items != list.end() && items->is_array()) {
    out.items.reserve(items->size());
    for (auto& item : *items) out.items.push_back(WithTypeMeta(kind, std::move(item)));
  } else if (items != list.end() && !items->is_null()) {
    return Status::Corruption(fmt::format("GET {}: the list's items are not an array", c.path));
  }
  return out;
}

Result<ListResult> Client::ListAll(const ResourceKind& kind, std::string_view ns, ListOptions options) {
  ListResult all;
  bool first = true;
  do {
    FMQ_ASSIGN_OR_RETURN(ListResult page, List(kind, ns, options));
    if (first) all.resource_version = page.resource_version;
    first = false;
    for (auto& item : page.items) all.items.push_back(std::move(item));
    options.continue_token = page.continue_token;
    // Later pages come from the snapshot the continue token names; a resourceVersion may not accompany it.
    options.resource_version.clear();
    options.resource_version_match.clear();
  } while (!options.continue_token.empty());
  return all;
}

Result<Json> Client::Create(const ResourceKind& kind, std::string_view ns, const Json& object,
                            const WriteOptions& options) {
  if (kind.namespaced && ns.empty()) {
    return Status::InvalidArgument(kind.kind + " is namespaced: a namespace is required");
  }
  Call c = MakeCall("create", "POST", kind, ResourcePath(kind, ns));
  Query q;
  AddWriteOptions(&q, options);
  c.query = q.Encode();
  c.content_type = "application/json";
  c.body = WithTypeMeta(kind, object).dump();
  c.idempotent = false;
  c.write = true;
  return impl_->Do(c);
}

namespace {

Result<Call> PutCall(const ResourceKind& kind, std::string_view ns, const Json& object,
                     const WriteOptions& options, std::string_view subresource) {
  std::string name = Name(object);
  FMQ_RETURN_IF_ERROR(CheckScope(kind, ns, name));
  Call c = MakeCall("update", "PUT", kind, ResourcePath(kind, ns, name, subresource));
  Query q;
  AddWriteOptions(&q, options);
  c.query = q.Encode();
  c.content_type = "application/json";
  c.body = WithTypeMeta(kind, object).dump();
  c.write = true;
  return c;
}

Result<Call> ApplyCall(const ResourceKind& kind, std::string_view ns, const Json& object,
                       const ApplyOptions& options, std::string_view subresource) {
  std::string name = Name(object);
  FMQ_RETURN_IF_ERROR(CheckScope(kind, ns, name));
  if (options.field_manager.empty()) {
    return Status::InvalidArgument("server-side apply of " + kind.kind + " " + name +
                                   " needs a field manager");
  }
  Call c = MakeCall("apply", "PATCH", kind, ResourcePath(kind, ns, name, subresource));
  Query q;
  q.Add("fieldManager", options.field_manager);
  if (options.force) q.Add("force", "true");
  if (options.dry_run) q.Add("dryRun", "All");
  c.query = q.Encode();
  // JSON is YAML: the apply content type with a JSON body is what kubectl and client-go send.
  c.content_type = "application/apply-patch+yaml";
  c.body = WithTypeMeta(kind, object).dump();
  c.write = true;
  return c;
}

}  // namespace

Result<Json> Client::Replace(const ResourceKind& kind, std::string_view ns, const Json& object,
                             const WriteOptions& options) {
  FMQ_ASSIGN_OR_RETURN(Call c, PutCall(kind, ns, object, options, ""));
  return impl_->Do(c);
}

Result<Json> Client::UpdateStatus(const ResourceKind& kind, std::string_view ns, const Json& object,
                                  const WriteOptions& options) {
  FMQ_ASSIGN_OR_RETURN(Call c, PutCall(kind, ns, object, options, "status"));
  return impl_->Do(c);
}

Result<Json> Client::Apply(const ResourceKind& kind, std::string_view ns, const Json& object,
                           const ApplyOptions& options) {
  FMQ_ASSIGN_OR_RETURN(Call c, ApplyCall(kind, ns, object, options, ""));
  return impl_->Do(c);
}

Result<Json> Client::ApplyStatus(const ResourceKind& kind, std::string_view ns, const Json& object,
                                 const ApplyOptions& options) {
  FMQ_ASSIGN_OR_RETURN(Call c, ApplyCall(kind, ns, object, options, "status"));
  return impl_->Do(c);
}

Result<Json> Client::ApplyForcingConflicts(const ResourceKind& kind, std::string_view ns, const Json& object,
                                           const std::string& field_manager, std::string* conflict_message) {
  if (conflict_message != nullptr) conflict_message->clear();
  auto first = Apply(kind, ns, object, {.field_manager = field_manager, .force = false});
  if (first.ok() || !IsConflict(first.status())) return first;
  std::string msg(first.status().message());
  GetLogger("kube")->warn(
      "apply conflict, taking over the fields with force kind={} namespace={} name={} manager={} "
      "conflict={}",
      kind.kind, ns, Name(object), field_manager, msg);
  if (conflict_message != nullptr) *conflict_message = msg;
  return Apply(kind, ns, object, {.field_manager = field_manager, .force = true});
}

Result<Json> Client::Patch(const ResourceKind& kind, std::string_view ns, std::string_view name,
                           PatchType type, const Json& patch, std::string_view subresource,
                           const WriteOptions& options) {
  FMQ_RETURN_IF_ERROR(CheckScope(kind, ns, name));
  Call c = MakeCall("patch", "PATCH", kind, ResourcePath(kind, ns, name, subresource));
  Query q;
  AddWriteOptions(&q, options);
  c.query = q.Encode();
  switch (type) {
    case PatchType::kMerge:
      c.content_type = "application/merge-patch+json";
      break;
    case PatchType::kStrategicMerge:
      c.content_type = "application/strategic-merge-patch+json";
      break;
    case PatchType::kJson:
      c.content_type = "application/json-patch+json";
      c.idempotent = false;  // "add to a list" twice is not the same as once
      break;
  }
  c.body = patch.dump();
  c.write = true;
  return impl_->Do(c);
}

Status Client::Delete(const ResourceKind& kind, std::string_view ns, std::string_view name,
                      const DeleteOptions& options) {
  FMQ_RETURN_IF_ERROR(CheckScope(kind, ns, name));
  Call c = MakeCall("delete", "DELETE", kind, ResourcePath(kind, ns, name));
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.uid.empty()) body["preconditions"]["uid"] = options.uid;
  if (!options.resource_version.empty()) body["preconditions"]["resourceVersion"] = options.resource_version;
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (options.dry_run) body["dryRun"] = Json::array({"All"});
  c.content_type = "application/json";
  c.body = body.dump();
  c.write = true;
  return impl_->Do(c).status();
}

Result<Json> Client::ServerVersion() {
  Call c;
  c.verb = "get";
  c.method = "GET";
  c.path = "/version";
  c.resource = "version";
  return impl_->Do(c);
}

Status Client::Watch(const ResourceKind& kind, std::string_view ns, const WatchOptions& options,
                     const WatchCallback& on_event, Cancellation* cancel) {
  return impl_->Watch(kind, ns, options, on_event, cancel);
}

Status Client::Impl::Watch(const ResourceKind& kind, std::string_view ns, const WatchOptions& options,
                           const WatchCallback& on_event, Cancellation* cancel) {
  Call c = MakeCall("watch", "GET", kind, ResourcePath(kind, ns));
  Query q;
  q.Add("watch", "true");
  q.AddIfSet("resourceVersion", options.resource_version);
  if (options.allow_bookmarks) q.Add("allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0) q.Add("timeoutSeconds", std::to_string(options.timeout_seconds));
  q.AddIfSet("labelSelector", options.label_selector);
  q.AddIfSet("fieldSelector", options.field_selector);
  c.query = q.Encode();

  auto cts = std::make_shared<pplx::cancellation_token_source>();
  if (cancel != nullptr && !cancel->SetHook([cts] { cts->cancel(); })) return Status::Ok();
  struct HookGuard {
    Cancellation* cancel;
    ~HookGuard() {
      if (cancel != nullptr) cancel->ClearHook();
    }
  } guard{cancel};
  auto cancelled = [&] { return cts->get_token().is_canceled(); };

  // A client of its own: the inactivity limit must outlast the server's timeoutSeconds, and cancelling closes
  // only this connection.
  std::unique_ptr<hc::http_client> client;
  std::optional<http::http_response> resp;
  try {
    // Without timeoutSeconds the apiserver picks 30-60 minutes; bookmarks arrive about once a minute.
    const int server_limit = options.timeout_seconds > 0 ? options.timeout_seconds : 3600;
    client = std::make_unique<hc::http_client>(
        utility::conversions::to_string_t(config_.server),
        HttpConfig(std::chrono::seconds(server_limit) + options_.request_timeout));
    resp = client->request(MakeRequest(c), cts->get_token()).get();
  } catch (const std::exception& e) {
    if (cancelled()) return Status::Ok();
    Count(c, "error");
    return Status::Unavailable(
        fmt::format("GET {} (watch): request to {} failed: {}", c.path, config_.server, e.what()));
  }
  int code = resp->status_code();
  Count(c, std::to_string(code));
  if (code != 200) {
    std::string body;
    try {
      auto bytes = resp->extract_vector().get();
      body.assign(bytes.begin(), bytes.end());
    } catch (const std::exception&) {
      // The status code alone still says what happened.
    }
    return StatusFromHttp("GET", c.path + " (watch)", code, body);
  }

  using Buf = concurrency::streams::streambuf<uint8_t>;
  Buf buf = resp->body().streambuf();
  const auto eof = Buf::traits::eof();
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  std::array<uint8_t, 16384> chunk;
  try {
    while (true) {
      size_t avail = buf.in_avail();
      Status fed;
      if (avail == 0) {
        auto ch = buf.bumpc().get();  // waits for the next byte, the end, or an error
        if (ch == eof) break;
        char one = static_cast<char>(ch);
        fed = decoder.Feed(std::string_view(&one, 1), &events);
      } else {
        size_t n = buf.getn(chunk.data(), std::min(avail, chunk.size())).get();
        fed = decoder.Feed(std::string_view(reinterpret_cast<const char*>(chunk.data()), n), &events);
      }
      if (!fed.ok()) {
        cts->cancel();
        return fed.WithContext("GET " + c.path + " (watch)");
      }
      for (const auto& ev : events) {
        if (ev.type == WatchEventType::kError) {
          on_event(ev);
          cts->cancel();
          return StatusFromApiStatus("GET", c.path + " (watch)", ev.object);
        }
        if (!on_event(ev)) {
          cts->cancel();
          return Status::Ok();
        }
      }
      events.clear();
    }
  } catch (const std::exception& e) {
    if (cancelled()) return Status::Ok();
    return Status::Unavailable(fmt::format("GET {} (watch): the stream broke: {}", c.path, e.what()));
  }
  if (cancelled()) return Status::Ok();
  if (decoder.HasPartialLine()) {
    return Status::Unavailable(
        fmt::format("GET {} (watch): the stream ended in the middle of an event", c.path));
  }
  return Status::Ok();
}

}  // namespace fmq::op::kube
