#include "operator/kube/client.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "operator/kube/errors.h"
#include "operator/kube/object.h"
#include "operator/kube/testing/fake_apiserver.h"

namespace fmq::op::kube {
namespace {

using net::HttpRequest;
using net::HttpResponder;
using testing::FakeApiServer;
using Clock = std::chrono::steady_clock;

constexpr char kCmPath[] = "/api/v1/namespaces/ns/configmaps/cm";
constexpr char kCmList[] = "/api/v1/namespaces/ns/configmaps";

Json ConfigMap(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}},
          {"data", {{"k", "v"}}}};
}

class ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> NewClient(ClientOptions options = {}) {
    options.backoff_base = std::chrono::milliseconds(1);
    options.backoff_max = std::chrono::milliseconds(5);
    if (options.metrics == nullptr) options.metrics = &metrics_;
    auto c = Client::New(fake_.config(), options);
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(c).value();
  }

  MetricRegistry metrics_;
  FakeApiServer fake_;
};

TEST_F(ClientTest, GetSendsAuthAndFillsTypeMeta) {
  fake_.Reply("GET", kCmPath, 200, ConfigMap("cm", "7"));
  auto client = NewClient();
  auto cm = client->Get(kinds::kConfigMap, "ns", "cm");
  ASSERT_TRUE(cm.ok()) << cm.status();
  EXPECT_EQ((*cm)["apiVersion"], "v1");
  EXPECT_EQ((*cm)["kind"], "ConfigMap");
  EXPECT_EQ(ResourceVersion(*cm), "7");
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].Header("Authorization"), "Bearer test-token");
  EXPECT_EQ(reqs[0].Header("Accept"), "application/json");
  EXPECT_EQ(reqs[0].Header("User-Agent"), "ferrymq-operator/0.1");
}

TEST_F(ClientTest, ErrorsNameVerbPathCodeAndApiserverMessage) {
  fake_.On("GET", kCmPath, [](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
    r->Send(404, "application/json",
            FakeApiServer::StatusBody(404, "NotFound", "configmaps \"cm\" not found"));
  });
  auto client = NewClient();
  auto cm = client->Get(kinds::kConfigMap, "ns", "cm");
  ASSERT_FALSE(cm.ok());
  EXPECT_TRUE(IsNotFound(cm.status()));
  EXPECT_EQ(cm.status().message(),
            "GET /api/v1/namespaces/ns/configmaps/cm: 404 NotFound: configmaps \"cm\" not found");

  fake_.On("PUT", kCmPath, [](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
    r->Send(
        409, "application/json",
        FakeApiServer::StatusBody(409, "Conflict",
                                  "Operation cannot be fulfilled on configmaps \"cm\": the object has been "
                                  "modified; please apply your changes to the latest version and try again"));
  });
  auto put = client->Replace(kinds::kConfigMap, "ns", ConfigMap("cm", "3"));
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(IsConflict(put.status())) << put.status();
  EXPECT_NE(
      put.status().message().find("PUT /api/v1/namespaces/ns/configmaps/cm: 409 Conflict: Operation cannot"),
      std::string::npos);
}

TEST_F(ClientTest, RefusesMissingNamespaceAndBadNamesWithoutARequest) {
  auto client = NewClient();
  EXPECT_TRUE(IsInvalid(client->Get(kinds::kConfigMap, "", "cm").status()));
  EXPECT_TRUE(IsInvalid(client->Get(kinds::kConfigMap, "ns", "..").status()));
  EXPECT_TRUE(IsInvalid(client->Create(kinds::kConfigMap, "", ConfigMap("a", "")).status()));
  EXPECT_TRUE(
      IsInvalid(client->Apply(kinds::kConfigMap, "ns", ConfigMap("a", ""), {}).status()));  // no manager
  EXPECT_EQ(fake_.RequestCount(), 0u);
}

TEST_F(ClientTest, ListAllFollowsContinueTokensAndKeepsTheFirstVersion) {
  fake_.On("GET", kCmList, [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
    auto q = req.QueryParams();
    Json list = {{"kind", "ConfigMapList"}, {"apiVersion", "v1"}};
    if (q["continue"].empty()) {
      list["metadata"] = {{"resourceVersion", "100"}, {"continue", "tok/1"}};
      list["items"] = Json::array({ConfigMap("a", "1"), ConfigMap("b", "2")});
    } else if (q["continue"] == "tok/1") {
      list["metadata"] = {{"resourceVersion", "100"}, {"continue", "tok/2"}};
      list["items"] = Json::array({ConfigMap("c", "3")});
    } else {
      list["metadata"] = {{"resourceVersion", "100"}};
      list["items"] = Json::array();
    }
    r->Send(200, "application/json", list.dump());
  });
  auto client = NewClient();
  auto all = client->ListAll(kinds::kConfigMap, "ns", {.label_selector = "app=x,tier in (a,b)", .limit = 2});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->items.size(), 3u);
  EXPECT_EQ(Name(all->items[2]), "c");
  EXPECT_EQ(all->items[0]["kind"], "ConfigMap");  // list items get their type back
  EXPECT_EQ(all->resource_version, "100");
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].query, "labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29&limit=2");
  EXPECT_EQ(reqs[1].QueryParams()["continue"], "tok/1");
  EXPECT_EQ(reqs[2].QueryParams()["continue"], "tok/2");
  EXPECT_EQ(reqs[2].QueryParams()["limit"], "2");
}

TEST_F(ClientTest, ExpiredContinueTokenIsGone) {
  fake_.On("GET", kCmList, [](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
    r->Send(410, "application/json",
            FakeApiServer::StatusBody(410, "Expired", "The provided continue parameter is too old"));
  });
  auto client = NewClient();
  auto all = client->ListAll(kinds::kConfigMap, "ns", {.limit = 1, .continue_token = "old"});
  ASSERT_FALSE(all.ok());
  EXPECT_TRUE(IsGone(all.status())) << all.status();
}

TEST_F(ClientTest, WritesUseTheRightMethodsBodiesAndContentTypes) {
  auto echo = [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
    r->Send(200, "application/json", req.body.empty() ? "{}" : req.body);
  };
  fake_.On("POST", kCmList, echo);
  fake_.On("PUT", kCmPath, echo);
  fake_.On("PUT", std::string(kCmPath) + "/status", echo);
  fake_.On("PATCH", kCmPath, echo);
  fake_.On("PATCH", std::string(kCmPath) + "/status", echo);
  fake_.On("DELETE", kCmPath, echo);
  auto client = NewClient();

  ASSERT_TRUE(client->Create(kinds::kConfigMap, "ns", ConfigMap("cm", ""), {.field_manager = "m"}).ok());
  ASSERT_TRUE(client->Replace(kinds::kConfigMap, "ns", ConfigMap("cm", "5")).ok());
  ASSERT_TRUE(client->UpdateStatus(kinds::kConfigMap, "ns", ConfigMap("cm", "5")).ok());
  ASSERT_TRUE(
      client->Apply(kinds::kConfigMap, "ns", ConfigMap("cm", ""), {.field_manager = "ferrymq-operator"})
          .ok());
  ASSERT_TRUE(client
                  ->ApplyStatus(kinds::kConfigMap, "ns", ConfigMap("cm", ""),
                                {.field_manager = "ferrymq-status", .force = true})
                  .ok());
  ASSERT_TRUE(client->Patch(kinds::kConfigMap, "ns", "cm", PatchType::kMerge, {{"data", {{"k", "w"}}}}).ok());
  ASSERT_TRUE(client
                  ->Patch(kinds::kConfigMap, "ns", "cm", PatchType::kJson,
                          Json::array({{{"op", "add"}, {"path", "/data/x"}, {"value", "1"}}}))
                  .ok());
  ASSERT_TRUE(client
                  ->Delete(kinds::kConfigMap, "ns", "cm",
                           {.uid = "u-1", .resource_version = "9", .propagation_policy = "Foreground"})
                  .ok());

  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 8u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].query, "fieldManager=m");
  EXPECT_EQ(reqs[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(Json::parse(reqs[0].body)["kind"], "ConfigMap");
  EXPECT_EQ(Json::parse(reqs[1].body)["metadata"]["resourceVersion"], "5");
  EXPECT_EQ(reqs[2].path, std::string(kCmPath) + "/status");
  EXPECT_EQ(reqs[3].Header("Content-Type"), "application/apply-patch+yaml");
  EXPECT_EQ(reqs[3].query, "fieldManager=ferrymq-operator");
  EXPECT_EQ(Json::parse(reqs[3].body)["apiVersion"], "v1");
  EXPECT_EQ(reqs[4].path, std::string(kCmPath) + "/status");
  EXPECT_EQ(reqs[4].query, "fieldManager=ferrymq-status&force=true");
  EXPECT_EQ(reqs[5].Header("Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(reqs[6].Header("Content-Type"), "application/json-patch+json");
  EXPECT_EQ(reqs[7].method, "DELETE");
  Json del = Json::parse(reqs[7].body);
  EXPECT_EQ(del["preconditions"]["uid"], "u-1");
  EXPECT_EQ(del["preconditions"]["resourceVersion"], "9");
  EXPECT_EQ(del["propagationPolicy"], "Foreground");

  EXPECT_EQ(client->Stats().writes, 8u);
  std::string text = metrics_.Render();
  EXPECT_NE(
      text.find("ferrymq_operator_kube_writes_total{verb=\"apply\",resource=\"configmaps\",code=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "ferrymq_operator_kube_requests_total{verb=\"delete\",resource=\"configmaps\",code=\"200\"} 1"),
      std::string::npos)
      << text;
}

TEST_F(ClientTest, ApplyForcingConflictsRetriesWithForceAndReportsTheConflict) {
  fake_.On("PATCH", kCmPath, [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
    if (req.QueryParams().count("force") == 0) {
      Json details = {{"causes",
                       {{{"reason", "FieldManagerConflict"},
                         {"message", "conflict with \"kubectl-edit\" using v1"},
                         {"field", ".data.k"}}}}};
      r->Send(409, "application/json",
              FakeApiServer::StatusBody(
                  409, "Conflict", "Apply failed with 1 conflict: conflict with \"kubectl-edit\"", details));
    } else {
      r->Send(200, "application/json", req.body);
    }
  });
  auto client = NewClient();
  std::string conflict;
  auto applied = client->ApplyForcingConflicts(kinds::kConfigMap, "ns", ConfigMap("cm", ""),
                                               "ferrymq-operator", &conflict);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_NE(conflict.find("kubectl-edit"), std::string::npos) << conflict;
  EXPECT_NE(conflict.find(".data.k"), std::string::npos) << conflict;
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].QueryParams()["force"], "true");
}

TEST_F(ClientTest, RetriesIdempotentRequestsOn5xxButNotCreates) {
  std::atomic<int> calls{0};
  fake_.On("GET", kCmPath, [&](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
    if (calls.fetch_add(1) < 2) {
      r->Send(503, "application/json", FakeApiServer::StatusBody(503, "ServiceUnavailable", "etcd is slow"));
    } else {
      r->Send(200, "application/json", ConfigMap("cm", "1").dump());
    }
  });
  fake_.On("POST", kCmList, [](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
    r->Send(503, "application/json", FakeApiServer::StatusBody(503, "ServiceUnavailable", "busy"));
  });
  auto client = NewClient();
  auto got = client->Get(kinds::kConfigMap, "ns", "cm");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(calls.load(), 3);

  fake_.ClearRequests();
  auto created = client->Create(kinds::kConfigMap, "ns", ConfigMap("cm", ""));
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(fake_.RequestCount(), 1u);  // a POST may have been applied: never repeated
}

TEST_F(ClientTest, TooManyRequestsHonoursRetryAfterForEveryVerb) {
  std::atomic<int> calls{0};
  fake_.On("POST", kCmList, [&](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
    if (calls.fetch_add(1) == 0) {
      r->Send(429, "application/json", FakeApiServer::StatusBody(429, "TooManyRequests", "slow down"),
              {{"Retry-After", "1"}});
    } else {
      r->Send(201, "application/json", req.body);
    }
  });
  auto client = NewClient();
  auto t0 = Clock::now();
  auto created = client->Create(kinds::kConfigMap, "ns", ConfigMap("cm", ""));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(1000));
}

TEST_F(ClientTest, ConnectionErrorsAreRetriedThenUnavailable) {
  ClientOptions options;
  options.max_attempts = 3;
  auto client = NewClient(options);
  fake_.Stop();
  auto got = client->Get(kinds::kConfigMap, "ns", "cm");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("GET /api/v1/namespaces/ns/configmaps/cm"), std::string::npos);
  EXPECT_EQ(client->Stats().requests, 3u);
  EXPECT_NE(metrics_.Render().find("code=\"error\"} 3"), std::string::npos);
}

TEST_F(ClientTest, TokenFileIsReReadSoRotatedTokensAreUsed) {
  auto dir = std::filesystem::temp_directory_path() / ("fmq-kube-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto token_path = (dir / "token").string();
  std::ofstream(token_path) << "first\n";
  Config config = fake_.config();
  config.token = "";
  config.token_file = token_path;
  fake_.Reply("GET", kCmPath, 200, ConfigMap("cm", "1"));
  ClientOptions options;
  options.token_reload_interval = std::chrono::milliseconds(0);
  auto client = Client::New(config, options);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Get(kinds::kConfigMap, "ns", "cm").ok());
  std::ofstream(token_path) << "second";
  ASSERT_TRUE((*client)->Get(kinds::kConfigMap, "ns", "cm").ok());
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("Authorization"), "Bearer first");
  EXPECT_EQ(reqs[1].Header("Authorization"), "Bearer second");
  std::filesystem::remove_all(dir);
}

TEST_F(ClientTest, NewRefusesBadServerAndBadPem) {
  Config bad = fake_.config();
  bad.server = "ftp://x";
  EXPECT_TRUE(IsInvalid(Client::New(bad).status()));
  Config pem = fake_.config();
  pem.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  auto c = Client::New(pem);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("TLS material"), std::string::npos) << c.status();
}

// ---- watch ----

class WatchTest : public ClientTest {
 protected:
  // Serves one streamed watch; the test gets the responder to write events.
  std::future<std::shared_ptr<HttpResponder>> ServeStream(int code = 200) {
    auto promise = std::make_shared<std::promise<std::shared_ptr<HttpResponder>>>();
    auto future = promise->get_future();
    fake_.On("GET", kCmList, [promise, code](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
      r->StartChunked(code, "application/json");
      promise->set_value(r);
    });
    return future;
  }
};

TEST_F(WatchTest, DeliversEventsSplitAcrossChunksAndBookmarks) {
  auto stream = ServeStream();
  auto client = NewClient();
  std::vector<WatchEvent> seen;
  std::thread writer([&] {
    auto r = stream.get();
    std::string added = FakeApiServer::EventLine("ADDED", ConfigMap("a", "11"));
    std::string modified = FakeApiServer::EventLine("MODIFIED", ConfigMap("a", "12"));
    std::string bookmark = FakeApiServer::EventLine(
        "BOOKMARK", {{"kind", "ConfigMap"}, {"metadata", {{"resourceVersion", "15"}}}});
    std::string deleted = FakeApiServer::EventLine("DELETED", ConfigMap("a", "16"));
    std::string all = added + modified + bookmark + deleted;
    // Cut anywhere: mid-line, mid-UTF-8, several lines in one chunk.
    r->WriteChunk(all.substr(0, 5));
    r->WriteChunk(all.substr(5, added.size()));
    r->WriteChunk(all.substr(5 + added.size(), 30));
    r->WriteChunk(all.substr(35 + added.size()));
    r->EndChunked();
  });
  Status s = client->Watch(kinds::kConfigMap, "ns",
                           {.label_selector = "app=x", .resource_version = "10", .timeout_seconds = 60},
                           [&](const WatchEvent& ev) {
                             seen.push_back(ev);
                             return true;
                           });
  writer.join();
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].type, WatchEventType::kAdded);
  EXPECT_EQ(seen[1].type, WatchEventType::kModified);
  EXPECT_EQ(ResourceVersion(seen[1].object), "12");
  EXPECT_EQ(seen[2].type, WatchEventType::kBookmark);
  EXPECT_EQ(ResourceVersion(seen[2].object), "15");
  EXPECT_EQ(seen[3].type, WatchEventType::kDeleted);
  auto q = fake_.Requests().at(0).QueryParams();
  EXPECT_EQ(q["watch"], "true");
  EXPECT_EQ(q["resourceVersion"], "10");
  EXPECT_EQ(q["allowWatchBookmarks"], "true");
  EXPECT_EQ(q["timeoutSeconds"], "60");
  EXPECT_EQ(q["labelSelector"], "app=x");
}

TEST_F(WatchTest, GoneAsHttpStatusIsDistinct) {
  fake_.On("GET", kCmList, [](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
    r->Send(410, "application/json",
            FakeApiServer::StatusBody(410, "Expired", "too old resource version: 5 (100)"));
  });
  auto client = NewClient();
  Status s = client->Watch(kinds::kConfigMap, "ns", {.resource_version = "5"},
                           [](const WatchEvent&) { return true; });
  EXPECT_TRUE(IsGone(s)) << s;
  EXPECT_NE(s.message().find("too old resource version"), std::string::npos);
}

TEST_F(WatchTest, GoneAsErrorEventIsDeliveredAndEndsTheWatch) {
  auto stream = ServeStream();
  auto client = NewClient();
  std::vector<WatchEvent> seen;
  std::thread writer([&] {
    auto r = stream.get();
    r->WriteChunk(FakeApiServer::EventLine("ADDED", ConfigMap("a", "11")));
    r->WriteChunk(FakeApiServer::EventLine(
        "ERROR",
        Json::parse(FakeApiServer::StatusBody(410, "Expired", "too old resource version: 5 (100)"))));
    // The stream stays open: the client must stop on the ERROR by itself.
  });
  Status s = client->Watch(kinds::kConfigMap, "ns", {.resource_version = "5"}, [&](const WatchEvent& ev) {
    seen.push_back(ev);
    return true;
  });
  writer.join();
  EXPECT_TRUE(IsGone(s)) << s;
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].type, WatchEventType::kError);
}

TEST_F(WatchTest, CancelFromAnotherThreadEndsABlockedWatch) {
  auto stream = ServeStream();
  auto client = NewClient();
  Cancellation cancel;
  std::promise<void> first_event;
  std::thread canceller([&] {
    auto r = stream.get();
    r->WriteChunk(FakeApiServer::EventLine("ADDED", ConfigMap("a", "11")));
    first_event.get_future().wait();
    cancel.Cancel();
  });
  int events = 0;
  auto t0 = Clock::now();
  Status s = client->Watch(
      kinds::kConfigMap, "ns", {.timeout_seconds = 300},
      [&](const WatchEvent&) {
        if (++events == 1) first_event.set_value();
        return true;
      },
      &cancel);
  canceller.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(events, 1);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
  // Cancelled before it starts: returns at once without a request.
  fake_.ClearRequests();
  EXPECT_TRUE(client
                  ->Watch(
                      kinds::kConfigMap, "ns", {}, [](const WatchEvent&) { return true; }, &cancel)
                  .ok());
  EXPECT_EQ(fake_.RequestCount(), 0u);
}

TEST_F(WatchTest, CallbackReturningFalseStopsTheWatch) {
  auto stream = ServeStream();
  auto client = NewClient();
  std::thread writer([&] {
    auto r = stream.get();
    r->WriteChunk(FakeApiServer::EventLine("ADDED", ConfigMap("a", "1")) +
                  FakeApiServer::EventLine("ADDED", ConfigMap("b", "2")));
  });
  int events = 0;
  Status s = client->Watch(kinds::kConfigMap, "ns", {}, [&](const WatchEvent&) {
    ++events;
    return false;
  });
  writer.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(events, 1);
}

TEST_F(WatchTest, StreamCutMidEventIsAnError) {
  auto stream = ServeStream();
  auto client = NewClient();
  std::thread writer([&] {
    auto r = stream.get();
    r->WriteChunk(FakeApiServer::EventLine("ADDED", ConfigMap("a", "1")) + "{\"type\":\"MODI");
    r->Abort();
  });
  int events = 0;
  Status s = client->Watch(kinds::kConfigMap, "ns", {}, [&](const WatchEvent&) {
    ++events;
    return true;
  });
  writer.join();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_EQ(events, 1);
}

TEST_F(WatchTest, GarbageInTheStreamIsCorruption) {
  auto stream = ServeStream();
  auto client = NewClient();
  std::thread writer([&] {
    auto r = stream.get();
    r->WriteChunk("this is not json\n");
  });
  Status s = client->Watch(kinds::kConfigMap, "ns", {}, [](const WatchEvent&) { return true; });
  writer.join();
  EXPECT_TRUE(s.IsCorruption()) << s;
}

}  // namespace
}  // namespace fmq::op::kube
