#pragma once

// EpochHistory: the broker's record of master terms over its commit log (docs/formats/epochs.md), the file
// `epochs.json` in the store root. Entry (epoch E, start offset S) says "the bytes from S on were written by
// the master of epoch E", until the next entry's start or the end of the log. A master appends (E, its max
// offset) when it is promoted; a slave adopts its master's entries as its log passes their start offsets.
//
// Two brokers agree on every byte below the consistent point FindConsistentPoint computes from their
// histories: the end of the newest epoch both know with the same start, on the shorter side. A slave or a
// demoted master truncates its log to that point before it copies the master's log on from there (the
// Kafka / RocketMQ 5 leader-epoch rule), which is how a divergent tail left by a partitioned or crashed
// master is removed.
//
// Created and owned by MessageStore (which truncates it with the log). Thread-safety: every method is safe to
// call concurrently; changes are written atomically (write, sync, rename) before they are visible.

#include <memory>
#include <string>
#include <vector>

#include "broker/base/ids.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::store {

struct EpochEntry {
  Epoch epoch{0};
  PhysicalOffset start{0};
  bool operator==(const EpochEntry&) const = default;
};

// Checks that entries have strictly increasing epochs (> 0) and non-decreasing, non-negative starts.
Status ValidateEpochEntries(const std::vector<EpochEntry>& entries);

// Where a follower's log stops agreeing with a leader's. `follower` and `leader` are epoch histories,
// `*_max` the ends of the logs they describe. Returns the offset the follower must truncate to (never above
// follower_max): the end of the newest epoch present in both with the same start, on the shorter side. A
// follower with an empty log needs nothing (returns follower_max). FailedPrecondition when the histories
// share no epoch: the logs were written by unrelated masters and no truncation makes them agree.
Result<PhysicalOffset> FindConsistentPoint(const std::vector<EpochEntry>& follower,
                                           PhysicalOffset follower_min, PhysicalOffset follower_max,
                                           const std::vector<EpochEntry>& leader, PhysicalOffset leader_max);

// "epoch 3 from 1024, epoch 4 from 2048" (logs and error messages).
std::string FormatEpochs(const std::vector<EpochEntry>& entries);

class EpochHistory {
 public:
  // Loads `path` (an empty history when the file does not exist). Corruption names the file and the fix.
  static Result<std::unique_ptr<EpochHistory>> Open(io::FileSystem& fs, std::string path);

  std::vector<EpochEntry> entries() const FMQ_EXCLUDES(mu_);
  // The newest epoch (0 when the history is empty).
  Epoch LastEpoch() const FMQ_EXCLUDES(mu_);

  // Appends a new term. InvalidArgument unless its epoch is above the last one and its start is not below
  // the last start.
  Status Append(EpochEntry entry) FMQ_EXCLUDES(mu_);
  // Drops entries that start beyond `offset` (the log was truncated to `offset`).
  Status TruncateAfter(PhysicalOffset offset) FMQ_EXCLUDES(mu_);
  // Replaces the whole history (validated).
  Status Reset(std::vector<EpochEntry> entries) FMQ_EXCLUDES(mu_);

 private:
  EpochHistory(io::FileSystem& fs, std::string path, std::vector<EpochEntry> entries)
      : fs_(fs), path_(std::move(path)), entries_(std::move(entries)) {}
  Status Persist(const std::vector<EpochEntry>& entries) FMQ_REQUIRES(mu_);

  io::FileSystem& fs_;  // outlives the history (owned by the composition root)
  const std::string path_;
  mutable Mutex mu_;
  std::vector<EpochEntry> entries_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::store
