#pragma once

// The timer wheel (docs/formats/timer.md): which consume-queue offsets of rmq_sys_wheel_timer are due in
// which slot. `slots` slots of `precision_ms` each cover a window; a slot holds one slot time at a time and
// the head of a list, linked newest to oldest through `links`: an int64 per consume-queue offset (the
// previous offset in the same slot, -1 at the end), kept in mapped files of kLinksPerFile entries under
// `dir`. The slots live in memory (32 bytes each: 5.5 MiB at the default 172800), the links in the page
// cache: memory is bounded whatever the number of pending timers.
//
// Everything here is derived from the consume queue, and TimerMessageService rebuilds it at every start, so
// nothing here needs to survive a crash: the links files are scratch.
//
// Thread-safety: none; one owner thread (the timer service's).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/io/file_system.h"

namespace fmq::store {

class TimerWheel {
 public:
  static constexpr int64_t kLinksPerFile = int64_t{1} << 20;  // 8 MiB files

  // REQUIRES: precision_ms > 0, slots > 0.
  TimerWheel(io::FileSystem& fs, std::string dir, int64_t precision_ms, int64_t slots,
             int64_t links_per_file = kLinksPerFile);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Empties the wheel and removes every links file; the next Add must be for offset `base`.
  Status Reset(int64_t base);
  // Links consume-queue offset `offset` (the next one: base, base + 1, ...) into the slot of `slot_ms`, a
  // multiple of the precision. REQUIRES: the slot is empty or already holds `slot_ms`.
  Status Add(int64_t offset, int64_t slot_ms);
  // Passes over consume-queue offset `offset` (the next one) without linking it (delivered already).
  Status Skip(int64_t offset);
  // Whether the slot of `slot_ms` may take `slot_ms` (empty, or holding that time).
  bool CanTake(int64_t slot_ms) const;
  // The offsets linked under `slot_ms`, ascending (empty when its slot holds another time or nothing).
  std::vector<int64_t> Entries(int64_t slot_ms) const;
  // Empties the slot of `slot_ms` if it holds that time.
  void Clear(int64_t slot_ms);
  // The lowest offset still linked; nullopt when the wheel is empty.
  std::optional<int64_t> LowWater() const;
  // Removes links files whose offsets are all below `offset`.
  Status DropBelow(int64_t offset);

  int64_t precision_ms() const { return precision_ms_; }
  int64_t window_ms() const { return precision_ms_ * static_cast<int64_t>(slots_.size()); }
  int64_t next_offset() const { return next_; }
  int64_t pending() const { return pending_; }
  size_t links_files() const { return files_.size(); }

 private:
  struct Slot {
    int64_t time = -1;
    int64_t last = -1;   // newest offset
    int64_t first = -1;  // oldest (lowest) offset
    int64_t count = 0;
  };
  struct LinksFile {
    std::unique_ptr<io::File> file;
    std::unique_ptr<io::Mapping> map;
  };
  size_t Index(int64_t slot_ms) const {
    return static_cast<size_t>((slot_ms / precision_ms_) % static_cast<int64_t>(slots_.size()));
  }
  std::string FileName(int64_t first) const;
  Result<int64_t*> Link(int64_t offset, bool create);
  const int64_t* FindLink(int64_t offset) const;

  io::FileSystem& fs_;
  const std::string dir_;
  const int64_t precision_ms_;
  const int64_t links_per_file_;
  std::vector<Slot> slots_;
  std::map<int64_t, LinksFile> files_;  // first offset -> file
  int64_t next_ = 0;
  int64_t pending_ = 0;
};

}  // namespace fmq::store
