#pragma once

// MetricRegistry: counters, gauges and histograms with labels, rendered in the Prometheus text exposition
// format (version 0.0.4). The operator serves it on /metrics; the broker can serve its own registry the same
// way.
//
//   MetricRegistry registry;
//   auto& requests = registry.AddCounter("ferrymq_operator_kube_requests_total", "Requests sent.", {"verb",
//   "code"}); requests.WithLabels({"get", "200"}).Inc(); std::string text = registry.Render();
//
// Families are created on first Add* and returned again by later calls with the same name (so several users
// can share one family, e.g. one reconcile counter for all controllers); asking for an existing name with
// another type or other label names is a programming error and aborts. A family and its series live as long
// as the registry (Remove drops one series), so references returned by Add* and WithLabels stay valid until
// then.
//
// Thread-safety: everything is safe to call concurrently. Values are atomics; a Render() that races with
// updates shows each series at some recent value (a histogram's buckets, sum and count are read one after
// another, not as one snapshot, as in the usual Prometheus client libraries).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/mutex.h"
#include "broker/base/thread_annotations.h"

namespace fmq {

// A value that only goes up (requests, errors).
class Counter {
 public:
  // REQUIRES: delta >= 0 (a negative delta is ignored: a counter never goes down).
  void Inc(double delta = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, "is leader", a start time).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double delta = 1.0) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Dec(double delta = 1.0) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  // Sets the gauge to the current Unix time in seconds (start-time gauges).
  void SetToCurrentTime();
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (durations, sizes). Bucket bounds are upper bounds ("le").
class Histogram {
 public:
  // `bounds` must be sorted ascending; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count per bound (same length as bounds()), then the +Inf total.
  std::vector<uint64_t> CumulativeCounts() const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, non-cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

// The series of one metric name, one per combination of label values.
class MetricFamilyBase {
 public:
  MetricFamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual ~MetricFamilyBase() = default;
  MetricFamilyBase(const MetricFamilyBase&) = delete;
  MetricFamilyBase& operator=(const MetricFamilyBase&) = delete;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends "# HELP", "# TYPE" and one line per series (several for a histogram).
  virtual void Render(std::string* out) const = 0;

 protected:
  // `{a="x",b="y"}` for the given values (plus `extra` such as le="0.5"), or "" without labels.
  std::string LabelText(const std::vector<std::string>& values, std::string_view extra = {}) const;
  void RenderHeader(std::string* out) const;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

template <typename M>
class MetricFamily final : public MetricFamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<M>()>;
  MetricFamily(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
               Factory factory)
      : MetricFamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        factory_(std::move(factory)) {}

  // The series with these label values (in the order of label_names()), created at zero on first use.
  // A wrong number of values is a programming error and aborts.
  M& WithLabels(const std::vector<std::string>& values) FMQ_EXCLUDES(mu_);
  // Drops one series (no-op if absent). REQUIRES: no reference to it is used afterwards.
  void Remove(const std::vector<std::string>& values) FMQ_EXCLUDES(mu_);
  // Label values of every series, sorted.
  std::vector<std::vector<std::string>> Series() const FMQ_EXCLUDES(mu_);

  void Render(std::string* out) const override FMQ_EXCLUDES(mu_);

 private:
  const Factory factory_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_ FMQ_GUARDED_BY(mu_);
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// Owned by the composition root; passed by pointer to components that register metrics (a null registry means
// "no metrics" in every component that takes one).
class MetricRegistry {
 public:
  MetricRegistry() = default;
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            const std::vector<std::string>& label_names = {}) FMQ_EXCLUDES(mu_);
  GaugeFamily& AddGauge(const std::string& name, const std::string& help,
                        const std::vector<std::string>& label_names = {}) FMQ_EXCLUDES(mu_);
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                const std::vector<std::string>& label_names = {},
                                std::vector<double> bounds = DefaultBuckets()) FMQ_EXCLUDES(mu_);

  // Every family in the text exposition format, families sorted by name, series sorted by label values.
  std::string Render() const FMQ_EXCLUDES(mu_);

  // Prometheus' default buckets: 5 ms .. 10 s.
  static std::vector<double> DefaultBuckets();
  // start, start*factor, ... (`count` bounds).
  static std::vector<double> ExponentialBuckets(double start, double factor, int count);

  // The content type of Render()'s output.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamilyBase>> families_ FMQ_GUARDED_BY(mu_);
};

// Formats a sample value as Prometheus expects ("+Inf", "-Inf", "NaN", shortest round-trip decimal).
std::string FormatMetricValue(double v);
// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view v);

}  // namespace fmq
