#include "broker/server/consumer_offset_manager.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "broker/model/admin_body.h"

namespace fmq::server {

namespace {
std::string Key(const std::string& topic, const std::string& group) { return topic + "@" + group; }
}  // namespace

ConsumerOffsetManager::ConsumerOffsetManager(io::FileSystem& fs, std::string path)
    : fs_(fs), path_(std::move(path)) {}

namespace {
// {"offsetTable":{"topic@group":{"0":12,...}}} (fastjson's unquoted queue ids accepted) -> table.
Result<std::map<std::string, std::map<int32_t, int64_t>>> ParseOffsetTable(const std::string& text) {
  auto normal = model::NormalizeFastjson(text);
  auto j = nlohmann::json::parse(normal.ok() ? *normal : text, nullptr, false);
  if (!j.is_object() || !j.contains("offsetTable") || !j["offsetTable"].is_object()) {
    return Status::InvalidArgument("not {\"offsetTable\":{...}}");
  }
  std::map<std::string, std::map<int32_t, int64_t>> table;
  for (const auto& [key, queues] : j["offsetTable"].items()) {
    if (!queues.is_object()) continue;
    for (const auto& [qid_text, offset] : queues.items()) {
      int32_t qid = 0;
      auto [p, ec] = std::from_chars(qid_text.data(), qid_text.data() + qid_text.size(), qid);
      if (ec != std::errc() || p != qid_text.data() + qid_text.size() || !offset.is_number_integer())
        continue;
      table[key][qid] = offset.get<int64_t>();
    }
  }
  return table;
}
}  // namespace

Status ConsumerOffsetManager::Load() {
  MutexLock lock(&mu_);
  if (!fs_.Exists(path_)) return Status::Ok();
  FMQ_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs_, path_));
  auto table = ParseOffsetTable(text);
  if (!table.ok()) {
    return Status::Corruption(path_ +
                              " is not {\"offsetTable\":{...}}; restore it from a backup or remove it "
                              "(consumers then start from their consumeFromWhere setting)");
  }
  for (auto& [key, queues] : *table) {
    for (auto& [qid, offset] : queues) table_[key][qid] = offset;
  }
  return Status::Ok();
}

Status ConsumerOffsetManager::MergeAll(const std::string& json) {
  FMQ_ASSIGN_OR_RETURN(auto table, ParseOffsetTable(json));
  MutexLock lock(&mu_);
  for (auto& [key, queues] : table) {
    for (auto& [qid, offset] : queues) table_[key][qid] = offset;
  }
  dirty_ = true;
  return Status::Ok();
}

std::string ConsumerOffsetManager::EncodeLocked() const {
  nlohmann::json table = nlohmann::json::object();
  for (const auto& [key, queues] : table_) {
    nlohmann::json q = nlohmann::json::object();
    for (const auto& [qid, offset] : queues) q[std::to_string(qid)] = offset;
    table[key] = q;
  }
  return nlohmann::json({{"offsetTable", table}}).dump();
}

Status ConsumerOffsetManager::Persist() {
  MutexLock lock(&mu_);
  if (!dirty_ && fs_.Exists(path_)) return Status::Ok();
  FMQ_RETURN_IF_ERROR(fs_.CreateDirs(io::DirName(path_)));
  FMQ_RETURN_IF_ERROR(io::WriteFileAtomically(fs_, path_, EncodeLocked()));
  dirty_ = false;
  return Status::Ok();
}

void ConsumerOffsetManager::Commit(const std::string& group, const std::string& topic, int32_t queue_id,
                                   int64_t offset) {
  MutexLock lock(&mu_);
  table_[Key(topic, group)][queue_id] = offset;
  dirty_ = true;
}

std::optional<int64_t> ConsumerOffsetManager::Query(const std::string& group, const std::string& topic,
                                                    int32_t queue_id) const {
  MutexLock lock(&mu_);
  auto t = table_.find(Key(topic, group));
  if (t == table_.end()) return std::nullopt;
  auto q = t->second.find(queue_id);
  if (q == t->second.end()) return std::nullopt;
  return q->second;
}

std::map<int32_t, int64_t> ConsumerOffsetManager::QueryAll(const std::string& group,
                                                           const std::string& topic) const {
  MutexLock lock(&mu_);
  auto t = table_.find(Key(topic, group));
  return t == table_.end() ? std::map<int32_t, int64_t>() : t->second;
}

std::set<std::string> ConsumerOffsetManager::TopicsOfGroup(const std::string& group) const {
  MutexLock lock(&mu_);
  std::set<std::string> out;
  const std::string suffix = "@" + group;
  for (const auto& [key, queues] : table_) {
    if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.insert(key.substr(0, key.size() - suffix.size()));
  }
  return out;
}

std::set<std::string> ConsumerOffsetManager::GroupsOfTopic(const std::string& topic) const {
  MutexLock lock(&mu_);
  std::set<std::string> out;
  const std::string prefix = topic + "@";
  for (auto it = table_.lower_bound(prefix); it != table_.end() && it->first.rfind(prefix, 0) == 0; ++it)
    out.insert(it->first.substr(prefix.size()));
  return out;
}

std::map<std::string, std::map<std::string, std::map<int32_t, int64_t>>> ConsumerOffsetManager::ByTopic()
    const {
  MutexLock lock(&mu_);
  std::map<std::string, std::map<std::string, std::map<int32_t, int64_t>>> out;
  for (const auto& [key, offsets] : table_) {
    const size_t at = key.find('@');  // names cannot hold '@' (model/names.h)
    if (at == std::string::npos) continue;
    out[key.substr(0, at)][key.substr(at + 1)] = offsets;
  }
  return out;
}

void ConsumerOffsetManager::RemoveGroup(const std::string& group) {
  MutexLock lock(&mu_);
  const std::string suffix = "@" + group;
  for (auto it = table_.begin(); it != table_.end();) {
    const std::string& key = it->first;
    if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      it = table_.erase(it);
      dirty_ = true;
    } else {
      ++it;
    }
  }
}

std::string ConsumerOffsetManager::EncodeAll() const {
  MutexLock lock(&mu_);
  return EncodeLocked();
}

}  // namespace fmq::server
