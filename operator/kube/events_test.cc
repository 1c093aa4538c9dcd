#include "operator/kube/events.h"

#include <gtest/gtest.h>

#include "operator/kube/object.h"
#include "operator/kube/testing/fake_apiserver.h"

namespace fmq::op::kube {
namespace {

using net::HttpRequest;
using net::HttpResponder;
using testing::FakeApiServer;

constexpr char kEvents[] = "/api/v1/namespaces/ns/events";

Json Topic() {
  return {{"apiVersion", "ferrymq.io/v1alpha1"},
          {"kind", "Topic"},
          {"metadata", {{"name", "orders"}, {"namespace", "ns"}, {"uid", "uid-1"}}}};
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.On("POST", kEvents, [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      r->Send(201, "application/json", req.body);
    });
    auto c = Client::New(fake_.config());
    ASSERT_TRUE(c.ok());
    client_ = std::move(c).value();
  }
  FakeApiServer fake_;
  std::unique_ptr<Client> client_;
  ManualClock clock_;
};

TEST_F(EventsTest, FirstOccurrenceCreatesAnEventWithTheInvolvedObject) {
  EventRecorder rec(client_.get(), {.reporting_instance = "op-0", .clock = &clock_});
  ASSERT_TRUE(rec.Record(Topic(), EventType::kWarning, "BrokerError", "broker refused", "Reconcile").ok());
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  Json ev = Json::parse(reqs[0].body);
  EXPECT_EQ(ev["involvedObject"]["kind"], "Topic");
  EXPECT_EQ(ev["involvedObject"]["name"], "orders");
  EXPECT_EQ(ev["involvedObject"]["uid"], "uid-1");
  EXPECT_EQ(ev["involvedObject"]["apiVersion"], "ferrymq.io/v1alpha1");
  EXPECT_EQ(ev["type"], "Warning");
  EXPECT_EQ(ev["reason"], "BrokerError");
  EXPECT_EQ(ev["message"], "broker refused");
  EXPECT_EQ(ev["count"], 1);
  EXPECT_EQ(ev["reportingComponent"], "ferrymq-operator");
  EXPECT_EQ(ev["source"]["component"], "ferrymq-operator");
  EXPECT_EQ(ev["reportingInstance"], "op-0");
  EXPECT_EQ(ev["action"], "Reconcile");
  EXPECT_EQ(ev["metadata"]["namespace"], "ns");
  EXPECT_EQ(ev["firstTimestamp"], FormatTime(clock_.NowMillis()));
  EXPECT_EQ(ev["metadata"]["name"].get<std::string>().rfind("orders.", 0), 0u);
}

TEST_F(EventsTest, RepeatsBumpCountOnTheSameEvent) {
  std::string name;
  EventRecorder rec(client_.get(), {.clock = &clock_});
  ASSERT_TRUE(rec.Record(Topic(), EventType::kNormal, "Synced", "topic synced").ok());
  name = Json::parse(fake_.Requests()[0].body)["metadata"]["name"];
  fake_.On("PATCH", std::string(kEvents) + "/" + name,
           [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
             r->Send(200, "application/json", req.body);
           });
  clock_.AdvanceMillis(5000);
  ASSERT_TRUE(rec.Record(Topic(), EventType::kNormal, "Synced", "topic synced").ok());
  ASSERT_TRUE(rec.Record(Topic(), EventType::kNormal, "Synced", "topic synced").ok());
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(reqs[1].Header("Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(Json::parse(reqs[1].body)["count"], 2);
  EXPECT_EQ(Json::parse(reqs[1].body)["lastTimestamp"], FormatTime(clock_.NowMillis()));
  EXPECT_EQ(Json::parse(reqs[2].body)["count"], 3);

  // Another message is another Event.
  ASSERT_TRUE(rec.Record(Topic(), EventType::kNormal, "Synced", "topic synced again").ok());
  EXPECT_EQ(fake_.Requests().back().method, "POST");
}

TEST_F(EventsTest, AnExpiredEventIsCreatedAgain) {
  EventRecorder rec(client_.get(), {.clock = &clock_});
  ASSERT_TRUE(rec.Record(Topic(), EventType::kNormal, "Synced", "s").ok());
  // No PATCH handler: the fake answers 404, as the apiserver does for an expired Event.
  ASSERT_TRUE(rec.Record(Topic(), EventType::kNormal, "Synced", "s").ok());
  auto reqs = fake_.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(reqs[2].method, "POST");
  EXPECT_EQ(Json::parse(reqs[2].body)["count"], 1);
}

TEST_F(EventsTest, ClusterScopedObjectsGetEventsInDefault) {
  fake_.On("POST", "/api/v1/namespaces/default/events",
           [](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
             r->Send(201, "application/json", req.body);
           });
  EventRecorder rec(client_.get(), {.clock = &clock_});
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}};
  ASSERT_TRUE(rec.Record(node, EventType::kNormal, "Seen", "x").ok());
  EXPECT_EQ(fake_.Requests().back().path, "/api/v1/namespaces/default/events");
  EXPECT_FALSE(rec.Record(Json::object(), EventType::kNormal, "Seen", "x").ok());
}

}  // namespace
}  // namespace fmq::op::kube
