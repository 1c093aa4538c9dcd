#include "broker/base/metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "broker/base/check.h"

namespace fmq {

void Counter::Inc(double delta) {
  if (!(delta >= 0)) return;
  value_.fetch_add(delta, std::memory_order_relaxed);
}

void Gauge::SetToCurrentTime() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  Set(std::chrono::duration<double>(now).count());
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size()]) {
  FMQ_CHECK_MSG(std::is_sorted(bounds_.begin(), bounds_.end()), "histogram bounds must be sorted");
  for (size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value ("le")
  if (it != bounds_.end()) buckets_[it - bounds_.begin()].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out;
  out.reserve(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out.push_back(acc);
  }
  // +Inf is the total count; never below the finite buckets even while an Observe is half done.
  out.push_back(std::max(acc, count_.load(std::memory_order_relaxed)));
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help, MetricType type,
                                   std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  FMQ_CHECK_MSG(ValidMetricName(name_), name_.c_str());
  for (size_t i = 0; i < label_names_.size(); ++i) {
    const std::string& l = label_names_[i];
    FMQ_CHECK_MSG(ValidMetricName(l) && l != "le" && l != "quantile", l.c_str());
    // A repeated label name makes Prometheus reject the whole scrape.
    FMQ_CHECK_MSG(std::find(label_names_.begin(), label_names_.begin() + i, l) == label_names_.begin() + i,
                  l.c_str());
  }
}

std::string MetricFamilyBase::LabelText(const std::vector<std::string>& values,
                                        std::string_view extra) const {
  if (values.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra.empty()) {
    if (!values.empty()) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

void MetricFamilyBase::RenderHeader(std::string* out) const {
  *out += "# HELP " + name_ + " " + EscapeHelp(help_) + "\n";
  *out += "# TYPE " + name_ + " " + std::string(TypeName(type_)) + "\n";
}

template <typename M>
M& MetricFamily<M>::WithLabels(const std::vector<std::string>& values) {
  FMQ_CHECK_MSG(values.size() == label_names_.size(), name_.c_str());
  MutexLock lock(&mu_);
  auto& slot = series_[values];
  if (!slot) slot = factory_();
  return *slot;
}

template <typename M>
void MetricFamily<M>::Remove(const std::vector<std::string>& values) {
  MutexLock lock(&mu_);
  series_.erase(values);
}

template <typename M>
std::vector<std::vector<std::string>> MetricFamily<M>::Series() const {
  MutexLock lock(&mu_);
  std::vector<std::vector<std::string>> out;
  for (const auto& [labels, m] : series_) out.push_back(labels);
  return out;
}

template <>
void MetricFamily<Counter>::Render(std::string* out) const {
  RenderHeader(out);
  MutexLock lock(&mu_);
  for (const auto& [labels, m] : series_) {
    *out += name_ + LabelText(labels) + " " + FormatMetricValue(m->Value()) + "\n";
  }
}

template <>
void MetricFamily<Gauge>::Render(std::string* out) const {
  RenderHeader(out);
  MutexLock lock(&mu_);
  for (const auto& [labels, m] : series_) {
    *out += name_ + LabelText(labels) + " " + FormatMetricValue(m->Value()) + "\n";
  }
}

template <>
void MetricFamily<Histogram>::Render(std::string* out) const {
  RenderHeader(out);
  MutexLock lock(&mu_);
  for (const auto& [labels, h] : series_) {
    auto counts = h->CumulativeCounts();
    const auto& bounds = h->bounds();
    for (size_t i = 0; i < bounds.size(); ++i) {
      *out += name_ + "_bucket" + LabelText(labels, "le=\"" + FormatMetricValue(bounds[i]) + "\"") + " " +
              std::to_string(counts[i]) + "\n";
    }
    *out += name_ + "_bucket" + LabelText(labels, "le=\"+Inf\"") + " " + std::to_string(counts.back()) + "\n";
    *out += name_ + "_sum" + LabelText(labels) + " " + FormatMetricValue(h->Sum()) + "\n";
    *out += name_ + "_count" + LabelText(labels) + " " + std::to_string(counts.back()) + "\n";
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

CounterFamily& MetricRegistry::AddCounter(const std::string& name, const std::string& help,
                                          const std::vector<std::string>& label_names) {
  MutexLock lock(&mu_);
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<CounterFamily>(name, help, MetricType::kCounter, label_names,
                                           [] { return std::make_unique<Counter>(); });
  }
  FMQ_CHECK_MSG(slot->type() == MetricType::kCounter && slot->label_names() == label_names,
                ("metric registered twice with another type or other labels: " + name).c_str());
  return static_cast<CounterFamily&>(*slot);
}

GaugeFamily& MetricRegistry::AddGauge(const std::string& name, const std::string& help,
                                      const std::vector<std::string>& label_names) {
  MutexLock lock(&mu_);
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<GaugeFamily>(name, help, MetricType::kGauge, label_names,
                                         [] { return std::make_unique<Gauge>(); });
  }
  FMQ_CHECK_MSG(slot->type() == MetricType::kGauge && slot->label_names() == label_names,
                ("metric registered twice with another type or other labels: " + name).c_str());
  return static_cast<GaugeFamily&>(*slot);
}

HistogramFamily& MetricRegistry::AddHistogram(const std::string& name, const std::string& help,
                                              const std::vector<std::string>& label_names,
                                              std::vector<double> bounds) {
  MutexLock lock(&mu_);
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<HistogramFamily>(name, help, MetricType::kHistogram, label_names,
                                             [bounds] { return std::make_unique<Histogram>(bounds); });
  }
  FMQ_CHECK_MSG(slot->type() == MetricType::kHistogram && slot->label_names() == label_names,
                ("metric registered twice with another type or other labels: " + name).c_str());
  return static_cast<HistogramFamily&>(*slot);
}

std::string MetricRegistry::Render() const {
  std::vector<const MetricFamilyBase*> families;
  {
    MutexLock lock(&mu_);
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  // Families are never removed, so rendering outside the registry lock is safe.
  std::string out;
  for (const auto* f : families) f->Render(&out);
  return out;
}

std::vector<double> MetricRegistry::DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> MetricRegistry::ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i) {
    out.push_back(v);
    v *= factor;
  }
  return out;
}

}  // namespace fmq
