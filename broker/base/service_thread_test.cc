#include "broker/base/service_thread.h"

#include <gtest/gtest.h>

#include <atomic>

namespace fmq {
namespace {

class CountingThread : public ServiceThread {
 public:
  CountingThread() : ServiceThread("counting") {}
  std::atomic<int> rounds{0};
  Mutex mu;
  CondVar cv{&mu};

 protected:
  void Run() override {
    while (!IsStopped()) {
      WaitForRunning(std::chrono::hours(1));
      rounds.fetch_add(1);
      MutexLock l(&mu);
      cv.SignalAll();
    }
  }
};

TEST(ServiceThreadTest, WakeupEndsTheWaitAndStopJoins) {
  CountingThread t;
  ASSERT_TRUE(t.Start().ok());
  t.Wakeup();
  {
    MutexLock l(&t.mu);
    while (t.rounds.load() < 1) t.cv.WaitFor(std::chrono::seconds(10));
  }
  EXPECT_GE(t.rounds.load(), 1);
  t.Stop();
  t.Stop();  // idempotent
  EXPECT_TRUE(t.IsStopped());
}

TEST(ServiceThreadTest, StartTwiceIsAnError) {
  CountingThread t;
  ASSERT_TRUE(t.Start().ok());
  EXPECT_FALSE(t.Start().ok());
  t.Stop();
}

}  // namespace
}  // namespace fmq
