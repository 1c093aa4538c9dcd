#include "broker/server/topic_config_manager.h"

#include "broker/base/logging.h"

namespace fmq::server {

TopicConfigManager::TopicConfigManager(io::FileSystem& fs, std::string path, const BrokerConfig& broker,
                                       const Clock& clock)
    : fs_(fs), path_(std::move(path)), broker_(broker), clock_(clock) {}

void TopicConfigManager::AddSystemTopic(const std::string& name, int32_t queues, int32_t perm) {
  if (table_.topic_config_table.count(name)) return;
  model::TopicConfig c;
  c.topic_name = name;
  c.read_queue_nums = queues;
  c.write_queue_nums = queues;
  c.perm = perm;
  table_.topic_config_table[name] = c;
}

Status TopicConfigManager::Load() {
  MutexLock lock(&mu_);
  if (fs_.Exists(path_)) {
    FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path_));
    auto wrapper = model::DecodeTopicConfigWrapper(text);
    if (!wrapper.ok()) {
      return Status::Corruption(path_ + " cannot be read (" + std::string(wrapper.status().message()) +
                                "); restore it from a backup or remove it to start with system topics only");
    }
    table_ = std::move(*wrapper);
  }
  using namespace model::perm;
  if (broker_.auto_create_topic_enable) {
    AddSystemTopic(kAutoCreateTopicKey, broker_.default_topic_queue_nums, kInherit | kRead | kWrite);
  }
  AddSystemTopic("SELF_TEST_TOPIC", 1, kRead | kWrite);
  AddSystemTopic(broker_.cluster_name, 16, kInherit | kRead | kWrite);
  AddSystemTopic(broker_.broker_name, 1, kInherit | kRead | kWrite);
  AddSystemTopic("OFFSET_MOVED_EVENT", 1, kRead | kWrite);
  AddSystemTopic("SCHEDULE_TOPIC_XXXX", 18, kRead | kWrite);
  AddSystemTopic(broker_.cluster_name + "_REPLY_TOPIC", 1, kRead | kWrite);
  AddSystemTopic("rmq_sys_wheel_timer", 1, kRead | kWrite);
  if (broker_.trace_topic_enable && !broker_.msg_trace_topic_name.empty()) {
    AddSystemTopic(broker_.msg_trace_topic_name, 1, kRead | kWrite);
  }
  return PersistLocked();
}

Status TopicConfigManager::PersistLocked() {
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(io::DirName(path_)));
  return io::WriteFileAtomically(fs_, path_, model::EncodeTopicConfigWrapper(table_));
}

std::optional<model::TopicConfig> TopicConfigManager::Find(const std::string& topic) const {
  MutexLock lock(&mu_);
  auto it = table_.topic_config_table.find(topic);
  if (it == table_.topic_config_table.end()) return std::nullopt;
  return it->second;
}

Status TopicConfigManager::Upsert(const model::TopicConfig& config) {
  MutexLock lock(&mu_);
  table_.topic_config_table[config.topic_name] = config;
  table_.data_version = {table_.data_version.counter + 1, clock_.NowMillis()};
  return PersistLocked();
}

Status TopicConfigManager::NextDataVersion() {
  MutexLock lock(&mu_);
  table_.data_version = {table_.data_version.counter + 1, clock_.NowMillis()};
  return PersistLocked();
}

Result<bool> TopicConfigManager::CreateIfAbsent(const model::TopicConfig& config) {
  MutexLock lock(&mu_);
  if (table_.topic_config_table.count(config.topic_name)) return false;
  table_.topic_config_table[config.topic_name] = config;
  table_.data_version = {table_.data_version.counter + 1, clock_.NowMillis()};
  FMQ_RETURN_IF_ERROR(PersistLocked());
  GetLogger("server")->info("created topic={} queues={}", config.topic_name, config.write_queue_nums);
  return true;
}

Status TopicConfigManager::Delete(const std::string& topic) {
  MutexLock lock(&mu_);
  if (table_.topic_config_table.erase(topic) == 0) return Status::Ok();
  table_.data_version = {table_.data_version.counter + 1, clock_.NowMillis()};
  return PersistLocked();
}

Result<bool> TopicConfigManager::ReplaceAll(const model::TopicConfigSerializeWrapper& master) {
  MutexLock lock(&mu_);
  if (table_.data_version == master.data_version) return false;
  table_ = master;
  FMQ_RETURN_IF_ERROR(PersistLocked());
  return true;
}

model::TopicConfigSerializeWrapper TopicConfigManager::Snapshot() const {
  MutexLock lock(&mu_);
  return table_;
}

Result<std::optional<model::TopicConfig>> TopicConfigManager::CreateInSendMessageMethod(
    const std::string& topic, const std::string& default_topic, int32_t queue_nums, int32_t topic_sys_flag) {
  MutexLock lock(&mu_);
  if (auto it = table_.topic_config_table.find(topic); it != table_.topic_config_table.end()) {
    return std::optional<model::TopicConfig>(it->second);
  }
  auto tmpl = table_.topic_config_table.find(default_topic);
  if (!broker_.auto_create_topic_enable || tmpl == table_.topic_config_table.end() ||
      (tmpl->second.perm & model::perm::kInherit) == 0) {
    return std::optional<model::TopicConfig>();
  }
  model::TopicConfig c;
  c.topic_name = topic;
  const int32_t queues = std::max(1, std::min(queue_nums, tmpl->second.write_queue_nums));
  c.read_queue_nums = queues;
  c.write_queue_nums = queues;
  c.perm = tmpl->second.perm & ~model::perm::kInherit;
  c.topic_filter_type = tmpl->second.topic_filter_type;
  c.topic_sys_flag = topic_sys_flag;
  table_.topic_config_table[topic] = c;
  table_.data_version = {table_.data_version.counter + 1, clock_.NowMillis()};
  FMQ_RETURN_IF_ERROR(PersistLocked());
  GetLogger("server")->info("auto-created topic={} queues={} from={}", topic, queues, default_topic);
  return std::optional<model::TopicConfig>(c);
}

}  // namespace fmq::server
