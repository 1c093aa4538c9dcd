#pragma once

// Timer messages (RocketMQ 5's TimerMessageStore, for 4.x clients; docs/formats/timer.md has the design and
// the no-loss, no-duplicate argument).
//
// A send with TIMER_DELIVER_MS, TIMER_DELAY_SEC or TIMER_DELAY_MS in the future (no delay level; transaction
// type none or commit) is stored in rmq_sys_wheel_timer queue 0 with TIMER_OUT_MS (the due time rounded up
// to timerPrecisionMs) and its real topic and queue in REAL_TOPIC / REAL_QID (ApplyTimer); the store indexes
// it with TIMER_OUT_MS as the consume-queue tag code. This service links each entry into a store::TimerWheel
// and, every precision, stores the due ones again under their real topic and queue (TimerTimeUp) with
// TIMER_SRC, the commit-log offset of the timer record, which is how a restart recognises what it delivered.
// Entries due beyond the wheel's window are rolled: stored again in rmq_sys_wheel_timer (a fresh record that
// carries TIMER_SRC too) when the window reaches them.
//
// Progress lives in <dir>/checkpoint.json, written every timerFlushIntervalMs after a complete pass, and the
// wheel is rebuilt from the consume queue at every start (Load).
//
// Only a writable master delivers (`may_deliver`); when a broker becomes one (start, promotion) it rebuilds
// first. A promoted slave has no checkpoint of its own and scans the whole commit log for deliveries.
//
// Created by the broker's composition root; everything it references outlives it.
// Thread-safety: Load/RunOnce/Persist from one thread at a time (the service thread once started);
// RuntimeStats from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>

#include "broker/base/clock.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/message.h"
#include "broker/store/message_store.h"
#include "broker/store/store_config.h"
#include "broker/store/timer_wheel.h"

namespace fmq::server {

// Moves a message with timer properties to rmq_sys_wheel_timer (RocketMQ 5's
// HookUtils.transformTimerMessage): a delay level wins (the timer properties are dropped); a time not in the
// future leaves the message as it is (delivered at once). InvalidArgument (nothing changed) for a malformed
// time, a time further ahead than timerMaxDelaySec, or timers turned off (timerWheelEnable=false).
Status ApplyTimer(const store::MessageStoreConfig& config, int64_t now_ms, model::StoredMessage* msg);

// The message a due timer record becomes: its real topic and queue, REAL_TOPIC / REAL_QID removed,
// TIMER_ENQUEUE_MS (the record's store time), TIMER_DEQUEUE_MS (`now_ms`) and TIMER_SRC (`source`) set.
// InvalidArgument when REAL_TOPIC or REAL_QID is missing or malformed.
Result<model::StoredMessage> TimerTimeUp(const model::StoredMessage& timer, PhysicalOffset source,
                                         int64_t now_ms);

class TimerMessageService : public ServiceThread {
 public:
  struct Options {
    std::string dir;  // <storePathRootDir>/timer
    int64_t precision_ms = 1000;
    int64_t slots = 3600 * 24 * 2;
    int64_t flush_interval_ms = 1000;
  };
  // `may_deliver`: whether this broker is a writable master now.
  TimerMessageService(Options options, store::MessageStore& store, io::FileSystem& fs, const Clock& clock,
                      std::function<bool()> may_deliver);
  ~TimerMessageService() override;

  // Reads the checkpoint (absent: nothing known delivered, so the whole commit log is scanned for
  // deliveries), rebuilds the wheel from the consume queue and collects the deliveries since the checkpoint.
  // `trust_checkpoint` false ignores the file (a promoted slave's is not its own).
  Status Load(bool trust_checkpoint = true);
  // Links what the consume queue gained and delivers every due slot. Returns how many messages it stored
  // (delivered or rolled). Stops at the first put the store refuses, to retry later.
  int RunOnce();
  // Writes the checkpoint if the last RunOnce completed.
  Status Persist();

  int64_t pending() const { return pending_.load(std::memory_order_relaxed); }
  int64_t delivered_total() const { return delivered_total_.load(std::memory_order_relaxed); }
  // "timerPending", "timerDelivered", "timerDequeueSlotMs" (runtime info).
  std::map<std::string, std::string> RuntimeStats() const;

 protected:
  void Run() override;

 private:
  struct Checkpoint {
    int64_t dequeue_slot_ms = 0;
    int64_t enqueue_offset = 0;
    int64_t low_water = 0;
    int64_t scan_from = 0;
  };
  // Links (or delivers, when already due) consume-queue entries from the wheel's next offset. False when a
  // put failed.
  bool Enqueue();
  bool DeliverSlot(int64_t slot_ms);
  // Stores the timer record at `offset` again: under its real topic (due) or as a rolled timer record.
  // Rolled instead when its own slot time is after `slot_ms`. False when the store refused the put.
  bool Fire(const store::CqEntry& entry, int64_t slot_ms, int64_t now);
  int64_t Now() const { return clock_.NowMillis(); }
  int64_t Floor(int64_t ms) const { return ms / options_.precision_ms * options_.precision_ms; }

  const Options options_;
  store::MessageStore& store_;
  io::FileSystem& fs_;
  const Clock& clock_;
  const std::function<bool()> may_deliver_;
  store::TimerWheel wheel_;
  bool loaded_ = false;
  bool complete_ = false;        // the last RunOnce delivered everything due
  int64_t dequeue_slot_ms_ = 0;  // the next slot to deliver
  // Entries below this offset with a slot time before `known_delivered_before_ms_` were delivered before
  // the checkpoint this run started from.
  int64_t known_offset_ = 0;
  int64_t known_delivered_before_ms_ = 0;
  std::unordered_set<int64_t> delivered_;  // timer records stored again since the checkpoint (TIMER_SRC)
  bool rebuilding_ = false;
  int64_t load_started_ms_ = 0;
  int64_t rebuild_until_ = 0;
  int64_t last_persist_ms_ = 0;
  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> delivered_total_{0};
  std::atomic<int64_t> dequeue_progress_{0};
  int fired_ = 0;
};

}  // namespace fmq::server
