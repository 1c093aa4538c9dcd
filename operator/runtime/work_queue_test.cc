#include "operator/runtime/work_queue.h"

#include <atomic>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace fmq::op::runtime {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// A limiter with fixed answers, to test the queue's use of it.
class FixedLimiter : public RateLimiter {
 public:
  explicit FixedLimiter(Duration d) : d_(d) {}
  Duration When(const std::string& item) override {
    ++counts_[item];
    return d_;
  }
  void Forget(const std::string& item) override { counts_.erase(item); }
  int NumRequeues(const std::string& item) override { return counts_.count(item) ? counts_[item] : 0; }

 private:
  Duration d_;
  std::map<std::string, int> counts_;
};

TEST(WorkQueueTest, DedupesKeysAddedBeforeAWorkerTakesThem) {
  WorkQueue q("t");
  q.Add("a");
  q.Add("b");
  q.Add("a");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AKeyBeingProcessedIsNotHandedOutAgainUntilDone) {
  WorkQueue q("t");
  q.Add("a");
  auto first = q.Get();
  ASSERT_EQ(first, "a");
  EXPECT_TRUE(q.IsProcessing("a"));
  q.Add("a");  // dirty while processing
  q.Add("a");  // coalesced
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.GetFor(milliseconds(20)), std::nullopt);  // not handed to a second worker
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);  // exactly one re-run
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, ConcurrentWorkersNeverProcessTheSameKeyAtOnce) {
  WorkQueue q("t");
  std::atomic<bool> overlap{false};
  std::mutex mu;
  std::set<std::string> running;
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        {
          std::lock_guard<std::mutex> l(mu);
          if (!running.insert(*key).second) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> l(mu);
          running.erase(*key);
        }
        processed++;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 5000; ++i) q.Add("k" + std::to_string(i % 7));
  // Wait until everything added was processed, then stop.
  auto deadline = SteadyClock::now() + std::chrono::seconds(20);
  while ((q.Len() > 0 || processed.load() == 0) && SteadyClock::now() < deadline) std::this_thread::yield();
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GT(processed.load(), 0);
  EXPECT_LE(processed.load(), 5000);
}

TEST(WorkQueueTest, AddAfterWaitsForTheDelayAndKeepsTheEarliest) {
  WorkQueue q("t");
  auto t0 = SteadyClock::now();
  q.AddAfter("late", milliseconds(150));
  q.AddAfter("late", milliseconds(100000));  // a later due time does not postpone it
  q.AddAfter("now", milliseconds(0));
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.DelayedLen(), 1u);
  EXPECT_EQ(q.Get(), "now");
  EXPECT_EQ(q.Get(), "late");  // blocks until due
  EXPECT_GE(SteadyClock::now() - t0, milliseconds(150));
  EXPECT_EQ(q.DelayedLen(), 0u);
}

TEST(WorkQueueTest, AnEarlierDelayWakesAWaitingWorker) {
  WorkQueue q("t");
  q.AddAfter("x", std::chrono::hours(1));
  auto got = std::async(std::launch::async, [&] { return q.Get(); });
  // Give the worker a head start into its long wait; correctness does not depend on it.
  EXPECT_EQ(got.wait_for(milliseconds(20)), std::future_status::timeout);
  auto t0 = SteadyClock::now();
  q.AddAfter("x", milliseconds(30));
  EXPECT_EQ(got.get(), "x");
  EXPECT_LT(SteadyClock::now() - t0, std::chrono::seconds(5));
}

TEST(WorkQueueTest, RateLimitedAddsUseTheLimiterAndForgetResetsIt) {
  WorkQueue q("t", std::make_unique<FixedLimiter>(milliseconds(50)));
  auto t0 = SteadyClock::now();
  q.AddRateLimited("a");
  q.AddRateLimited("a");
  EXPECT_EQ(q.NumRequeues("a"), 2);
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_GE(SteadyClock::now() - t0, milliseconds(50));
  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
}

TEST(WorkQueueTest, ShutDownReleasesBlockedWorkersAndIgnoresAdds) {
  WorkQueue q("t");
  auto got = std::async(std::launch::async, [&] { return q.Get(); });
  q.ShutDown();
  EXPECT_EQ(got.get(), std::nullopt);
  q.Add("a");
  q.AddAfter("b", milliseconds(1));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_TRUE(q.ShuttingDown());
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueueTest, ExportsDepthAddsRetriesAndLatencies) {
  MetricRegistry registry;
  WorkQueue q("topic", std::make_unique<FixedLimiter>(Duration(0)), &registry);
  q.Add("a");
  q.Add("b");
  q.Add("a");
  std::string text = registry.Render();
  EXPECT_NE(text.find("ferrymq_operator_workqueue_depth{name=\"topic\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("ferrymq_operator_workqueue_adds_total{name=\"topic\"} 2"), std::string::npos) << text;
  auto k = q.Get();
  q.Done(*k);
  q.AddRateLimited("c");
  text = registry.Render();
  EXPECT_NE(text.find("ferrymq_operator_workqueue_retries_total{name=\"topic\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ferrymq_operator_workqueue_queue_duration_seconds_count{name=\"topic\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferrymq_operator_workqueue_work_duration_seconds_count{name=\"topic\"} 1"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace fmq::op::runtime
