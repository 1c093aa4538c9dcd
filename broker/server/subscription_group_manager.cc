#include "broker/server/subscription_group_manager.h"

#include "broker/base/logging.h"
#include "broker/model/names.h"

namespace fmq::server {

SubscriptionGroupManager::SubscriptionGroupManager(io::FileSystem& fs, std::string path, bool auto_create,
                                                   const Clock& clock)
    : fs_(fs), path_(std::move(path)), auto_create_(auto_create), clock_(clock) {}

Status SubscriptionGroupManager::Load() {
  MutexLock lock(&mu_);
  if (fs_.Exists(path_)) {
    FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path_));
    auto wrapper = model::DecodeSubscriptionGroupWrapper(text);
    if (!wrapper.ok()) {
      return Status::Corruption(path_ + " cannot be read (" + std::string(wrapper.status().message()) +
                                "); restore it from a backup or remove it (groups are then recreated with "
                                "defaults on first use when autoCreateSubscriptionGroup=true)");
    }
    table_ = std::move(*wrapper);
  }
  for (const char* name : {"TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP", "CID_ONS-HTTP-PROXY",
                           "CID_ONSAPI_PULL", "CID_ONSAPI_PERMISSION", "CID_ONSAPI_OWNER"}) {
    if (!table_.subscription_group_table.count(name)) {
      model::SubscriptionGroupConfig g;
      g.group_name = name;
      if (std::string_view(name) == "TOOLS_CONSUMER" || std::string_view(name) == "CID_ONSAPI_OWNER")
        g.consume_broadcast_enable = true;
      table_.subscription_group_table[name] = g;
    }
  }
  return PersistLocked();
}

Status SubscriptionGroupManager::PersistLocked() {
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(io::DirName(path_)));
  return io::WriteFileAtomically(fs_, path_, model::EncodeSubscriptionGroupWrapper(table_));
}

void SubscriptionGroupManager::BumpVersionLocked() {
  table_.data_version = {table_.data_version.counter + 1, clock_.NowMillis()};
}

std::optional<model::SubscriptionGroupConfig> SubscriptionGroupManager::Find(const std::string& group) const {
  MutexLock lock(&mu_);
  auto it = table_.subscription_group_table.find(group);
  if (it == table_.subscription_group_table.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<model::SubscriptionGroupConfig>> SubscriptionGroupManager::FindOrCreate(
    const std::string& group) {
  MutexLock lock(&mu_);
  if (auto it = table_.subscription_group_table.find(group); it != table_.subscription_group_table.end())
    return std::optional<model::SubscriptionGroupConfig>(it->second);
  if (!auto_create_ && group.rfind("CID_RMQ_SYS_", 0) != 0)
    return std::optional<model::SubscriptionGroupConfig>();
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(group));
  model::SubscriptionGroupConfig g;
  g.group_name = group;
  table_.subscription_group_table[group] = g;
  BumpVersionLocked();
  FMQ_RETURN_IF_ERROR(PersistLocked());
  GetLogger("server")->info("auto-created subscription group={}", group);
  return std::optional<model::SubscriptionGroupConfig>(g);
}

Status SubscriptionGroupManager::Upsert(const model::SubscriptionGroupConfig& config) {
  FMQ_RETURN_IF_ERROR(model::ValidateGroupName(config.group_name));
  MutexLock lock(&mu_);
  table_.subscription_group_table[config.group_name] = config;
  BumpVersionLocked();
  return PersistLocked();
}

Status SubscriptionGroupManager::Delete(const std::string& group) {
  MutexLock lock(&mu_);
  if (table_.subscription_group_table.erase(group) == 0) return Status::Ok();
  BumpVersionLocked();
  return PersistLocked();
}

Result<bool> SubscriptionGroupManager::ReplaceAll(const model::SubscriptionGroupWrapper& master) {
  MutexLock lock(&mu_);
  if (table_.data_version == master.data_version) return false;
  table_ = master;
  FMQ_RETURN_IF_ERROR(PersistLocked());
  return true;
}

model::SubscriptionGroupWrapper SubscriptionGroupManager::Snapshot() const {
  MutexLock lock(&mu_);
  return table_;
}

}  // namespace fmq::server
