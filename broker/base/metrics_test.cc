#include "broker/base/metrics.h"

#include <cmath>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

namespace fmq {
namespace {

TEST(MetricsTest, RendersCountersAndGaugesWithLabelsInTextFormat) {
  MetricRegistry registry;
  auto& requests = registry.AddCounter("kube_requests_total", "Requests sent.", {"verb", "code"});
  requests.WithLabels({"get", "200"}).Inc();
  requests.WithLabels({"get", "200"}).Inc(2);
  requests.WithLabels({"apply", "409"}).Inc();
  registry.AddGauge("leader", "1 while this replica leads.").WithLabels({}).Set(1);

  EXPECT_EQ(registry.Render(),
            "# HELP kube_requests_total Requests sent.\n"
            "# TYPE kube_requests_total counter\n"
            "kube_requests_total{verb=\"apply\",code=\"409\"} 1\n"
            "kube_requests_total{verb=\"get\",code=\"200\"} 3\n"
            "# HELP leader 1 while this replica leads.\n"
            "# TYPE leader gauge\n"
            "leader 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricRegistry registry;
  auto& h = registry.AddHistogram("duration_seconds", "How long.", {"controller"}, {0.1, 1, 10});
  auto& c = h.WithLabels({"topic"});
  c.Observe(0.05);
  c.Observe(0.1);  // le is inclusive
  c.Observe(0.5);
  c.Observe(100);
  EXPECT_EQ(registry.Render(),
            "# HELP duration_seconds How long.\n"
            "# TYPE duration_seconds histogram\n"
            "duration_seconds_bucket{controller=\"topic\",le=\"0.1\"} 2\n"
            "duration_seconds_bucket{controller=\"topic\",le=\"1\"} 3\n"
            "duration_seconds_bucket{controller=\"topic\",le=\"10\"} 3\n"
            "duration_seconds_bucket{controller=\"topic\",le=\"+Inf\"} 4\n"
            "duration_seconds_sum{controller=\"topic\"} 100.65\n"
            "duration_seconds_count{controller=\"topic\"} 4\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricRegistry registry;
  registry.AddCounter("x_total", "a\\b\nc", {"l"}).WithLabels({"q\"u\\o\nte"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP x_total a\\\\b\\nc\n"
            "# TYPE x_total counter\n"
            "x_total{l=\"q\\\"u\\\\o\\nte\"} 1\n");
}

TEST(MetricsTest, SameNameReturnsSameFamilyAndRemoveDropsSeries) {
  MetricRegistry registry;
  auto& a = registry.AddGauge("in_progress", "h", {"name"});
  auto& b = registry.AddGauge("in_progress", "h", {"name"});
  EXPECT_EQ(&a, &b);
  a.WithLabels({"x"}).Set(5);
  EXPECT_EQ(b.WithLabels({"x"}).Value(), 5);
  a.Remove({"x"});
  EXPECT_TRUE(a.Series().empty());
  EXPECT_EQ(registry.Render(), "# HELP in_progress h\n# TYPE in_progress gauge\n");
}

TEST(MetricsTest, CounterIgnoresNegativeAndFormatsSpecialValues) {
  Counter c;
  c.Inc(-5);
  EXPECT_EQ(c.Value(), 0);
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricRegistry registry;
  auto& f = registry.AddCounter("c_total", "h", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) f.WithLabels({"same"}).Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.WithLabels({"same"}).Value(), 40000);
}

TEST(MetricsDeathTest, ReRegisteringWithOtherLabelsAborts) {
  MetricRegistry registry;
  registry.AddCounter("c_total", "h", {"a"});
  EXPECT_DEATH(registry.AddCounter("c_total", "h", {"b"}), "registered twice");
}

}  // namespace
}  // namespace fmq
