#pragma once

// SubscriptionGroupManager: the broker's consumer groups (RocketMQ's SubscriptionGroupManager), persisted to
// <storePathRootDir>/config/subscriptionGroup.json ({"subscriptionGroupTable":..,"dataVersion":..}). A group
// a client uses is created with defaults on first use when autoCreateSubscriptionGroup is on (or its name
// starts with CID_RMQ_SYS_); the built-in tool groups exist from the start.
//
// Created by the broker's composition root. Thread-safety: every method is safe to call concurrently.

#include <optional>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/admin_body.h"

namespace fmq::server {

class SubscriptionGroupManager {
 public:
  // `auto_create`: autoCreateSubscriptionGroup (convenient; off in production so a typo in a group name is
  // refused instead of silently starting a new group).
  SubscriptionGroupManager(io::FileSystem& fs, std::string path, bool auto_create, const Clock& clock);

  Status Load() FMQ_EXCLUDES(mu_);

  std::optional<model::SubscriptionGroupConfig> Find(const std::string& group) const FMQ_EXCLUDES(mu_);
  // Find, or create with defaults when allowed. nullopt when the group does not exist and may not be created.
  Result<std::optional<model::SubscriptionGroupConfig>> FindOrCreate(const std::string& group)
      FMQ_EXCLUDES(mu_);
  Status Upsert(const model::SubscriptionGroupConfig& config) FMQ_EXCLUDES(mu_);
  // OK when the group did not exist.
  Status Delete(const std::string& group) FMQ_EXCLUDES(mu_);
  model::SubscriptionGroupWrapper Snapshot() const FMQ_EXCLUDES(mu_);
  // Replaces the table with a master's (a slave's metadata copy) unless the data versions are equal.
  Result<bool> ReplaceAll(const model::SubscriptionGroupWrapper& master) FMQ_EXCLUDES(mu_);

 private:
  Status PersistLocked() FMQ_REQUIRES(mu_);
  void BumpVersionLocked() FMQ_REQUIRES(mu_);

  io::FileSystem& fs_;
  const std::string path_;
  const bool auto_create_;
  const Clock& clock_;
  mutable Mutex mu_;
  model::SubscriptionGroupWrapper table_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::server
