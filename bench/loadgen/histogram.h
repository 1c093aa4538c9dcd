#pragma once

// Latency histograms for ferrymq-bench, log-bucketed like HdrHistogram: values (microseconds) below 128 have
// a bucket each; above, every power of two is split into 64 linear sub-buckets, so a reported percentile is
// within 1/64 (1.6 %) of the true value, up to 2^40 us. Fixed memory (about 2,300 buckets), no allocation
// when recording.
//
// Histogram is a plain value (one thread). ConcurrentHistogram is recorded from many threads with relaxed
// atomic adds and drained by one reporter thread into a Histogram (each recorded value lands in exactly one
// drain).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace fmq::bench {

inline constexpr int kSubBucketBits = 7;  // 128 exact values
inline constexpr int64_t kSubBucketCount = 1 << kSubBucketBits;
inline constexpr int64_t kHalfSubBucketCount = kSubBucketCount / 2;
inline constexpr int kMaxValueBits = 40;
inline constexpr size_t kBucketCount =
    kSubBucketCount + (kMaxValueBits - kSubBucketBits) * kHalfSubBucketCount;

// Bucket of `value` (clamped to [0, 2^40 - 1]).
size_t BucketIndex(int64_t value);
// Largest value that falls into bucket `index`.
int64_t BucketHighestValue(size_t index);

class Histogram {
 public:
  void Record(int64_t value);
  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // Highest value equivalent to the one at percentile `p` (0 < p <= 100); 0 when empty. Never above max().
  int64_t Percentile(double p) const;

 private:
  friend class ConcurrentHistogram;
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

class ConcurrentHistogram {
 public:
  void Record(int64_t value);
  // Moves everything recorded so far into `out` (adding to what it holds).
  void DrainInto(Histogram* out);

 private:
  std::array<std::atomic<uint64_t>, kBucketCount> counts_{};
  std::atomic<int64_t> max_{0};
};

}  // namespace fmq::bench
