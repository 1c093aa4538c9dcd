#pragma once

// MessageStoreConfig: every knob of the storage engine, with RocketMQ's defaults and property keys
// (MessageStoreConfig.java; protocol reference section 13) so existing broker.conf files load.
// Each field says what it trades off. Validate() runs before the store opens.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/model/delay.h"
#include "broker/model/message.h"

namespace fmq::store {

enum class FlushDiskType {
  kAsync,  // ASYNC_FLUSH: acknowledge after the append; a background thread flushes. Fast; loses the
           // unflushed tail on power loss.
  kSync,   // SYNC_FLUSH: acknowledge after group commit (one fdatasync for many waiters). No loss of
           // acknowledged data.
};

struct MessageStoreConfig {
  // storePathRootDir: root of the store (commitlog/, consumequeue/, index/, checkpoint, abort, lock).
  std::string store_path_root_dir = "store";
  // storePathCommitLog: commit-log directory; empty = <root>/commitlog.
  std::string store_path_commit_log;

  // Identity the store records and checks on every open (brokerClusterName / brokerName).
  std::string cluster_name = "DefaultCluster";
  std::string broker_name = "broker-a";
  // Address written as STOREHOST into every record (the broker's own ip:listenPort).
  model::HostAddress store_host = model::HostAddress::V4(127, 0, 0, 1, 10911);

  // mappedFileSizeCommitLog: bigger files mean fewer rolls; retention deletes whole files, so smaller files
  // free space in finer steps.
  uint64_t mapped_file_size_commit_log = uint64_t{1} << 30;
  // mappedFileSizeConsumeQueue: 300 000 entries of 20 bytes.
  uint64_t mapped_file_size_consume_queue = 300'000 * 20;

  FlushDiskType flush_disk_type = FlushDiskType::kAsync;
  // flushIntervalCommitLog / flushCommitLogLeastPages / flushCommitLogThoroughInterval (async flush): a
  // shorter interval or fewer pages bound the loss window at the cost of more fdatasync calls.
  int flush_interval_commit_log_ms = 500;
  int flush_commit_log_least_pages = 4;
  int flush_commit_log_thorough_interval_ms = 10'000;
  // flushIntervalConsumeQueue / flushConsumeQueueLeastPages / flushConsumeQueueThoroughInterval.
  int flush_interval_consume_queue_ms = 1'000;
  int flush_consume_queue_least_pages = 2;
  int flush_consume_queue_thorough_interval_ms = 60'000;
  // syncFlushTimeout: how long a SYNC_FLUSH send waits for its group commit before FLUSH_DISK_TIMEOUT.
  int sync_flush_timeout_ms = 5'000;

  // Timer messages (RocketMQ 5's keys, docs/formats/timer.md). timerWheelEnable off refuses TIMER_* sends.
  // timerPrecisionMs: delivery granularity (a timer is delivered at most this much after it is due; finer
  // costs more slots). timerRollWindowSlot: slots in the wheel (window = slots x precision; timers further
  // ahead are re-stored when the window reaches them, so the window must stay shorter than fileReservedTime).
  // timerMaxDelaySec: the furthest a timer may be set ahead. timerFlushIntervalMs: how often progress is
  // saved (a crash re-examines at most this much delivery work, without delivering anything twice).
  bool timer_wheel_enable = true;
  int64_t timer_precision_ms = 1000;
  int64_t timer_roll_window_slot = 3600 * 24 * 2;
  int64_t timer_max_delay_sec = 3600 * 24 * 3;
  int64_t timer_flush_interval_ms = 1000;

  // maxMessageSize: largest body accepted (bytes). Bigger bodies cost memory per in-flight request.
  uint32_t max_message_size = 4 * 1024 * 1024;
  // checkCRCOnRecover: verify body CRCs while recovering (slower start, never resurrects a torn record).
  bool check_crc_on_recover = true;

  // Retention. deleteWhen: hours of day (";"-separated) at which expired files are deleted.
  std::string delete_when = "04";
  // fileReservedTime: hours a commit-log file is kept after its last write.
  int file_reserved_time_hours = 72;
  // diskMaxUsedSpaceRatio (%): above this, expired files are deleted at any hour.
  int disk_max_used_space_ratio = 75;
  // Above this fraction files are deleted regardless of age (if clean_file_forcibly_enable).
  double disk_space_clean_forcibly_ratio = 0.85;
  // Above this fraction the store refuses writes ("disk full", response code 14) until usage drops.
  double disk_space_warning_level_ratio = 0.90;
  bool clean_file_forcibly_enable = true;
  // cleanResourceInterval: how often retention and the disk check run.
  int clean_resource_interval_ms = 10'000;
  // Files deleted per retention round at most (spreads the unlink cost).
  int delete_files_batch_max = 10;

  // Index of message keys and unique keys (messageIndexEnable, maxHashSlotNum, maxIndexNum).
  bool message_index_enable = true;
  int max_hash_slot_num = 5'000'000;
  int max_index_num = 20'000'000;
  // defaultQueryMaxNum: results of a key query when the caller does not say.
  int default_query_max_num = 32;

  // warmMappedFileEnable (ASYNC_FLUSH): pre-touch each new commit-log file in the background allocator, so
  // appends (then a memcpy into the mapping) never take a page fault; when off, appends use pwrite. Off by
  // default, as in RocketMQ: on the VMs measured here a fault costs ~10 us, so touching a 1 GiB file takes
  // 3-9 s of a core at every roll and writes the zeros back to disk, more than the faults cost spread over
  // the appends. SYNC_FLUSH always pre-writes zeros (positional writes then sync without block-allocation
  // metadata, 2.4x faster group commit, bench/README.md).
  bool warm_mapped_file_enable = false;

  // messageDelayLevel: the delay of each level of SCHEDULE_TOPIC_XXXX (model/delay.h). The store computes a
  // delayed message's due time from it when it indexes the message.
  std::string message_delay_level = model::kDefaultMessageDelayLevel;
  // flushDelayOffsetInterval: how often the broker writes delay progress (delayOffset.json).
  int flush_delay_offset_interval_ms = 10'000;

  // Pull batch limits (maxTransferBytesOnMessageInMemory / maxTransferCountOnMessageInMemory).
  int max_transfer_bytes_on_message_in_memory = 256 * 1024;
  int max_transfer_count_on_message_in_memory = 32;

  std::string CommitLogDir() const;
  std::string ConsumeQueueDir() const;
  std::string IndexDir() const;
  std::string CheckpointPath() const;
  std::string AbortPath() const;
  std::string LockPath() const;
  std::string IdentityPath() const;
  std::string EpochHistoryPath() const;
  std::vector<int> DeleteWhenHours() const;

  Status Validate() const;
  // Applies one RocketMQ property (e.g. "flushDiskType"="SYNC_FLUSH"). NotFound for keys the store does not
  // own (the caller decides whether they belong to another component); InvalidArgument for bad values.
  Status ApplyProperty(const std::string& key, const std::string& value);
  // Effective configuration as key=value lines (logged once at start).
  std::string ToString() const;
  // The same as RocketMQ's property keys and values (GET_BROKER_CONFIG).
  std::map<std::string, std::string> ToProperties() const;
};

}  // namespace fmq::store
