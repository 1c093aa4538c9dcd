#include "broker/store/store_config.h"

#include <charconv>
#include <functional>
#include <sstream>

#include "broker/base/properties.h"
#include "broker/io/file_system.h"

namespace fmq::store {
namespace {

using fmq::ParsePropertyBool;
using fmq::ParsePropertyNumber;

Status ParseRatio(const std::string& key, const std::string& value, double* out) {
  try {
    size_t used = 0;
    double v = std::stod(value, &used);
    if (used != value.size()) throw std::invalid_argument(value);
    *out = v;
    return Status::Ok();
  } catch (const std::exception&) {
    return Status::InvalidArgument("config key " + key + ": '" + value + "' is not a number");
  }
}

}  // namespace

std::string MessageStoreConfig::CommitLogDir() const {
  return store_path_commit_log.empty() ? io::JoinPath(store_path_root_dir, "commitlog")
                                       : store_path_commit_log;
}
std::string MessageStoreConfig::ConsumeQueueDir() const {
  return io::JoinPath(store_path_root_dir, "consumequeue");
}
std::string MessageStoreConfig::IndexDir() const { return io::JoinPath(store_path_root_dir, "index"); }
std::string MessageStoreConfig::CheckpointPath() const {
  return io::JoinPath(store_path_root_dir, "checkpoint");
}
std::string MessageStoreConfig::AbortPath() const { return io::JoinPath(store_path_root_dir, "abort"); }
std::string MessageStoreConfig::LockPath() const { return io::JoinPath(store_path_root_dir, "lock"); }
std::string MessageStoreConfig::EpochHistoryPath() const {
  return io::JoinPath(store_path_root_dir, "epochs.json");
}

std::string MessageStoreConfig::IdentityPath() const {
  return io::JoinPath(store_path_root_dir, "ferrymq-identity.json");
}

std::vector<int> MessageStoreConfig::DeleteWhenHours() const {
  std::vector<int> hours;
  std::stringstream ss(delete_when);
  std::string part;
  while (std::getline(ss, part, ';')) {
    int h = -1;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), h);
    if (ec == std::errc() && ptr == part.data() + part.size() && h >= 0 && h < 24) hours.push_back(h);
  }
  return hours;
}

Status MessageStoreConfig::Validate() const {
  auto bad = [](std::string m) { return Status::InvalidArgument("store config: " + m); };
  if (store_path_root_dir.empty()) return bad("storePathRootDir must not be empty");
  if (cluster_name.empty() || broker_name.empty()) return bad("brokerClusterName and brokerName must be set");
  if (mapped_file_size_commit_log < 64 * 1024 || mapped_file_size_commit_log % io::kPageSize != 0) {
    return bad("mappedFileSizeCommitLog must be a multiple of 4096 and at least 65536, got " +
               std::to_string(mapped_file_size_commit_log));
  }
  if (mapped_file_size_consume_queue < 20 * 16 || mapped_file_size_consume_queue % 20 != 0) {
    return bad("mappedFileSizeConsumeQueue must be a multiple of 20 (one entry) and at least 320, got " +
               std::to_string(mapped_file_size_consume_queue));
  }
  if (max_message_size == 0) return bad("maxMessageSize must be positive");
  if (timer_precision_ms < 100 || timer_precision_ms > 60'000 || 60'000 % timer_precision_ms != 0) {
    return bad("timerPrecisionMs must divide a minute and be 100..60000, got " +
               std::to_string(timer_precision_ms));
  }
  if (timer_roll_window_slot < 60 || timer_roll_window_slot > 10'000'000) {
    return bad("timerRollWindowSlot must be 60..10000000, got " + std::to_string(timer_roll_window_slot));
  }
  if (timer_max_delay_sec <= 0 || timer_flush_interval_ms <= 0) {
    return bad("timerMaxDelaySec and timerFlushIntervalMs must be positive");
  }
  // The largest record (body + topic + properties + fixed fields with IPv6 hosts) plus the 8-byte blank
  // marker must fit in one segment.
  const uint64_t largest_record = uint64_t{max_message_size} + model::kMaxTopicLength +
                                  model::kMaxPropertiesLength + model::kFixedSizeV4 + 24 +
                                  model::kEndFileMinBlankLength;
  if (largest_record > mapped_file_size_commit_log) {
    return bad("maxMessageSize " + std::to_string(max_message_size) + " does not fit a commit-log file of " +
               std::to_string(mapped_file_size_commit_log) + " bytes (the largest record needs " +
               std::to_string(largest_record) + ")");
  }
  if (flush_consume_queue_thorough_interval_ms <= 0 || flush_commit_log_thorough_interval_ms <= 0) {
    return bad("flushConsumeQueueThoroughInterval and flushCommitLogThoroughInterval must be positive");
  }
  if (flush_interval_commit_log_ms <= 0 || flush_interval_consume_queue_ms <= 0 ||
      sync_flush_timeout_ms <= 0) {
    return bad("flush intervals and syncFlushTimeout must be positive");
  }
  if (disk_max_used_space_ratio < 10 || disk_max_used_space_ratio > 95) {
    return bad("diskMaxUsedSpaceRatio must be between 10 and 95, got " +
               std::to_string(disk_max_used_space_ratio));
  }
  for (const auto& [key, value] : {std::pair{"diskSpaceCleanForciblyRatio", disk_space_clean_forcibly_ratio},
                                   std::pair{"diskSpaceWarningLevelRatio", disk_space_warning_level_ratio}}) {
    if (!(value > 0 && value <= 1)) {
      std::ostringstream m;
      m << key << " must be a fraction of the disk in (0, 1], e.g. 0.9; got " << value;
      return bad(m.str());
    }
  }
  if (file_reserved_time_hours <= 0) return bad("fileReservedTime must be positive (hours)");
  if (clean_resource_interval_ms <= 0) return bad("cleanResourceInterval must be positive");
  if (max_hash_slot_num <= 0 || max_index_num <= 0)
    return bad("maxHashSlotNum and maxIndexNum must be positive");
  if (flush_delay_offset_interval_ms <= 0) return bad("flushDelayOffsetInterval must be positive (ms)");
  if (auto levels = model::DelayLevels::Parse(message_delay_level); !levels.ok())
    return bad(std::string(levels.status().message()));
  if (DeleteWhenHours().empty()) return bad("deleteWhen '" + delete_when + "' names no hour 0-23");
  return Status::Ok();
}

Status MessageStoreConfig::ApplyProperty(const std::string& key, const std::string& value) {
  using Setter = std::function<Status(const std::string&)>;
  auto str = [&](std::string* f) -> Setter {
    return [f](const std::string& v) {
      *f = v;
      return Status::Ok();
    };
  };
  auto num = [&](auto* f) -> Setter {
    return [f, key](const std::string& v) { return ParsePropertyNumber(key, v, f); };
  };
  auto boolean = [&](bool* f) -> Setter {
    return [f, key](const std::string& v) { return ParsePropertyBool(key, v, f); };
  };
  auto ratio = [&](double* f) -> Setter {
    return [f, key](const std::string& v) { return ParseRatio(key, v, f); };
  };
  const std::map<std::string, Setter> setters = {
      {"storePathRootDir", str(&store_path_root_dir)},
      {"storePathCommitLog", str(&store_path_commit_log)},
      {"brokerClusterName", str(&cluster_name)},
      {"brokerName", str(&broker_name)},
      {"mappedFileSizeCommitLog", num(&mapped_file_size_commit_log)},
      {"mappedFileSizeConsumeQueue", num(&mapped_file_size_consume_queue)},
      {"flushDiskType",
       [this, key](const std::string& v) {
         if (v == "ASYNC_FLUSH") {
           flush_disk_type = FlushDiskType::kAsync;
         } else if (v == "SYNC_FLUSH") {
           flush_disk_type = FlushDiskType::kSync;
         } else {
           return Status::InvalidArgument("config key flushDiskType: '" + v +
                                          "' is not ASYNC_FLUSH or SYNC_FLUSH");
         }
         return Status::Ok();
       }},
      {"flushIntervalCommitLog", num(&flush_interval_commit_log_ms)},
      {"flushCommitLogLeastPages", num(&flush_commit_log_least_pages)},
      {"flushCommitLogThoroughInterval", num(&flush_commit_log_thorough_interval_ms)},
      {"flushIntervalConsumeQueue", num(&flush_interval_consume_queue_ms)},
      {"flushConsumeQueueLeastPages", num(&flush_consume_queue_least_pages)},
      {"flushConsumeQueueThoroughInterval", num(&flush_consume_queue_thorough_interval_ms)},
      {"syncFlushTimeout", num(&sync_flush_timeout_ms)},
      {"maxMessageSize", num(&max_message_size)},
      {"timerWheelEnable", boolean(&timer_wheel_enable)},
      {"timerPrecisionMs", num(&timer_precision_ms)},
      {"timerRollWindowSlot", num(&timer_roll_window_slot)},
      {"timerMaxDelaySec", num(&timer_max_delay_sec)},
      {"timerFlushIntervalMs", num(&timer_flush_interval_ms)},
      {"checkCRCOnRecover", boolean(&check_crc_on_recover)},
      {"deleteWhen", str(&delete_when)},
      {"fileReservedTime", num(&file_reserved_time_hours)},
      {"diskMaxUsedSpaceRatio", num(&disk_max_used_space_ratio)},
      {"diskSpaceCleanForciblyRatio", ratio(&disk_space_clean_forcibly_ratio)},
      {"diskSpaceWarningLevelRatio", ratio(&disk_space_warning_level_ratio)},
      {"cleanFileForciblyEnable", boolean(&clean_file_forcibly_enable)},
      {"cleanResourceInterval", num(&clean_resource_interval_ms)},
      {"messageIndexEnable", boolean(&message_index_enable)},
      {"maxHashSlotNum", num(&max_hash_slot_num)},
      {"maxIndexNum", num(&max_index_num)},
      {"defaultQueryMaxNum", num(&default_query_max_num)},
      {"warmMapedFileEnable", boolean(&warm_mapped_file_enable)},  // RocketMQ's spelling
      {"warmMappedFileEnable", boolean(&warm_mapped_file_enable)},
      {"messageDelayLevel", str(&message_delay_level)},
      {"flushDelayOffsetInterval", num(&flush_delay_offset_interval_ms)},
      {"maxTransferBytesOnMessageInMemory", num(&max_transfer_bytes_on_message_in_memory)},
      {"maxTransferCountOnMessageInMemory", num(&max_transfer_count_on_message_in_memory)},
  };
  auto it = setters.find(key);
  if (it == setters.end()) return Status::NotFound("not a store key: " + key);
  return it->second(value);
}

std::map<std::string, std::string> MessageStoreConfig::ToProperties() const {
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  return {{"storePathRootDir", store_path_root_dir},
          {"storePathCommitLog", CommitLogDir()},
          {"mappedFileSizeCommitLog", std::to_string(mapped_file_size_commit_log)},
          {"mappedFileSizeConsumeQueue", std::to_string(mapped_file_size_consume_queue)},
          {"flushDiskType", flush_disk_type == FlushDiskType::kSync ? "SYNC_FLUSH" : "ASYNC_FLUSH"},
          {"flushIntervalCommitLog", std::to_string(flush_interval_commit_log_ms)},
          {"flushCommitLogLeastPages", std::to_string(flush_commit_log_least_pages)},
          {"syncFlushTimeout", std::to_string(sync_flush_timeout_ms)},
          {"maxMessageSize", std::to_string(max_message_size)},
          {"deleteWhen", delete_when},
          {"fileReservedTime", std::to_string(file_reserved_time_hours)},
          {"diskMaxUsedSpaceRatio", std::to_string(static_cast<int>(disk_max_used_space_ratio * 100))},
          {"messageIndexEnable", b(message_index_enable)},
          {"warmMappedFileEnable", b(warm_mapped_file_enable)},
          {"messageDelayLevel", message_delay_level},
          {"timerWheelEnable", b(timer_wheel_enable)},
          {"timerPrecisionMs", std::to_string(timer_precision_ms)},
          {"timerRollWindowSlot", std::to_string(timer_roll_window_slot)},
          {"timerMaxDelaySec", std::to_string(timer_max_delay_sec)},
          {"timerFlushIntervalMs", std::to_string(timer_flush_interval_ms)}};
}

std::string MessageStoreConfig::ToString() const {
  std::ostringstream os;
  os << "storePathRootDir=" << store_path_root_dir << " storePathCommitLog=" << CommitLogDir()
     << " brokerClusterName=" << cluster_name << " brokerName=" << broker_name
     << " storeHost=" << store_host.ToString() << " mappedFileSizeCommitLog=" << mapped_file_size_commit_log
     << " mappedFileSizeConsumeQueue=" << mapped_file_size_consume_queue
     << " flushDiskType=" << (flush_disk_type == FlushDiskType::kSync ? "SYNC_FLUSH" : "ASYNC_FLUSH")
     << " flushIntervalCommitLog=" << flush_interval_commit_log_ms
     << " flushCommitLogLeastPages=" << flush_commit_log_least_pages
     << " syncFlushTimeout=" << sync_flush_timeout_ms << " maxMessageSize=" << max_message_size
     << " deleteWhen=" << delete_when << " fileReservedTime=" << file_reserved_time_hours
     << " diskMaxUsedSpaceRatio=" << disk_max_used_space_ratio
     << " diskSpaceCleanForciblyRatio=" << disk_space_clean_forcibly_ratio
     << " diskSpaceWarningLevelRatio=" << disk_space_warning_level_ratio
     << " messageIndexEnable=" << (message_index_enable ? "true" : "false")
     << " warmMappedFileEnable=" << (warm_mapped_file_enable ? "true" : "false")
     << " messageDelayLevel=" << message_delay_level;
  return os.str();
}

}  // namespace fmq::store
