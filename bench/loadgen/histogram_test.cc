#include "bench/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

namespace fmq::bench {
namespace {

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.Percentile(50), 50);
  EXPECT_EQ(h.Percentile(99), 99);
  EXPECT_EQ(h.Percentile(99.9), 100);
  EXPECT_EQ(h.Percentile(100), 100);
  EXPECT_EQ(h.max(), 100);
}

TEST(HistogramTest, BucketsCoverEveryValueInOrder) {
  size_t last = 0;
  for (int64_t v = 0; v < (int64_t{1} << 20); v += 1 + v / 97) {
    const size_t i = BucketIndex(v);
    ASSERT_GE(i, last) << v;
    ASSERT_LT(i, kBucketCount);
    ASSERT_GE(BucketHighestValue(i), v) << v;
    if (i > 0) {
      ASSERT_LT(BucketHighestValue(i - 1), v) << v;
    }
    last = i;
  }
  EXPECT_EQ(BucketIndex(int64_t{1} << 50), kBucketCount - 1);  // clamped
  EXPECT_EQ(BucketIndex(-5), 0u);
}

TEST(HistogramTest, LargePercentilesAreWithinTheRelativePrecision) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);  // microseconds, a long tail
  std::vector<int64_t> values;
  Histogram h;
  for (int i = 0; i < 200'000; ++i) {
    int64_t v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const int64_t exact = values[static_cast<size_t>(std::ceil(p / 100 * values.size())) - 1];
    const int64_t got = h.Percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(got, exact + exact / 64 + 1) << p;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.Percentile(100), values.back());
}

TEST(HistogramTest, MergeAddsCountsAndKeepsTheMax) {
  Histogram a, b;
  a.Record(10);
  b.Record(1'000'000);
  b.Record(20);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 1'000'000);
  EXPECT_EQ(a.Percentile(50), 20);
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.Percentile(50), 0);
}

TEST(ConcurrentHistogramTest, DrainsEveryValueRecordedByManyThreadsExactlyOnce) {
  ConcurrentHistogram ch;
  Histogram total;
  std::atomic<bool> done{false};
  std::thread reporter([&] {
    while (!done.load()) ch.DrainInto(&total);
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&ch, t] {
      for (int i = 0; i < 50'000; ++i) ch.Record(i % 1000 + t);
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reporter.join();
  ch.DrainInto(&total);
  EXPECT_EQ(total.count(), 200'000u);
  EXPECT_EQ(total.max(), 1002);
}

}  // namespace
}  // namespace fmq::bench
