#include "broker/ha/replica_tracker.h"

#include <algorithm>

namespace fmq::ha {

namespace {
constexpr int64_t kJoinWindowMs = 1'000;
}

ReplicaTracker::ReplicaTracker(const ReplicationConfig& config, bool sync, int64_t initial_confirm)
    : config_(config), sync_(sync), confirm_(sync ? initial_confirm : INT64_MAX) {}

void ReplicaTracker::Connected(uint64_t id, std::string address, int64_t broker_id, bool ferry,
                               int64_t now_ms) {
  MutexLock lock(&mu_);
  ReplicaInfo& r = replicas_[id];
  r.id = id;
  r.address = std::move(address);
  r.broker_id = broker_id;
  r.ferry = ferry;
  r.last_report_ms = now_ms;
}

void ReplicaTracker::Disconnected(uint64_t id) {
  MutexLock lock(&mu_);
  replicas_.erase(id);
  Evaluate(last_end_, last_durable_, 0);
}

int64_t ReplicaTracker::CaughtUpTime(int64_t ack, int64_t master_end, int64_t now_ms) const {
  if (ack >= master_end) return now_ms;
  // The newest sample whose log end the slave has reached.
  for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
    if (it->end <= ack) return it->ms;
  }
  return 0;
}

void ReplicaTracker::Reported(uint64_t id, int64_t ack, int64_t master_end, int64_t now_ms) {
  MutexLock lock(&mu_);
  auto it = replicas_.find(id);
  if (it == replicas_.end()) return;
  ReplicaInfo& r = it->second;
  r.ack = std::max(r.ack, ack);
  r.last_report_ms = now_ms;
  r.caught_up_ms = std::max(r.caught_up_ms, CaughtUpTime(r.ack, master_end, now_ms));
  Evaluate(master_end, last_durable_, now_ms);
}

int64_t ReplicaTracker::Update(int64_t master_end, int64_t durable_end, int64_t now_ms) {
  MutexLock lock(&mu_);
  // One sample per millisecond at most (every send updates): the newest of a millisecond wins.
  if (!samples_.empty() && samples_.back().ms == now_ms) {
    samples_.back().end = master_end;
  } else if (samples_.empty() || samples_.back().end != master_end) {
    samples_.push_back({now_ms, master_end});
  }
  // Keep the window, plus the newest sample older than it (the slave may hold exactly that much).
  while (samples_.size() > 1 && samples_[1].ms < now_ms - config_.ha_max_time_slave_not_catchup_ms)
    samples_.pop_front();
  Evaluate(master_end, durable_end, now_ms);
  return confirm_;
}

void ReplicaTracker::Evaluate(int64_t master_end, int64_t durable_end, int64_t now_ms) {
  last_end_ = master_end;
  last_durable_ = durable_end;
  int in_sync = 0;
  int64_t min_ack = INT64_MAX;
  for (auto& [id, r] : replicas_) {
    r.lag_bytes = std::max<int64_t>(0, master_end - r.ack);
    if (now_ms > 0) {
      const int64_t window = r.in_sync ? config_.ha_max_time_slave_not_catchup_ms
                                       : std::min(kJoinWindowMs, config_.ha_max_time_slave_not_catchup_ms);
      r.in_sync = r.caught_up_ms > 0 && now_ms - r.caught_up_ms <= window &&
                  r.lag_bytes <= config_.ha_slave_fallbehind_max;
    }
    if (r.in_sync) {
      ++in_sync;
      min_ack = std::min(min_ack, r.ack);
    }
  }
  in_sync_copies_ = 1 + in_sync;
  if (!sync_) return;
  const bool below = in_sync_copies_ < config_.min_in_sync_replicas;
  if (below && config_.when_below_min_in_sync == BelowMinInSyncPolicy::kReject) return;  // frozen
  const int64_t candidate = std::min(durable_end, min_ack);
  confirm_ = std::max(confirm_, candidate);
}

int64_t ReplicaTracker::confirm_offset() const {
  MutexLock lock(&mu_);
  return confirm_;
}

bool ReplicaTracker::AcceptsWrites() const {
  MutexLock lock(&mu_);
  return !sync_ || in_sync_copies_ >= config_.min_in_sync_replicas ||
         config_.when_below_min_in_sync == BelowMinInSyncPolicy::kDegrade;
}

TrackerSnapshot ReplicaTracker::Snapshot() const {
  MutexLock lock(&mu_);
  TrackerSnapshot s;
  s.confirm_offset = confirm_;
  s.in_sync_copies = in_sync_copies_;
  s.below_min = sync_ && in_sync_copies_ < config_.min_in_sync_replicas;
  s.degraded = s.below_min && config_.when_below_min_in_sync == BelowMinInSyncPolicy::kDegrade;
  for (const auto& [id, r] : replicas_) s.replicas.push_back(r);
  return s;
}

}  // namespace fmq::ha
