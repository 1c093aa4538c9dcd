#include "operator/runtime/leader_election.h"

#include <atomic>
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

constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/ops/leases";
constexpr char kLease[] = "/apis/coordination.k8s.io/v1/namespaces/ops/leases/op";

// A Lease with the apiserver's optimistic concurrency: PUT must carry the current resourceVersion.
class FakeLeaseStore {
 public:
  explicit FakeLeaseStore(FakeApiServer* fake) {
    fake->On("GET", kLease, [this](const HttpRequest&, std::shared_ptr<HttpResponder> r) {
      MutexLock lock(&mu_);
      if (lease_.is_null()) {
        r->Send(404, "application/json",
                FakeApiServer::StatusBody(404, "NotFound", "leases \"op\" not found"));
      } else {
        r->Send(200, "application/json", lease_.dump());
      }
    });
    fake->On("POST", kLeases, [this](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      MutexLock lock(&mu_);
      if (!lease_.is_null()) {
        r->Send(409, "application/json", FakeApiServer::StatusBody(409, "AlreadyExists", "exists"));
        return;
      }
      lease_ = kube::Json::parse(req.body);
      lease_["metadata"]["resourceVersion"] = std::to_string(++rv_);
      r->Send(201, "application/json", lease_.dump());
    });
    fake->On("PUT", kLease, [this](const HttpRequest& req, std::shared_ptr<HttpResponder> r) {
      MutexLock lock(&mu_);
      if (fail_writes_) {
        r->Send(503, "application/json", FakeApiServer::StatusBody(503, "ServiceUnavailable", "etcd down"));
        return;
      }
      auto body = kube::Json::parse(req.body);
      if (kube::ResourceVersion(body) != kube::ResourceVersion(lease_)) {
        r->Send(409, "application/json",
                FakeApiServer::StatusBody(409, "Conflict", "the object has been modified"));
        return;
      }
      lease_ = body;
      lease_["metadata"]["resourceVersion"] = std::to_string(++rv_);
      r->Send(200, "application/json", lease_.dump());
    });
  }
  kube::Json Lease() {
    MutexLock lock(&mu_);
    return lease_;
  }
  void FailWrites(bool fail) {
    MutexLock lock(&mu_);
    fail_writes_ = fail;
  }

 private:
  Mutex mu_;
  kube::Json lease_ FMQ_GUARDED_BY(mu_);
  int rv_ FMQ_GUARDED_BY(mu_) = 0;
  bool fail_writes_ FMQ_GUARDED_BY(mu_) = false;
};

LeaderElectionConfig Fast(const std::string& id, MetricRegistry* metrics = nullptr) {
  return {.lease_namespace = "ops",
          .lease_name = "op",
          .identity = id,
          .lease_duration = milliseconds(1000),
          .renew_deadline = milliseconds(600),
          .retry_period = milliseconds(100),
          .metrics = metrics};
}

struct Flags {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  LeaderCallbacks Callbacks() {
    return {[this] { started++; }, [this] { stopped++; }, nullptr};
  }
};

TEST(LeaderElectionTest, OneLeadsAndTheOtherTakesOverWhenItReleases) {
  FakeApiServer fake;
  FakeLeaseStore store(&fake);
  MetricRegistry metrics;
  Flags fa, fb;
  LeaderElector a(fake.config(), Fast("a", &metrics), fa.Callbacks());
  LeaderElector b(fake.config(), Fast("b"), fb.Callbacks());
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  ASSERT_TRUE(b.Start().ok());
  ASSERT_TRUE(Eventually([&] { return b.CurrentLeader() == "a"; }));
  EXPECT_FALSE(b.IsLeader());
  EXPECT_EQ(fa.started.load(), 1);
  EXPECT_NE(metrics.Render().find("ferrymq_operator_leader{lease=\"ops/op\"} 1"), std::string::npos);
  auto lease = store.Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0);
  EXPECT_TRUE(kube::ParseTimeMicros(lease["spec"]["renewTime"].get<std::string>()).ok());

  auto t0 = std::chrono::steady_clock::now();
  a.Stop();  // releases
  EXPECT_EQ(fa.stopped.load(), 1);
  EXPECT_FALSE(a.IsLeader());
  EXPECT_NE(metrics.Render().find("ferrymq_operator_leader{lease=\"ops/op\"} 0"), std::string::npos);
  ASSERT_TRUE(Eventually([&] { return b.IsLeader(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));  // within the lease time
  lease = store.Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);  // a new holder counts; the release does not
  b.Stop();
  EXPECT_EQ(store.Lease()["spec"]["holderIdentity"], "");
}

TEST(LeaderElectionTest, AHolderThatVanishesIsReplacedAfterTheLeaseExpires) {
  FakeApiServer fake;
  FakeLeaseStore store(&fake);
  Flags fa, fb;
  auto ca = Fast("a");
  ca.release_on_stop = false;  // like a crash: the Lease stays with "a"
  LeaderElector a(fake.config(), ca, fa.Callbacks());
  LeaderElector b(fake.config(), Fast("b"), fb.Callbacks());
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  ASSERT_TRUE(b.Start().ok());
  ASSERT_TRUE(Eventually([&] { return b.CurrentLeader() == "a"; }));
  auto t0 = std::chrono::steady_clock::now();
  a.Stop();
  ASSERT_TRUE(Eventually([&] { return b.IsLeader(); }, milliseconds(5000)));
  // b waited for a's lease to run out on its own clock (a renewed at most ~0.2 s before stopping).
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(700));
  EXPECT_EQ(store.Lease()["spec"]["holderIdentity"], "b");
  b.Stop();
}

TEST(LeaderElectionTest, ALeaderThatCannotRenewGivesUpAfterTheRenewDeadline) {
  FakeApiServer fake;
  FakeLeaseStore store(&fake);
  Flags fa;
  LeaderElector a(fake.config(), Fast("a"), fa.Callbacks());
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  EXPECT_TRUE(a.Healthy());
  store.FailWrites(true);
  ASSERT_TRUE(Eventually([&] { return fa.stopped.load() == 1; }, milliseconds(5000)));
  EXPECT_FALSE(a.IsLeader());
  EXPECT_FALSE(a.Healthy());
  a.Stop();
  EXPECT_EQ(fa.stopped.load(), 1);  // once
}

TEST(LeaderElectionTest, RefusesInconsistentTimings) {
  FakeApiServer fake;
  auto c = Fast("a");
  c.renew_deadline = c.lease_duration;
  LeaderElector e(fake.config(), c, {});
  EXPECT_EQ(e.Start().code(), StatusCode::kInvalidArgument);
  auto d = Fast("");
  LeaderElector e2(fake.config(), d, {});
  EXPECT_EQ(e2.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fmq::op::runtime
