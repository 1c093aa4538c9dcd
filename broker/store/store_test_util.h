#pragma once

// Helpers shared by the store's tests: a small-file configuration (so segments roll after a few messages) and
// message builders.

#include <map>
#include <string>

#include "broker/model/message.h"
#include "broker/store/store_config.h"

namespace fmq::store::testing {

inline MessageStoreConfig SmallConfig(const std::string& root = "/store") {
  MessageStoreConfig c;
  c.store_path_root_dir = root;
  c.cluster_name = "TestCluster";
  c.broker_name = "broker-t";
  c.store_host = model::HostAddress::V4(10, 0, 0, 1, 10911);
  c.mapped_file_size_commit_log = 64 * 1024;
  c.mapped_file_size_consume_queue = 20 * 64;
  c.max_message_size = 16 * 1024;
  c.max_hash_slot_num = 64;
  c.max_index_num = 256;
  c.flush_interval_commit_log_ms = 10;
  c.flush_interval_consume_queue_ms = 10;
  return c;
}

inline model::StoredMessage Message(const std::string& topic, int queue_id, const std::string& body,
                                    const std::string& tags = "", const std::string& keys = "",
                                    const std::string& uniq = "") {
  model::StoredMessage m;
  m.topic = topic;
  m.queue_id = QueueId(queue_id);
  m.body = body;
  m.born_timestamp = 1'700'000'000'000;
  m.born_host = model::HostAddress::V4(10, 0, 0, 2, 50000);
  m.store_host = model::HostAddress::V4(10, 0, 0, 1, 10911);
  std::map<std::string, std::string> props;
  if (!tags.empty()) props["TAGS"] = tags;
  if (!keys.empty()) props["KEYS"] = keys;
  if (!uniq.empty()) props["UNIQ_KEY"] = uniq;
  m.properties = model::EncodeProperties(props);
  return m;
}

}  // namespace fmq::store::testing
