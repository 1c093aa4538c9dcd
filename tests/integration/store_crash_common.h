#pragma once

// Shared by store_crash_child and store_kill9_test: the store configuration and the message for each index,
// so the parent can check every byte the child was acknowledged for.

#include <string>

#include "broker/model/message.h"
#include "broker/store/store_config.h"

namespace fmq::crashtest {

inline store::MessageStoreConfig Config(const std::string& dir) {
  store::MessageStoreConfig c;
  c.store_path_root_dir = dir;
  c.cluster_name = "CrashCluster";
  c.broker_name = "broker-crash";
  c.flush_disk_type = store::FlushDiskType::kSync;
  c.mapped_file_size_commit_log = 1024 * 1024;  // small segments: the run crosses several rolls
  c.mapped_file_size_consume_queue = 20 * 1000;
  c.max_message_size = 64 * 1024;
  c.max_hash_slot_num = 1000;
  c.max_index_num = 4000;
  // This test is about durability, not retention: the build machines' disks report much less space available
  // than free (quotas), which can cross the 85 % "delete regardless of age" line and remove acknowledged
  // segments as designed. Keep disk-pressure cleaning and the write refusal out of the way.
  c.clean_file_forcibly_enable = false;
  c.disk_space_warning_level_ratio = 0.999;
  return c;
}

inline std::string BodyFor(int64_t i) {
  std::string body = "kill9-" + std::to_string(i) + "-";
  body.resize(200 + static_cast<size_t>(i % 700), static_cast<char>('a' + i % 26));
  return body;
}

inline model::StoredMessage MessageFor(int64_t i) {
  model::StoredMessage m;
  m.topic = "Kill9Topic";
  m.queue_id = QueueId(static_cast<int32_t>(i % 4));
  m.body = BodyFor(i);
  m.born_timestamp = 1'700'000'000'000 + i;
  m.born_host = model::HostAddress::V4(127, 0, 0, 1, 40000);
  m.store_host = model::HostAddress::V4(127, 0, 0, 1, 10911);
  m.properties =
      model::EncodeProperties({{"KEYS", "k" + std::to_string(i)}, {"TAGS", "t" + std::to_string(i % 3)}});
  return m;
}

}  // namespace fmq::crashtest
