#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace fmq::bench {

size_t BucketIndex(int64_t value) {
  if (value < 0) value = 0;
  const int64_t limit = (int64_t{1} << kMaxValueBits) - 1;
  if (value > limit) value = limit;
  if (value < kSubBucketCount) return static_cast<size_t>(value);
  const int shift = std::bit_width(static_cast<uint64_t>(value)) - kSubBucketBits;  // >= 1
  const int64_t sub = (value >> shift) - kHalfSubBucketCount;                       // 0..63
  return static_cast<size_t>(kSubBucketCount + (shift - 1) * kHalfSubBucketCount + sub);
}

int64_t BucketHighestValue(size_t index) {
  if (index < static_cast<size_t>(kSubBucketCount)) return static_cast<int64_t>(index);
  const int64_t rel = static_cast<int64_t>(index) - kSubBucketCount;
  const int shift = static_cast<int>(rel / kHalfSubBucketCount) + 1;
  const int64_t sub = rel % kHalfSubBucketCount + kHalfSubBucketCount;
  return ((sub + 1) << shift) - 1;
}

void Histogram::Record(int64_t value) {
  ++counts_[BucketIndex(value)];
  ++count_;
  max_ = std::max(max_, value);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

void Histogram::Reset() { *this = Histogram(); }

int64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(p, 0.0, 100.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(BucketHighestValue(i), max_);
  }
  return max_;
}

void ConcurrentHistogram::Record(int64_t value) {
  counts_[BucketIndex(value)].fetch_add(1, std::memory_order_relaxed);
  int64_t m = max_.load(std::memory_order_relaxed);
  while (value > m && !max_.compare_exchange_weak(m, value, std::memory_order_relaxed)) {
  }
}

void ConcurrentHistogram::DrainInto(Histogram* out) {
  for (size_t i = 0; i < kBucketCount; ++i) {
    const uint64_t n = counts_[i].exchange(0, std::memory_order_relaxed);
    out->counts_[i] += n;
    out->count_ += n;
  }
  out->max_ = std::max(out->max_, max_.exchange(0, std::memory_order_relaxed));
}

}  // namespace fmq::bench
