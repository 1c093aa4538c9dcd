#pragma once

// StoreCheckpoint: the `checkpoint` file (protocol reference 6.8; docs/formats/checkpoint.md). Three int64
// store timestamps at offsets 0, 8 and 16 of a 4 KiB file: the newest message known durable in the commit log
// (physic), in every consume queue (logics) and in the index (index). Abnormal recovery re-dispatches from
// the commit-log file whose first message is older than all three, so anything after them is rebuilt.
//
// Thread-safety: setters and Flush() may be called from different service threads (atomics + a flush mutex).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/base/mutex.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::store {

class StoreCheckpoint {
 public:
  static constexpr size_t kFileSize = 4096;
  static constexpr size_t kPhysicPos = 0;
  static constexpr size_t kLogicsPos = 8;
  static constexpr size_t kIndexPos = 16;

  // Opens (creating if missing) the checkpoint at `path` and reads its values (0 for a new file).
  static Result<std::unique_ptr<StoreCheckpoint>> Open(io::FileSystem& fs, const std::string& path);

  int64_t physic_msg_timestamp() const { return physic_.load(); }
  int64_t logics_msg_timestamp() const { return logics_.load(); }
  int64_t index_msg_timestamp() const { return index_.load(); }
  void set_physic_msg_timestamp(int64_t v) { physic_.store(v); }
  void set_logics_msg_timestamp(int64_t v) { logics_.store(v); }
  void set_index_msg_timestamp(int64_t v) { index_.store(v); }

  // The timestamp before which everything is durable everywhere: min of the three (the index only when it is
  // enabled, so it is always rebuilt completely after a crash).
  int64_t MinTimestamp(bool include_index) const;

  // Writes the three values and syncs the file.
  Status Flush() FMQ_EXCLUDES(mu_);

 private:
  explicit StoreCheckpoint(std::unique_ptr<io::File> file) : file_(std::move(file)) {}
  Mutex mu_;
  std::unique_ptr<io::File> file_ FMQ_PT_GUARDED_BY(mu_);
  std::atomic<int64_t> physic_{0};
  std::atomic<int64_t> logics_{0};
  std::atomic<int64_t> index_{0};
};

}  // namespace fmq::store
