#include "operator/runtime/controller.h"
#include "operator/runtime/testing/eventually.h"

#include <atomic>
#include <future>
#include <map>
#include <thread>

#include <gtest/gtest.h>

namespace fmq::op::runtime {
namespace {

using runtime::testing::Eventually;
using std::chrono::milliseconds;

std::unique_ptr<RateLimiter> FastLimiter() {
  return std::make_unique<ItemExponentialRateLimiter>(milliseconds(1), milliseconds(10));
}

TEST(ControllerTest, SuccessErrorAndRequeueAfterFollowTheRules) {
  MetricRegistry registry;
  Mutex mu;
  std::map<std::string, int> runs;
  Controller c({.name = "topic", .workers = 2, .metrics = &registry, .rate_limiter = FastLimiter()},
               [&](const std::string& key) {
                 int n;
                 {
                   MutexLock lock(&mu);
                   n = ++runs[key];
                 }
                 if (key == "ns/flaky" && n < 3)
                   return ReconcileResult::Error(Status::Unavailable("broker down"));
                 if (key == "ns/poll" && n < 2) return ReconcileResult::RequeueAfter(milliseconds(20));
                 return ReconcileResult::Done();
               });
  ASSERT_TRUE(c.Start().ok());
  c.Enqueue("ns/ok");
  c.Enqueue("ns/flaky");
  c.Enqueue("ns/poll");
  auto count = [&](const std::string& k) {
    MutexLock lock(&mu);
    return runs[k];
  };
  ASSERT_TRUE(
      Eventually([&] { return count("ns/flaky") == 3 && count("ns/poll") == 2 && count("ns/ok") == 1; }));
  ASSERT_TRUE(Eventually([&] { return c.queue().Len() == 0 && c.queue().DelayedLen() == 0; }));
  EXPECT_EQ(c.queue().NumRequeues("ns/flaky"), 0);  // forgotten after success
  c.Stop();
  std::string text = registry.Render();
  EXPECT_NE(text.find("ferrymq_operator_reconcile_total{controller=\"topic\",result=\"error\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferrymq_operator_reconcile_total{controller=\"topic\",result=\"requeue_after\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferrymq_operator_reconcile_total{controller=\"topic\",result=\"success\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferrymq_operator_reconcile_duration_seconds_count{controller=\"topic\"} 6"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferrymq_operator_workqueue_depth{name=\"topic\"}"), std::string::npos);
}

TEST(ControllerTest, InProgressGaugeExistsOnlyWhileReconciling) {
  MetricRegistry registry;
  std::atomic<bool> release{false};
  std::atomic<bool> inside{false};
  Controller c({.name = "cluster", .workers = 1, .metrics = &registry}, [&](const std::string&) {
    inside = true;
    while (!release.load()) std::this_thread::yield();
    return ReconcileResult::Done();
  });
  ASSERT_TRUE(c.Start().ok());
  c.Enqueue("ns/prod");
  ASSERT_TRUE(Eventually([&] { return inside.load(); }));
  EXPECT_NE(registry.Render().find("in_progress_start_time_seconds{controller=\"cluster\",namespace=\"ns\","
                                   "name=\"prod\"}"),
            std::string::npos);
  release = true;
  ASSERT_TRUE(Eventually([&] { return registry.Render().find("namespace=\"ns\"") == std::string::npos; }));
  c.Stop();
}

TEST(ControllerTest, AThrowingReconcilerCountsAsAnErrorAndTheWorkerSurvives) {
  std::atomic<int> runs{0};
  Controller c({.name = "x", .workers = 1, .rate_limiter = FastLimiter()},
               [&](const std::string&) -> ReconcileResult {
                 if (runs.fetch_add(1) == 0) throw std::runtime_error("boom");
                 return ReconcileResult::Done();
               });
  ASSERT_TRUE(c.Start().ok());
  c.Enqueue("a");
  ASSERT_TRUE(Eventually([&] { return runs.load() == 2; }));
  c.Stop();
}

TEST(ControllerTest, HandlersEnqueueObjectsOwnersAndMappedKeys) {
  Controller c({.name = "x"}, [](const std::string&) { return ReconcileResult::Done(); });
  Json sts = {{"metadata",
               {{"name", "prod-broker-0"},
                {"namespace", "ns"},
                {"ownerReferences", {{{"kind", "Cluster"}, {"name", "prod"}, {"controller", true}}}}}}};
  c.EnqueueObjectHandler().on_add(sts);
  c.EnqueueOwnerHandler("Cluster").on_update(sts, sts);
  c.EnqueueMappedHandler([](const Json&) {
     return std::vector<std::string>{"ns/t1", "ns/t2"};
   }).on_delete(sts);
  std::vector<std::string> keys;
  while (auto k = c.queue().GetFor(milliseconds(0))) keys.push_back(*k);
  EXPECT_EQ(keys, (std::vector<std::string>{"ns/prod-broker-0", "ns/prod", "ns/t1", "ns/t2"}));
}

TEST(ControllerTest, StopWaitsForRunningReconcilesAndDropsQueuedKeys) {
  std::atomic<int> runs{0};
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  Controller c({.name = "x", .workers = 1}, [&](const std::string&) {
    runs++;
    inside = true;
    while (!release.load()) std::this_thread::yield();  // a slow reconcile in progress at Stop()
    finished = true;
    return ReconcileResult::Done();
  });
  ASSERT_TRUE(c.Start().ok());
  c.Enqueue("a");
  ASSERT_TRUE(Eventually([&] { return inside.load(); }));
  c.Enqueue("b");
  auto stopping = std::async(std::launch::async, [&] { c.Stop(); });
  ASSERT_TRUE(Eventually([&] { return c.queue().ShuttingDown(); }));
  EXPECT_EQ(stopping.wait_for(milliseconds(20)), std::future_status::timeout);  // still waiting for "a"
  release = true;
  stopping.get();
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(runs.load(), 1);  // "b" was dropped
}

}  // namespace
}  // namespace fmq::op::runtime
