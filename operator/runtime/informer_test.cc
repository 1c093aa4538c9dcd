#include "operator/runtime/informer.h"

#include <deque>
#include <thread>

#include <gtest/gtest.h>

#include "operator/kube/object.h"
#include "operator/kube/testing/fake_apiserver.h"
#include "operator/runtime/testing/eventually.h"

namespace fmq::op::runtime {
namespace {

using kube::testing::FakeApiServer;
using net::HttpRequest;
using net::HttpResponder;
using runtime::testing::Eventually;
using std::chrono::milliseconds;

constexpr char kTopics[] = "/apis/ferrymq.io/v1alpha1/namespaces/ns/topics";

Json Topic(const std::string& name, const std::string& rv, const std::string& cluster = "prod") {
  return {{"apiVersion", "ferrymq.io/v1alpha1"},
          {"kind", "Topic"},
          {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}},
          {"spec", {{"clusterRef", {{"name", cluster}}}}}};
}

// Serves LIST from a scripted page set and hands every WATCH stream to the test.
class ScriptedServer {
 public:
  explicit ScriptedServer(FakeApiServer* fake, const std::string& path) {
    fake->On("GET", path, [this](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      auto q = req.QueryParams();
      if (q["watch"] == "true") {
        r->StartChunked(200, "application/json");
        MutexLock lock(&mu_);
        watch_rvs_.push_back(q["resourceVersion"]);
        streams_.push_back(std::move(r));
        cv_.SignalAll();
        return;
      }
      Json list;
      {
        MutexLock lock(&mu_);
        list = {{"kind", "TopicList"},
                {"apiVersion", "ferrymq.io/v1alpha1"},
                {"metadata", {{"resourceVersion", list_rv_}}},
                {"items", Json::array()}};
        size_t start = q["continue"].empty() ? 0 : std::stoul(q["continue"]);
        size_t limit = q["limit"].empty() ? items_.size() : std::stoul(q["limit"]);
        for (size_t i = start; i < items_.size() && i < start + limit; ++i)
          list["items"].push_back(items_[i]);
        if (start + limit < items_.size()) list["metadata"]["continue"] = std::to_string(start + limit);
        ++lists_;
      }
      r->Send(200, "application/json", list.dump());
    });
  }
  ~ScriptedServer() {
    MutexLock lock(&mu_);
    for (auto& s : streams_) s->Abort();
  }

  void SetList(std::vector<Json> items, std::string rv) {
    MutexLock lock(&mu_);
    items_ = std::move(items);
    list_rv_ = std::move(rv);
  }
  // Waits for the n-th watch (1-based) and returns its stream.
  std::shared_ptr<HttpResponder> Watch(size_t n) {
    MutexLock lock(&mu_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (streams_.size() < n && std::chrono::steady_clock::now() < deadline) cv_.WaitFor(milliseconds(50));
    return streams_.size() >= n ? streams_[n - 1] : nullptr;
  }
  std::string WatchRv(size_t n) {
    MutexLock lock(&mu_);
    return watch_rvs_.size() >= n ? watch_rvs_[n - 1] : "<none>";
  }
  int lists() {
    MutexLock lock(&mu_);
    return lists_;
  }

 private:
  Mutex mu_;
  CondVar cv_{&mu_};
  std::vector<Json> items_ FMQ_GUARDED_BY(mu_);
  std::string list_rv_ FMQ_GUARDED_BY(mu_) = "1";
  std::vector<std::shared_ptr<HttpResponder>> streams_ FMQ_GUARDED_BY(mu_);
  std::vector<std::string> watch_rvs_ FMQ_GUARDED_BY(mu_);
  int lists_ FMQ_GUARDED_BY(mu_) = 0;
};

// Records handler calls.
struct Recorder {
  Mutex mu;
  std::vector<std::string> calls FMQ_GUARDED_BY(mu);
  EventHandler Handler() {
    return {
        [this](const Json& o) { Add("add " + kube::Name(o) + "@" + kube::ResourceVersion(o)); },
        [this](const Json& a, const Json& b) {
          Add("update " + kube::Name(b) + "@" + kube::ResourceVersion(a) + "->" + kube::ResourceVersion(b));
        },
        [this](const Json& o) { Add("delete " + kube::Name(o)); }};
  }
  void Add(std::string s) {
    MutexLock lock(&mu);
    calls.push_back(std::move(s));
  }
  std::vector<std::string> Calls() {
    MutexLock lock(&mu);
    return calls;
  }
  size_t Size() {
    MutexLock lock(&mu);
    return calls.size();
  }
};

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = kube::Client::New(fake_.config());
    ASSERT_TRUE(c.ok());
    client_ = std::move(c).value();
  }
  FakeApiServer fake_;
  std::unique_ptr<kube::Client> client_;
};

TEST_F(InformerTest, ListsWithPagesThenWatchesFromTheListVersion) {
  ScriptedServer server(&fake_, kTopics);
  server.SetList({Topic("a", "5"), Topic("b", "6"), Topic("c", "7", "other")}, "10");
  Recorder rec;
  Informer inf(client_.get(), kube::kinds::kFerryTopic, {.namespaces = {"ns"}, .page_size = 2});
  inf.AddIndex("clusterRef", IndexByClusterRef);
  inf.AddEventHandler(rec.Handler());
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(10'000)));
  EXPECT_EQ(inf.Size(), 3u);
  EXPECT_EQ(server.lists(), 2);  // two pages
  EXPECT_EQ(inf.ByIndex("clusterRef", "ns/prod").size(), 2u);
  EXPECT_EQ(inf.ByIndex(kNamespaceIndex, "ns").size(), 3u);
  ASSERT_NE(server.Watch(1), nullptr);
  EXPECT_EQ(server.WatchRv(1), "10");

  auto stream = server.Watch(1);
  stream->WriteChunk(FakeApiServer::EventLine("MODIFIED", Topic("a", "11", "other")));
  stream->WriteChunk(FakeApiServer::EventLine("ADDED", Topic("d", "12")));
  stream->WriteChunk(FakeApiServer::EventLine("DELETED", Topic("b", "13")));
  stream->WriteChunk(FakeApiServer::EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "20"}}}}));
  ASSERT_TRUE(Eventually([&] { return inf.LastResourceVersion("ns") == "20"; }));
  EXPECT_EQ(inf.ListKeys(), (std::vector<std::string>{"ns/a", "ns/c", "ns/d"}));
  EXPECT_EQ(kube::ResourceVersion(*inf.Get("ns", "a")), "11");
  EXPECT_EQ(inf.ByIndex("clusterRef", "ns/prod").size(), 1u);  // a moved to "other", b deleted, d added
  EXPECT_EQ(inf.ByIndex("clusterRef", "ns/other").size(), 2u);
  auto calls = rec.Calls();
  ASSERT_EQ(calls.size(), 6u);
  EXPECT_EQ(calls[3], "update a@5->11");
  EXPECT_EQ(calls[4], "add d@12");
  EXPECT_EQ(calls[5], "delete b");

  // The apiserver ends the watch (timeoutSeconds): the informer watches again from the bookmark.
  stream->EndChunked();
  ASSERT_NE(server.Watch(2), nullptr);
  EXPECT_EQ(server.WatchRv(2), "20");
  EXPECT_EQ(server.lists(), 2);  // no re-list
  inf.Stop();
}

TEST_F(InformerTest, GoneReListsAndReconcilesTheCacheWithoutReusingTheStaleVersion) {
  ScriptedServer server(&fake_, kTopics);
  server.SetList({Topic("a", "5"), Topic("b", "6")}, "10");
  Recorder rec;
  Informer inf(client_.get(), kube::kinds::kFerryTopic, {.namespaces = {"ns"}});
  inf.AddEventHandler(rec.Handler());
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(10'000)));
  auto stream = server.Watch(1);
  ASSERT_NE(stream, nullptr);

  // While the watch was down, b was deleted, a changed and c appeared; then the watch reports 410.
  server.SetList({Topic("a", "30"), Topic("c", "31")}, "40");
  stream->WriteChunk(FakeApiServer::EventLine(
      "ERROR", Json::parse(FakeApiServer::StatusBody(410, "Expired", "too old resource version: 10 (35)"))));
  ASSERT_NE(server.Watch(2), nullptr);
  EXPECT_EQ(server.WatchRv(2), "40");  // from the new list, never "10" again
  EXPECT_EQ(inf.relist_after_gone_count(), 1u);
  EXPECT_EQ(inf.list_count(), 2u);
  EXPECT_EQ(inf.ListKeys(), (std::vector<std::string>{"ns/a", "ns/c"}));
  auto calls = rec.Calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[2], "delete b");
  EXPECT_TRUE((calls[3] == "update a@5->30" && calls[4] == "add c@31") ||
              (calls[4] == "update a@5->30" && calls[3] == "add c@31"))
      << calls[3] << " " << calls[4];
  inf.Stop();
}

TEST_F(InformerTest, GoneAsAnHttpAnswerAlsoReLists) {
  ScriptedServer server(&fake_, kTopics);
  server.SetList({Topic("a", "5")}, "10");
  Informer inf(client_.get(), kube::kinds::kFerryTopic,
               {.namespaces = {"ns"}, .backoff_initial = milliseconds(1)});
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(10'000)));
  ASSERT_NE(server.Watch(1), nullptr);
  // Make the next watch answer 410 directly, then restart the watch from an old version.
  fake_.On("GET", kTopics, [&](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
    if (req.QueryParams()["watch"] == "true" && req.QueryParams()["resourceVersion"] == "1") {
      r->Send(410, "application/json",
              FakeApiServer::StatusBody(410, "Expired", "too old resource version: 1 (10)"));
      return;
    }
    r->Send(
        200, "application/json",
        Json{{"metadata", {{"resourceVersion", "50"}}}, {"items", Json::array({Topic("a", "5")})}}.dump());
  });
  inf.TEST_RestartWatchFrom("ns", "1");
  ASSERT_TRUE(Eventually(
      [&] { return inf.relist_after_gone_count() == 1 && inf.LastResourceVersion("ns") == "50"; }));
  inf.Stop();
}

TEST_F(InformerTest, OtherWatchErrorsBackOffAndResumeFromTheLastVersion) {
  ScriptedServer server(&fake_, kTopics);
  server.SetList({Topic("a", "5")}, "10");
  Informer inf(client_.get(), kube::kinds::kFerryTopic,
               {.namespaces = {"ns"}, .backoff_initial = milliseconds(10), .backoff_max = milliseconds(50)});
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(10'000)));
  auto stream = server.Watch(1);
  ASSERT_NE(stream, nullptr);
  stream->WriteChunk(FakeApiServer::EventLine("MODIFIED", Topic("a", "15")));
  ASSERT_TRUE(Eventually([&] { return inf.LastResourceVersion("ns") == "15"; }));
  stream->Abort();  // connection drops
  ASSERT_NE(server.Watch(2), nullptr);
  EXPECT_EQ(server.WatchRv(2), "15");
  EXPECT_EQ(server.lists(), 1);
  inf.Stop();
}

TEST_F(InformerTest, SeveralNamespacesSyncSeparatelyAndResyncReplaysTheCache) {
  for (const char* ns : {"ns1", "ns2"}) {
    std::string path = std::string("/apis/ferrymq.io/v1alpha1/namespaces/") + ns + "/topics";
    std::string name = std::string("t-") + ns;
    fake_.On("GET", path, [ns, name](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      if (req.QueryParams()["watch"] == "true") {
        r->StartChunked(200, "application/json");  // stays open until the informer stops
        return;
      }
      Json item = {{"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", "3"}}}};
      r->Send(200, "application/json",
              Json{{"metadata", {{"resourceVersion", "9"}}}, {"items", Json::array({item})}}.dump());
    });
  }
  Recorder rec;
  Informer inf(client_.get(), kube::kinds::kFerryTopic, {.namespaces = {"ns2", "ns1"}});
  inf.AddEventHandler(rec.Handler());
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(inf.WaitForSync(milliseconds(10'000)));
  EXPECT_EQ(inf.ListKeys(), (std::vector<std::string>{"ns1/t-ns1", "ns2/t-ns2"}));
  EXPECT_EQ((*inf.Get("ns1", "t-ns1"))["kind"], "Topic");  // type meta filled in
  size_t before = rec.Size();
  inf.Resync();
  auto calls = rec.Calls();
  ASSERT_EQ(calls.size(), before + 2);
  EXPECT_EQ(calls.back().rfind("update t-ns", 0), 0u);
  inf.Stop();
}

TEST_F(InformerTest, ListFailuresAreRetriedUntilTheyWork) {
  std::atomic<int> calls{0};
  fake_.On("GET", kTopics, [&](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
    if (req.QueryParams()["watch"] == "true") {
      r->StartChunked(200, "application/json");
      return;
    }
    if (calls.fetch_add(1) < 2) {
      r->Send(403, "application/json", FakeApiServer::StatusBody(403, "Forbidden", "no"));
      return;
    }
    r->Send(200, "application/json",
            Json{{"metadata", {{"resourceVersion", "9"}}}, {"items", Json::array()}}.dump());
  });
  Informer inf(client_.get(), kube::kinds::kFerryTopic,
               {.namespaces = {"ns"}, .backoff_initial = milliseconds(5), .backoff_max = milliseconds(20)});
  ASSERT_TRUE(inf.Start().ok());
  EXPECT_TRUE(inf.WaitForSync(milliseconds(10'000)));
  EXPECT_EQ(calls.load(), 3);
  inf.Stop();
}

TEST(IndexTest, OwnerAndClusterRefIndexes) {
  Json pod = {{"metadata",
               {{"name", "p"},
                {"namespace", "n"},
                {"ownerReferences",
                 {{{"kind", "StatefulSet"}, {"name", "prod-broker-0"}, {"uid", "u1"}, {"controller", true}},
                  {{"kind", "Cluster"}, {"name", "prod"}, {"uid", "u2"}}}}}}};
  EXPECT_EQ(IndexByOwnerUid(pod), (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(IndexByControllerOwner("StatefulSet")(pod), (std::vector<std::string>{"n/prod-broker-0"}));
  EXPECT_TRUE(IndexByControllerOwner("Cluster")(pod).empty());  // not the controller
  Json topic = {{"metadata", {{"name", "t"}, {"namespace", "a"}}},
                {"spec", {{"clusterRef", {{"name", "prod"}, {"namespace", "b"}}}}}};
  EXPECT_EQ(IndexByClusterRef(topic), (std::vector<std::string>{"b/prod"}));
  topic["spec"]["clusterRef"].erase("namespace");
  EXPECT_EQ(IndexByClusterRef(topic), (std::vector<std::string>{"a/prod"}));
  EXPECT_TRUE(IndexByClusterRef(Json::object()).empty());
}

}  // namespace
}  // namespace fmq::op::runtime
