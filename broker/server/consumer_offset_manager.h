#pragma once

// ConsumerOffsetManager: committed consumer offsets, "topic@group" -> queue id -> next offset to consume
// (RocketMQ's ConsumerOffsetManager), persisted to <storePathRootDir>/config/consumerOffset.json as
// {"offsetTable":{"topic@group":{"0":123}}} (standard JSON; Java's fastjson writes the queue ids unquoted,
// and reads quoted ones too). A later commit overwrites an earlier one, lower or not, as in RocketMQ.
//
// Created by the broker's composition root, which calls Persist() every flushConsumerOffsetInterval and at
// stop. Thread-safety: every method is safe to call concurrently.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::server {

class ConsumerOffsetManager {
 public:
  ConsumerOffsetManager(io::FileSystem& fs, std::string path);

  Status Load() FMQ_EXCLUDES(mu_);
  Status Persist() FMQ_EXCLUDES(mu_);

  void Commit(const std::string& group, const std::string& topic, int32_t queue_id, int64_t offset)
      FMQ_EXCLUDES(mu_);
  std::optional<int64_t> Query(const std::string& group, const std::string& topic, int32_t queue_id) const
      FMQ_EXCLUDES(mu_);
  // Every queue's offset of one group on one topic.
  std::map<int32_t, int64_t> QueryAll(const std::string& group, const std::string& topic) const
      FMQ_EXCLUDES(mu_);

  // Topics the group has offsets on; groups with offsets on the topic.
  std::set<std::string> TopicsOfGroup(const std::string& group) const FMQ_EXCLUDES(mu_);
  std::set<std::string> GroupsOfTopic(const std::string& topic) const FMQ_EXCLUDES(mu_);
  // topic -> group -> queue id -> offset: every committed offset (the backlog count, backlog.h).
  std::map<std::string, std::map<std::string, std::map<int32_t, int64_t>>> ByTopic() const FMQ_EXCLUDES(mu_);
  void RemoveGroup(const std::string& group) FMQ_EXCLUDES(mu_);
  // Overwrites offsets with those of a GET_ALL_CONSUMER_OFFSET body (a slave copying its master's offsets,
  // as RocketMQ's SlaveSynchronize does); offsets the body lacks stay.
  Status MergeAll(const std::string& json) FMQ_EXCLUDES(mu_);
  // consumerOffset.json's content (GET_ALL_CONSUMER_OFFSET).
  std::string EncodeAll() const FMQ_EXCLUDES(mu_);

 private:
  std::string EncodeLocked() const FMQ_REQUIRES(mu_);

  io::FileSystem& fs_;
  const std::string path_;
  mutable Mutex mu_;
  std::map<std::string, std::map<int32_t, int64_t>> table_ FMQ_GUARDED_BY(mu_);
  bool dirty_ FMQ_GUARDED_BY(mu_) = false;
};

}  // namespace fmq::server
