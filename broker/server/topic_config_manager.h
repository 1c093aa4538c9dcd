#pragma once

// TopicConfigManager: the broker's topics (RocketMQ's TopicConfigManager), persisted to
// <storePathRootDir>/config/topics.json in RocketMQ's shape ({"dataVersion":..,"topicConfigTable":..};
// protocol reference 6.11). Creates the system topics on load and topics on demand from the TBW102 template
// when autoCreateTopicEnable is on. Every change bumps the data version (name servers compare it) and is
// written atomically (temp file, rename).
//
// Created by the broker's composition root. Thread-safety: every method is safe to call concurrently.

#include <map>
#include <optional>
#include <set>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/names.h"
#include "broker/model/route.h"
#include "broker/server/broker_config.h"

namespace fmq::server {

inline constexpr const char* kAutoCreateTopicKey = "TBW102";

// Topics producers may not send to directly (TopicValidator's NOT_ALLOWED_SEND_TOPIC_SET).
using model::IsSendForbiddenTopic;

class TopicConfigManager {
 public:
  TopicConfigManager(io::FileSystem& fs, std::string path, const BrokerConfig& broker, const Clock& clock);

  // Reads topics.json (a missing file is an empty table) and adds the system topics.
  Status Load() FMQ_EXCLUDES(mu_);

  std::optional<model::TopicConfig> Find(const std::string& topic) const FMQ_EXCLUDES(mu_);
  Status Upsert(const model::TopicConfig& config) FMQ_EXCLUDES(mu_);
  Status Delete(const std::string& topic) FMQ_EXCLUDES(mu_);
  // Adds `config` unless its topic exists. True when it was added (the caller re-registers with the name
  // servers).
  Result<bool> CreateIfAbsent(const model::TopicConfig& config) FMQ_EXCLUDES(mu_);
  model::TopicConfigSerializeWrapper Snapshot() const FMQ_EXCLUDES(mu_);
  // A new data version for the same table: the name servers take the next registration's topics (they skip
  // an unchanged version), as after a brokerPermission change.
  Status NextDataVersion() FMQ_EXCLUDES(mu_);
  // Replaces the table with a master's (a slave's metadata copy) unless the data versions are equal.
  // Returns whether anything changed.
  Result<bool> ReplaceAll(const model::TopicConfigSerializeWrapper& master) FMQ_EXCLUDES(mu_);

  // A send to an unknown topic: creates it from `default_topic` (which must carry PERM_INHERIT) with
  // min(queue_nums, template queues) queues. nullopt when auto-creation is off or the template does not allow
  // it.
  Result<std::optional<model::TopicConfig>> CreateInSendMessageMethod(const std::string& topic,
                                                                      const std::string& default_topic,
                                                                      int32_t queue_nums,
                                                                      int32_t topic_sys_flag)
      FMQ_EXCLUDES(mu_);

 private:
  Status PersistLocked() FMQ_REQUIRES(mu_);
  void AddSystemTopic(const std::string& name, int32_t queues, int32_t perm) FMQ_REQUIRES(mu_);

  io::FileSystem& fs_;
  const std::string path_;
  const BrokerConfig& broker_;  // owned by the composition root
  const Clock& clock_;
  mutable Mutex mu_;
  model::TopicConfigSerializeWrapper table_ FMQ_GUARDED_BY(mu_);
};

}  // namespace fmq::server
