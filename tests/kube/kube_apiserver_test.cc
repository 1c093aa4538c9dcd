// The operator's Kubernetes client and runtime against a real etcd + kube-apiserver (ctest label `kube`).
//
// One control plane serves every test of this binary (started by the environment below, ~5-10 s); each test
// works in its own namespace. When the tools are missing every test fails with the reason (these tests never
// skip).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "operator/kube/client.h"
#include "operator/kube/errors.h"
#include "operator/kube/events.h"
#include "operator/kube/object.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/leader_election.h"
#include "tests/kube/control_plane.h"

namespace fmq::kubetest {
namespace {

namespace kube = op::kube;
namespace runtime = op::runtime;
using kube::Json;
using kube::kinds::kConfigMap;
using std::chrono::milliseconds;

ControlPlane* g_cp = nullptr;
Status g_start_status = Status::Internal("the control plane was not started");

class ControlPlaneEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto t0 = std::chrono::steady_clock::now();
    auto cp = ControlPlane::Start();
    if (!cp.ok()) {
      g_start_status = cp.status();
      ADD_FAILURE() << "cannot start the Kubernetes control plane: " << g_start_status;
      return;
    }
    cp_ = std::move(cp).value();
    g_cp = cp_.get();
    g_start_status = Status::Ok();
    std::fprintf(stderr, "control plane up in %.1f s at %s (workdir %s)\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                 g_cp->server().c_str(), g_cp->workdir().c_str());
  }
  void TearDown() override {
    g_cp = nullptr;
    cp_.reset();
  }

 private:
  std::unique_ptr<ControlPlane> cp_;
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new ControlPlaneEnvironment);

template <typename Pred>
bool WaitUntil(Pred pred, milliseconds limit = milliseconds(20'000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(20));  // polling a condition with a deadline
  }
  return pred();
}

Json ConfigMap(const std::string& name, const Json& data) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
}

class KubeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(g_cp, nullptr) << g_start_status;
    auto c = kube::Client::New(g_cp->AdminConfig(), {.metrics = &metrics_});
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(c).value();
    // A fresh namespace per test: kt-<test name in lower case>.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ns_ = "kt-";
    for (char ch : name) {
      if (std::isupper(static_cast<unsigned char>(ch)) && ns_.size() > 3) ns_ += '-';
      ns_ += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    ns_ = ns_.substr(0, 63);
    while (ns_.back() == '-') ns_.pop_back();
    auto created =
        client_->Create(kube::kinds::kNamespace, "",
                        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok() || kube::IsAlreadyExists(created.status())) << created.status();
  }
  void TearDown() override {
    if (g_cp != nullptr && HasFailure()) {
      Status alive = g_cp->CheckAlive();
      if (!alive.ok()) ADD_FAILURE() << alive;
    }
  }

  MetricRegistry metrics_;
  std::unique_ptr<kube::Client> client_;
  std::string ns_;
};

// ---- connection and authentication ----

TEST_F(KubeTest, KubeconfigWithEmbeddedClientCertificateConnectsOverMutualTls) {
  std::string path = g_cp->WriteAdminKubeconfig("kubeconfig-admin");
  auto config = kube::LoadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->default_namespace, "kt-ns");
  EXPECT_FALSE(config->client_cert_pem.empty());
  auto client = kube::Client::New(*config);
  ASSERT_TRUE(client.ok()) << client.status();
  auto version = (*client)->ServerVersion();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ((*version)["major"], "1");
  // The same server with a CA that did not sign its certificate is refused.
  kube::Config wrong_ca = *config;
  wrong_ca.ca_pem.clear();  // system trust store only
  auto untrusting = kube::Client::New(wrong_ca, {.max_attempts = 1});
  ASSERT_TRUE(untrusting.ok());
  auto refused = (*untrusting)->ServerVersion();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status();
  // insecure-skip-tls-verify accepts it, and the client certificate still authenticates.
  wrong_ca.insecure_skip_tls_verify = true;
  auto insecure = kube::Client::New(wrong_ca);
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE((*insecure)->Get(kube::kinds::kNamespace, "", ns_).ok());
}

TEST_F(KubeTest, TokenFileFromKubeconfigAuthenticates) {
  std::string dir = g_cp->workdir() + "/token-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/token") << kAdminToken << "\n";
  std::ofstream(dir + "/ca.crt") << g_cp->ca_pem();
  std::ofstream(dir + "/config") << "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
                                    "clusters:\n- name: c\n  cluster:\n    server: "
                                 << g_cp->server()
                                 << "\n    certificate-authority: ca.crt\n"
                                    "users:\n- name: u\n  user:\n    tokenFile: token\n"
                                    "contexts:\n- name: t\n  context: {cluster: c, user: u}\n";
  auto config = kube::LoadKubeconfig(dir + "/config");
  ASSERT_TRUE(config.ok()) << config.status();
  auto client = kube::Client::New(*config);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->Get(kube::kinds::kNamespace, "", ns_).ok());
}

TEST_F(KubeTest, ErrorsNameVerbPathAndTheApiserversMessage) {
  // 401: a token the apiserver does not know.
  auto stranger = kube::Client::New(g_cp->TokenConfig("not-a-token"));
  ASSERT_TRUE(stranger.ok());
  auto unauth = (*stranger)->Get(kConfigMap, ns_, "x");
  EXPECT_TRUE(kube::IsUnauthorized(unauth.status())) << unauth.status();
  EXPECT_NE(
      unauth.status().message().find("GET /api/v1/namespaces/" + ns_ + "/configmaps/x: 401 Unauthorized"),
      std::string::npos)
      << unauth.status();

  // 403: authenticated, but RBAC grants nothing.
  auto nobody = kube::Client::New(g_cp->TokenConfig(kNobodyToken));
  ASSERT_TRUE(nobody.ok());
  auto forbidden = (*nobody)->List(kConfigMap, ns_);
  EXPECT_TRUE(kube::IsForbidden(forbidden.status())) << forbidden.status();
  EXPECT_NE(forbidden.status().message().find("User \"nobody\" cannot list resource \"configmaps\""),
            std::string::npos)
      << forbidden.status();

  // 404.
  auto missing = client_->Get(kConfigMap, ns_, "missing");
  EXPECT_TRUE(kube::IsNotFound(missing.status()));
  EXPECT_NE(missing.status().message().find("404 NotFound: configmaps \"missing\" not found"),
            std::string::npos)
      << missing.status();

  // 409 AlreadyExists and 409 Conflict.
  ASSERT_TRUE(client_->Create(kConfigMap, ns_, ConfigMap("dup", {{"a", "1"}})).ok());
  auto dup = client_->Create(kConfigMap, ns_, ConfigMap("dup", {{"a", "1"}}));
  EXPECT_TRUE(kube::IsAlreadyExists(dup.status())) << dup.status();
  EXPECT_NE(dup.status().message().find("already exists"), std::string::npos);
  Json stale = ConfigMap("dup", {{"a", "2"}});
  stale["metadata"]["resourceVersion"] = "1";
  auto conflict = client_->Replace(kConfigMap, ns_, stale);
  EXPECT_TRUE(kube::IsConflict(conflict.status())) << conflict.status();
  EXPECT_NE(conflict.status().message().find("the object has been modified"), std::string::npos)
      << conflict.status();

  // 422: an invalid name, with the field named.
  auto invalid = client_->Create(kConfigMap, ns_, ConfigMap("Not_Valid", {}));
  EXPECT_TRUE(kube::IsInvalid(invalid.status())) << invalid.status();
  EXPECT_NE(invalid.status().message().find("422 Invalid"), std::string::npos) << invalid.status();
  EXPECT_NE(invalid.status().message().find("metadata.name"), std::string::npos) << invalid.status();
}

// ---- CRUD ----

TEST_F(KubeTest, CrudWithResourceVersionCompareAndSwap) {
  auto created = client_->Create(kConfigMap, ns_, ConfigMap("cm", {{"k", "v1"}}), {.field_manager = "kt"});
  ASSERT_TRUE(created.ok()) << created.status();
  std::string rv1 = kube::ResourceVersion(*created);
  ASSERT_FALSE(rv1.empty());

  auto got = client_->Get(kConfigMap, ns_, "cm");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["data"]["k"], "v1");
  EXPECT_EQ((*got)["kind"], "ConfigMap");

  Json update = *got;
  update["data"]["k"] = "v2";
  auto replaced = client_->Replace(kConfigMap, ns_, update);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_NE(kube::ResourceVersion(*replaced), rv1);

  // The same base version again loses the compare-and-swap.
  update["data"]["k"] = "v3";
  auto lost = client_->Replace(kConfigMap, ns_, update);
  EXPECT_TRUE(kube::IsConflict(lost.status())) << lost.status();
  EXPECT_EQ((*client_->Get(kConfigMap, ns_, "cm"))["data"]["k"], "v2");

  // Dry run changes nothing.
  Json fresh = *client_->Get(kConfigMap, ns_, "cm");
  fresh["data"]["k"] = "dry";
  ASSERT_TRUE(client_->Replace(kConfigMap, ns_, fresh, {.dry_run = true}).ok());
  EXPECT_EQ((*client_->Get(kConfigMap, ns_, "cm"))["data"]["k"], "v2");

  ASSERT_TRUE(client_->Delete(kConfigMap, ns_, "cm").ok());
  EXPECT_TRUE(kube::IsNotFound(client_->Get(kConfigMap, ns_, "cm").status()));
  EXPECT_TRUE(kube::IsNotFound(client_->Delete(kConfigMap, ns_, "cm")));
}

TEST_F(KubeTest, MergeAndJsonPatches) {
  ASSERT_TRUE(client_->Create(kConfigMap, ns_, ConfigMap("p", {{"a", "1"}, {"b", "2"}})).ok());
  auto merged = client_->Patch(kConfigMap, ns_, "p", kube::PatchType::kMerge,
                               {{"data", {{"a", "10"}, {"b", nullptr}}}});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ((*merged)["data"], (Json{{"a", "10"}}));
  auto strategic = client_->Patch(kConfigMap, ns_, "p", kube::PatchType::kStrategicMerge,
                                  {{"metadata", {{"labels", {{"x", "y"}}}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status();
  EXPECT_EQ(kube::Label(*strategic, "x"), "y");
  auto jsonp = client_->Patch(kConfigMap, ns_, "p", kube::PatchType::kJson,
                              Json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "3"}}}));
  ASSERT_TRUE(jsonp.ok()) << jsonp.status();
  EXPECT_EQ((*jsonp)["data"]["c"], "3");
  // A JSON patch whose test fails is refused (422) and changes nothing.
  auto failed = client_->Patch(kConfigMap, ns_, "p", kube::PatchType::kJson,
                               Json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "nope"}}}));
  EXPECT_FALSE(failed.ok());
}

TEST_F(KubeTest, DeletePreconditionsAndPropagationPolicy) {
  auto created = client_->Create(kConfigMap, ns_, ConfigMap("d", {{"a", "1"}}));
  ASSERT_TRUE(created.ok());
  std::string uid = kube::Uid(*created);
  std::string rv = kube::ResourceVersion(*created);

  Status wrong_uid = client_->Delete(kConfigMap, ns_, "d", {.uid = "00000000-0000-0000-0000-000000000000"});
  EXPECT_TRUE(kube::IsConflict(wrong_uid)) << wrong_uid;
  EXPECT_NE(wrong_uid.message().find("the UID in the precondition"), std::string::npos) << wrong_uid;
  ASSERT_TRUE(client_->Patch(kConfigMap, ns_, "d", kube::PatchType::kMerge, {{"data", {{"a", "2"}}}}).ok());
  Status stale_rv = client_->Delete(kConfigMap, ns_, "d", {.resource_version = rv});
  EXPECT_TRUE(kube::IsConflict(stale_rv)) << stale_rv;
  EXPECT_TRUE(client_->Get(kConfigMap, ns_, "d").ok());

  // Foreground: the apiserver keeps the object with a deletionTimestamp and the foregroundDeletion finalizer
  // until the garbage collector (not running here) is done with its dependents.
  Status fg = client_->Delete(kConfigMap, ns_, "d", {.uid = uid, .propagation_policy = "Foreground"});
  ASSERT_TRUE(fg.ok()) << fg;
  auto deleting = client_->Get(kConfigMap, ns_, "d");
  ASSERT_TRUE(deleting.ok()) << deleting.status();
  EXPECT_TRUE(kube::IsBeingDeleted(*deleting));
  EXPECT_EQ((*deleting)["metadata"]["finalizers"], Json::array({"foregroundDeletion"}));
  // Clearing the finalizer lets it go.
  ASSERT_TRUE(
      client_->Patch(kConfigMap, ns_, "d", kube::PatchType::kMerge, {{"metadata", {{"finalizers", nullptr}}}})
          .ok());
  EXPECT_TRUE(WaitUntil([&] { return kube::IsNotFound(client_->Get(kConfigMap, ns_, "d").status()); }));
}

// ---- server-side apply ----

TEST_F(KubeTest, ServerSideApplyTwiceChangesNothing) {
  Json desired = ConfigMap("ssa", {{"broker.conf", "brokerName=prod-broker-0\n"}});
  desired["metadata"]["labels"] = {{"app.kubernetes.io/managed-by", "ferrymq-operator"}};
  auto first = client_->Apply(kConfigMap, ns_, desired, {.field_manager = "ferrymq-operator"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = client_->Apply(kConfigMap, ns_, desired, {.field_manager = "ferrymq-operator"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(kube::ResourceVersion(*first), kube::ResourceVersion(*second));  // a no-op apply writes nothing
  bool managed = false;
  for (const auto& mf : (*second)["metadata"]["managedFields"]) {
    if (mf["manager"] == "ferrymq-operator" && mf["operation"] == "Apply") managed = true;
  }
  EXPECT_TRUE(managed);
  // A real change moves the version.
  desired["data"]["broker.conf"] = "brokerName=prod-broker-0\nflushDiskType=SYNC_FLUSH\n";
  auto third = client_->Apply(kConfigMap, ns_, desired, {.field_manager = "ferrymq-operator"});
  ASSERT_TRUE(third.ok());
  EXPECT_NE(kube::ResourceVersion(*third), kube::ResourceVersion(*second));
}

TEST_F(KubeTest, ApplyConflictNamesTheOtherManagerAndForceTakesOver) {
  ASSERT_TRUE(
      client_->Apply(kConfigMap, ns_, ConfigMap("c", {{"k", "mine"}}), {.field_manager = "kubectl-edit"})
          .ok());
  auto conflict =
      client_->Apply(kConfigMap, ns_, ConfigMap("c", {{"k", "ours"}}), {.field_manager = "ferrymq-operator"});
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(kube::IsConflict(conflict.status())) << conflict.status();
  EXPECT_NE(conflict.status().message().find("kubectl-edit"), std::string::npos) << conflict.status();
  EXPECT_NE(conflict.status().message().find(".data.k"), std::string::npos) << conflict.status();

  std::string overridden;
  auto forced = client_->ApplyForcingConflicts(kConfigMap, ns_, ConfigMap("c", {{"k", "ours"}}),
                                               "ferrymq-operator", &overridden);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ((*forced)["data"]["k"], "ours");
  EXPECT_NE(overridden.find("kubectl-edit"), std::string::npos) << overridden;
  // Now owned by the operator: applying again conflicts with nobody.
  std::string none = "unset";
  ASSERT_TRUE(
      client_
          ->ApplyForcingConflicts(kConfigMap, ns_, ConfigMap("c", {{"k", "ours"}}), "ferrymq-operator", &none)
          .ok());
  EXPECT_EQ(none, "");
}

// ---- status subresource (a CRD) ----

const kube::ResourceKind kWidget{"test.ferrymq.io", "v1", "Widget", "widgets", true};

Status EnsureWidgetCrd(kube::Client* client) {
  Json crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "widgets.test.ferrymq.io"}}},
      {"spec",
       {{"group", "test.ferrymq.io"},
        {"scope", "Namespaced"},
        {"names",
         {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"listKind", "WidgetList"}}},
        {"versions",
         Json::array(
             {{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"subresources", {{"status", Json::object()}}},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"},
                   {"properties",
                    {{"spec", {{"type", "object"}, {"properties", {{"size", {{"type", "integer"}}}}}}},
                     {"status",
                      {{"type", "object"},
                       {"properties",
                        {{"observedGeneration", {{"type", "integer"}}},
                         {"message", {{"type", "string"}}}}}}}}}}}}}}})}}}};
  auto applied = client->Apply(kube::kinds::kCustomResourceDefinition, "", crd, {.field_manager = "kt"});
  if (!applied.ok()) return applied.status();
  bool ready = WaitUntil([&] { return client->List(kWidget, "").ok(); });
  return ready ? Status::Ok() : Status::DeadlineExceeded("widgets CRD never served");
}

TEST_F(KubeTest, StatusSubresourceIsWrittenSeparatelyFromTheSpec) {
  ASSERT_TRUE(EnsureWidgetCrd(client_.get()).ok());
  Json w = {{"apiVersion", "test.ferrymq.io/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w"}}},
            {"spec", {{"size", 3}}},
            {"status", {{"message", "ignored on create"}}}};
  auto created = client_->Create(kWidget, ns_, w);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->contains("status"));  // status is dropped on the main resource

  Json with_status = *created;
  with_status["status"] = {{"observedGeneration", 1}, {"message", "ready"}};
  with_status["spec"]["size"] = 99;  // ignored by /status
  auto updated = client_->UpdateStatus(kWidget, ns_, with_status);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ((*updated)["status"]["message"], "ready");
  EXPECT_EQ((*updated)["spec"]["size"], 3);

  // The same stale version again: compare-and-swap on /status too.
  auto stale = client_->UpdateStatus(kWidget, ns_, with_status);
  EXPECT_TRUE(kube::IsConflict(stale.status())) << stale.status();

  Json status_apply = {{"apiVersion", "test.ferrymq.io/v1"},
                       {"kind", "Widget"},
                       {"metadata", {{"name", "w"}}},
                       {"status", {{"message", "applied"}}}};
  auto applied =
      client_->ApplyStatus(kWidget, ns_, status_apply, {.field_manager = "ferrymq-status", .force = true});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ((*applied)["status"]["message"], "applied");
  EXPECT_EQ((*applied)["spec"]["size"], 3);
  EXPECT_EQ(kube::Generation(*applied), 1);  // status writes never bump the generation
}

// ---- lists ----

TEST_F(KubeTest, PaginatedListSeesEveryObjectOnce) {
  for (int i = 0; i < 25; ++i) {
    Json cm = ConfigMap("page-" + std::to_string(i), {{"i", std::to_string(i)}});
    cm["metadata"]["labels"] = {{"app", i % 5 == 0 ? "five" : "other"}};
    ASSERT_TRUE(client_->Create(kConfigMap, ns_, cm).ok());
  }
  auto page = client_->List(kConfigMap, ns_, {.limit = 10});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->items.size(), 10u);
  EXPECT_FALSE(page->continue_token.empty());
  auto all = client_->ListAll(kConfigMap, ns_, {.limit = 10});
  ASSERT_TRUE(all.ok()) << all.status();
  std::set<std::string> names;
  for (const auto& item : all->items) {
    if (kube::Name(item).rfind("page-", 0) == 0) names.insert(kube::Name(item));
  }
  EXPECT_EQ(names.size(), 25u);
  EXPECT_FALSE(all->resource_version.empty());
  auto selected = client_->ListAll(kConfigMap, ns_, {.label_selector = "app in (five)", .limit = 2});
  ASSERT_TRUE(selected.ok()) << selected.status();
  EXPECT_EQ(selected->items.size(), 5u);
  auto by_field = client_->List(kConfigMap, ns_, {.field_selector = "metadata.name=page-7"});
  ASSERT_TRUE(by_field.ok()) << by_field.status();
  ASSERT_EQ(by_field->items.size(), 1u);
  EXPECT_EQ(by_field->items[0]["data"]["i"], "7");
}

// ---- watch ----

TEST_F(KubeTest, WatchDeliversChangesAndBookmarks) {
  std::string other = ns_ + "-other";
  auto created_ns =
      client_->Create(kube::kinds::kNamespace, "",
                      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", other}}}});
  ASSERT_TRUE(created_ns.ok() || kube::IsAlreadyExists(created_ns.status())) << created_ns.status();
  auto list = client_->List(kConfigMap, ns_);
  ASSERT_TRUE(list.ok());
  std::vector<kube::WatchEvent> events;
  std::string other_rv;
  std::atomic<bool> saw_delete{false};
  std::thread writer([&] {
    // Changes made while the watch runs (it starts from the list's version, so none can be missed).
    (void)client_->Create(kConfigMap, ns_, ConfigMap("w", {{"a", "1"}}));
    (void)client_->Patch(kConfigMap, ns_, "w", kube::PatchType::kMerge, {{"data", {{"a", "2"}}}});
    (void)client_->Delete(kConfigMap, ns_, "w");
    // Once the watch is live, a change it does not see: the bookmark lets the watcher skip past it.
    WaitUntil([&] { return saw_delete.load(); });
    auto o = client_->Create(kConfigMap, other, ConfigMap("elsewhere", {{"a", "1"}}));
    if (o.ok()) other_rv = kube::ResourceVersion(*o);
  });
  // timeoutSeconds=4: the watch cache sends a bookmark 2 s before it ends the watch.
  auto t0 = std::chrono::steady_clock::now();
  Status s =
      client_->Watch(kConfigMap, ns_, {.resource_version = list->resource_version, .timeout_seconds = 4},
                     [&](const kube::WatchEvent& ev) {
                       events.push_back(ev);
                       if (ev.type == kube::WatchEventType::kDeleted) saw_delete = true;
                       return true;
                     });
  saw_delete = true;  // release the writer even if the watch failed
  writer.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  std::vector<std::string> seen;
  std::string bookmark_rv;
  for (const auto& ev : events) {
    if (ev.type == kube::WatchEventType::kBookmark) {
      bookmark_rv = kube::ResourceVersion(ev.object);
    } else {
      seen.push_back(std::string(kube::WatchEventTypeName(ev.type)) + " " + kube::Name(ev.object));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED w", "MODIFIED w", "DELETED w"}));
  ASSERT_FALSE(other_rv.empty());
  ASSERT_FALSE(bookmark_rv.empty()) << "no BOOKMARK before the watch ended; list at "
                                    << list->resource_version << ", other write at " << other_rv;
  EXPECT_GE(std::stoull(bookmark_rv), std::stoull(other_rv));
}

TEST_F(KubeTest, WatchFromATooOldVersionIsGoneAndCancelEndsAWatch) {
  // The Widget CRD's watch cache starts when the CRD is established, so "1" is far behind its window.
  ASSERT_TRUE(EnsureWidgetCrd(client_.get()).ok());
  int events = 0;
  Status gone = client_->Watch(kWidget, ns_, {.resource_version = "1", .timeout_seconds = 10},
                               [&](const kube::WatchEvent&) {
                                 ++events;
                                 return true;
                               });
  EXPECT_TRUE(kube::IsGone(gone)) << gone;
  EXPECT_NE(gone.message().find("too old resource version"), std::string::npos) << gone;
  EXPECT_EQ(events, 1);  // the ERROR event itself

  kube::Cancellation cancel;
  std::atomic<bool> watching{false};
  std::thread canceller([&] {
    WaitUntil([&] { return watching.load(); });
    cancel.Cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  Json cm = ConfigMap("c", {{"a", "1"}});
  ASSERT_TRUE(client_->Create(kConfigMap, ns_, cm).ok());
  Status s = client_->Watch(
      kConfigMap, ns_, {.timeout_seconds = 300},
      [&](const kube::WatchEvent&) {
        watching = true;  // the synthetic ADDED of "c" arrives first
        return true;
      },
      &cancel);
  canceller.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

// ---- events ----

TEST_F(KubeTest, EventsAreCreatedAndRepeatsAggregated) {
  auto cm = client_->Create(kConfigMap, ns_, ConfigMap("subject", {{"a", "1"}}));
  ASSERT_TRUE(cm.ok());
  kube::EventRecorder recorder(client_.get(), {.reporting_instance = "kt-0"});
  ASSERT_TRUE(
      recorder.Record(*cm, kube::EventType::kWarning, "BrokerError", "broker prod-broker-0 refused").ok());
  ASSERT_TRUE(
      recorder.Record(*cm, kube::EventType::kWarning, "BrokerError", "broker prod-broker-0 refused").ok());
  ASSERT_TRUE(
      recorder.Record(*cm, kube::EventType::kWarning, "BrokerError", "broker prod-broker-0 refused").ok());
  ASSERT_TRUE(recorder.Record(*cm, kube::EventType::kNormal, "Synced", "all good").ok());
  auto events = client_->List(kube::kinds::kEvent, ns_, {.field_selector = "involvedObject.name=subject"});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->items.size(), 2u);
  std::map<std::string, Json> by_reason;
  for (const auto& e : events->items) by_reason[e["reason"]] = e;
  EXPECT_EQ(by_reason["BrokerError"]["count"], 3);
  EXPECT_EQ(by_reason["BrokerError"]["type"], "Warning");
  EXPECT_EQ(by_reason["BrokerError"]["involvedObject"]["uid"], kube::Uid(*cm));
  EXPECT_EQ(by_reason["BrokerError"]["reportingComponent"], "ferrymq-operator");
  EXPECT_EQ(by_reason["Synced"]["count"], 1);
}

// ---- metrics ----

TEST_F(KubeTest, MetricsCountRequestsAndWritesByVerbAndCode) {
  ASSERT_TRUE(client_->Apply(kConfigMap, ns_, ConfigMap("m", {{"a", "1"}}), {.field_manager = "kt"}).ok());
  ASSERT_TRUE(client_->Get(kConfigMap, ns_, "m").ok());
  EXPECT_TRUE(kube::IsNotFound(client_->Get(kConfigMap, ns_, "nope").status()));
  std::string text = metrics_.Render();
  EXPECT_NE(
      text.find("ferrymq_operator_kube_writes_total{verb=\"apply\",resource=\"configmaps\",code=\"201\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("ferrymq_operator_kube_requests_total{verb=\"get\",resource=\"configmaps\",code=\"404\"} 1"),
      std::string::npos)
      << text;
  auto stats = client_->Stats();
  EXPECT_EQ(stats.writes, 2u);  // the namespace and the apply
}

// ---- runtime: informer, controller, leader election ----

Json Widget(const std::string& name, int size) {
  return {{"apiVersion", "test.ferrymq.io/v1"},
          {"kind", "Widget"},
          {"metadata", {{"name", name}}},
          {"spec", {{"size", size}}}};
}

TEST_F(KubeTest, InformerConvergesAndReListsAfterGone) {
  ASSERT_TRUE(EnsureWidgetCrd(client_.get()).ok());
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(client_->Create(kWidget, ns_, Widget("pre-" + std::to_string(i), 1)).ok());
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  runtime::Informer inf(
      client_.get(), kWidget,
      {.namespaces = {ns_}, .page_size = 3, .watch_timeout_seconds = 30, .metrics = &metrics_});
  inf.AddIndex("by-size", [](const Json& o) {
    return std::vector<std::string>{std::to_string(o.value("/spec/size"_json_pointer, 0))};
  });
  inf.AddEventHandler({[&](const Json&) { adds++; }, [&](const Json&, const Json&) { updates++; },
                       [&](const Json&) { deletes++; }});
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(20'000)));
  auto matches = [&] {
    auto list = client_->ListAll(kWidget, ns_);
    if (!list.ok()) return false;
    std::set<std::string> want;
    for (const auto& item : list->items)
      want.insert(kube::ObjectKey(item) + "@" + kube::ResourceVersion(item));
    std::set<std::string> have;
    for (const auto& obj : inf.List()) have.insert(kube::ObjectKey(*obj) + "@" + kube::ResourceVersion(*obj));
    return want == have;
  };
  EXPECT_TRUE(matches());
  EXPECT_EQ(adds.load(), 7);
  EXPECT_EQ(inf.list_count(), 1u);

  ASSERT_TRUE(client_->Create(kWidget, ns_, Widget("live", 2)).ok());
  ASSERT_TRUE(client_->Patch(kWidget, ns_, "pre-0", kube::PatchType::kMerge, {{"spec", {{"size", 2}}}}).ok());
  ASSERT_TRUE(client_->Delete(kWidget, ns_, "pre-1").ok());
  ASSERT_TRUE(WaitUntil(matches)) << "the cache did not converge";
  EXPECT_EQ(inf.ByIndex("by-size", "2").size(), 2u);
  EXPECT_EQ(inf.ByIndex("by-size", "1").size(), 5u);
  EXPECT_EQ(deletes.load(), 1);
  EXPECT_GE(updates.load(), 1);

  // The next watch starts from a version older than the apiserver's window: 410 -> re-list, never a loop. A
  // change made meanwhile is picked up by the re-list.
  ASSERT_TRUE(client_->Delete(kWidget, ns_, "pre-2").ok());
  inf.TEST_RestartWatchFrom(ns_, "1");
  ASSERT_TRUE(WaitUntil([&] { return inf.relist_after_gone_count() >= 1; }));
  // The delete may already have come through the old watch, so the cache can match before the re-list ran.
  ASSERT_TRUE(WaitUntil([&] { return inf.list_count() >= 2; })) << "no re-list after 410";
  ASSERT_TRUE(WaitUntil(matches)) << "the cache did not converge after the re-list";
  ASSERT_TRUE(client_->Create(kWidget, ns_, Widget("after", 3)).ok());
  ASSERT_TRUE(WaitUntil(matches)) << "the watch did not resume after the re-list";
  EXPECT_EQ(inf.relist_after_gone_count(), 1u);
  EXPECT_EQ(inf.list_count(), 2u);
  EXPECT_EQ(inf.ByIndex("by-size", "3").size(), 1u);
  EXPECT_NE(
      metrics_.Render().find("ferrymq_operator_informer_lists_total{resource=\"widgets.test.ferrymq.io\"} 2"),
      std::string::npos)
      << metrics_.Render();
  inf.Stop();
}

TEST_F(KubeTest, ControllerReconcilesFromInformerEventsAndSettles) {
  // A tiny controller: for every ConfigMap "src-*" keep "dst-*" with the same data, by server-side apply.
  // After it settles, a full pass over the cache writes nothing (what the operator's /metrics proves for
  // real).
  runtime::Informer inf(client_.get(), kConfigMap, {.namespaces = {ns_}});
  std::atomic<int> reconciles{0};
  runtime::Controller ctl(
      {.name = "mirror", .workers = 2, .metrics = &metrics_}, [&](const std::string& key) {
        reconciles++;
        auto [ns, name] = kube::SplitKey(key);
        if (name.rfind("src-", 0) != 0) return runtime::ReconcileResult::Done();
        auto src = inf.Get(key);
        if (!src) return runtime::ReconcileResult::Done();
        std::string dst_name = "dst-" + name.substr(4);
        auto dst = inf.Get(ns, dst_name);
        if (dst && (*dst)["data"] == (*src)["data"])
          return runtime::ReconcileResult::Done();  // converged: no write
        auto applied =
            client_->ApplyForcingConflicts(kConfigMap, ns, ConfigMap(dst_name, (*src)["data"]), "mirror");
        return applied.ok() ? runtime::ReconcileResult::Done()
                            : runtime::ReconcileResult::Error(applied.status());
      });
  inf.AddEventHandler(ctl.EnqueueMappedHandler([](const Json& o) {
    std::string name = kube::Name(o);
    if (name.rfind("dst-", 0) == 0) name = "src-" + name.substr(4);  // a changed copy re-runs its source
    return std::vector<std::string>{kube::MakeKey(kube::Namespace(o), name)};
  }));
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(20'000)));
  ASSERT_TRUE(ctl.Start().ok());
  ASSERT_TRUE(client_->Create(kConfigMap, ns_, ConfigMap("src-a", {{"k", "1"}})).ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto d = client_->Get(kConfigMap, ns_, "dst-a");
    return d.ok() && (*d)["data"]["k"] == "1";
  }));
  // Someone edits the copy: the controller puts it back.
  ASSERT_TRUE(client_
                  ->Patch(kConfigMap, ns_, "dst-a", kube::PatchType::kMerge, {{"data", {{"k", "tampered"}}}},
                          {}, {.field_manager = "kubectl-edit"})
                  .ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto d = client_->Get(kConfigMap, ns_, "dst-a");
    return d.ok() && (*d)["data"]["k"] == "1";
  }));
  ASSERT_TRUE(WaitUntil([&] {
    auto d = inf.Get(ns_, "dst-a");
    return d && (*d)["data"]["k"] == "1" && ctl.queue().Len() == 0 &&
           !ctl.queue().IsProcessing(ns_ + "/src-a");
  }));
  // Settled: replaying everything writes nothing.
  uint64_t writes = client_->Stats().writes;
  int before = reconciles.load();
  inf.Resync();
  ASSERT_TRUE(WaitUntil([&] { return reconciles.load() >= before + 1 && ctl.queue().Len() == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return !ctl.queue().IsProcessing(ns_ + "/src-a"); }));
  EXPECT_EQ(client_->Stats().writes, writes);
  ctl.Stop();
  inf.Stop();
}

TEST_F(KubeTest, LeaderElectionHandsOverWithinTheLeaseTime) {
  auto make = [&](const std::string& id, std::atomic<int>* started, std::atomic<int>* stopped) {
    runtime::LeaderElectionConfig c{.lease_namespace = ns_,
                                    .lease_name = "ferrymq-operator",
                                    .identity = id,
                                    .lease_duration = milliseconds(3000),
                                    .renew_deadline = milliseconds(2000),
                                    .retry_period = milliseconds(500),
                                    .metrics = &metrics_};
    return std::make_unique<runtime::LeaderElector>(
        g_cp->AdminConfig(), c,
        runtime::LeaderCallbacks{[started] { (*started)++; }, [stopped] { (*stopped)++; }, {}});
  };
  std::atomic<int> a_started{0}, a_stopped{0}, b_started{0}, b_stopped{0};
  auto a = make("replica-a", &a_started, &a_stopped);
  auto b = make("replica-b", &b_started, &b_stopped);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->IsLeader(); }));
  ASSERT_TRUE(b->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return b->CurrentLeader() == "replica-a"; }));
  EXPECT_FALSE(b->IsLeader());
  auto lease = client_->Get(kube::kinds::kLease, ns_, "ferrymq-operator");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "replica-a");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 3);
  EXPECT_TRUE(kube::ParseTimeMicros((*lease)["spec"]["acquireTime"].get<std::string>()).ok());

  auto t0 = std::chrono::steady_clock::now();
  a->Stop();  // clean shutdown releases the Lease
  EXPECT_EQ(a_stopped.load(), 1);
  ASSERT_TRUE(WaitUntil([&] { return b->IsLeader(); }, milliseconds(10'000)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(3000)) << "took longer than the lease";
  lease = client_->Get(kube::kinds::kLease, ns_, "ferrymq-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "replica-b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  EXPECT_EQ(b_started.load(), 1);
  b->Stop();
  EXPECT_EQ(b_stopped.load(), 1);
}

}  // namespace
}  // namespace fmq::kubetest
