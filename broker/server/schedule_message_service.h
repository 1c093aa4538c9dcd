#pragma once

// Delay levels (RocketMQ's ScheduleMessageService).
//
// A send with DELAY=n > 0 (and no transaction, or a commit) is stored in SCHEDULE_TOPIC_XXXX queue n-1 with
// its real topic and queue in REAL_TOPIC / REAL_QID (ApplyDelayLevel); the store indexes it with the time it
// is due as the consume-queue tag code (model/delay.h). This service walks each level's queue from its
// progress offset and, for every entry that is due, stores the message again under its real topic and queue
// (MessageTimeUp): the same body, properties (DELAY and REAL_TOPIC / REAL_QID included, as Apache's delivered
// messages carry them), born time and host, reconsume count, and a new
// store time. An entry due further ahead than its level's delay (the clock went back, or the table changed)
// is delivered at once, as RocketMQ does.
//
// Progress (level -> next queue offset to deliver) lives in <storePathRootDir>/config/delayOffset.json,
// written every flushDelayOffsetInterval and at Stop(); it is also GET_ALL_DELAY_OFFSET's answer, which a
// slave copies. Only progress whose delivered copies replication has confirmed is written or reported (the
// confirm offset, ha/), so a slave promoted after a failover never skips a delayed message whose delivered
// copy the old master took with it: it delivers such a message once more instead (at least once).
//
// Only a writable master delivers (`may_deliver`); a slave keeps the copied table.
//
// Created by the broker's composition root; everything it references outlives it.
// Thread-safety: every public method is safe to call concurrently with the service thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"
#include "broker/base/service_thread.h"
#include "broker/base/status.h"
#include "broker/io/file_system.h"
#include "broker/model/delay.h"
#include "broker/model/message.h"
#include "broker/store/message_store.h"

namespace fmq::server {

// Moves a message with DELAY > 0 (transaction type none or commit) to SCHEDULE_TOPIC_XXXX, queue level-1,
// keeping its topic and queue in REAL_TOPIC / REAL_QID and clamping DELAY to the last level (RocketMQ's
// CommitLog.asyncPutMessage). InvalidArgument when DELAY is not an integer; the message is unchanged then.
Status ApplyDelayLevel(const model::DelayLevels& levels, model::StoredMessage* msg);

// The message a due entry of SCHEDULE_TOPIC_XXXX becomes: its real topic and queue, properties unchanged.
// InvalidArgument when REAL_TOPIC or REAL_QID is missing or malformed.
Result<model::StoredMessage> MessageTimeUp(const model::StoredMessage& scheduled);

class ScheduleMessageService : public ServiceThread {
 public:
  struct Options {
    std::string offsets_path;                          // delayOffset.json
    std::chrono::milliseconds flush_interval{10'000};  // flushDelayOffsetInterval
    std::chrono::milliseconds poll_interval{100};      // how often each level is looked at
  };
  // `may_deliver`: whether this broker is a writable master now (checked before every delivery).
  ScheduleMessageService(Options options, store::MessageStore& store, io::FileSystem& fs, const Clock& clock,
                         std::function<bool()> may_deliver);
  ~ScheduleMessageService() override;

  // Reads delayOffset.json (absent: every level at 0) and moves each offset into its queue's range.
  Status Load() FMQ_EXCLUDES(mu_);
  // Writes the confirmed progress to delayOffset.json (when it changed).
  Status Persist() FMQ_EXCLUDES(mu_);

  // One round over every level: delivers what is due. Returns how many messages it delivered.
  int DeliverDue() FMQ_EXCLUDES(mu_);

  // Confirmed progress per level (GET_ALL_DELAY_OFFSET, delayOffset.json).
  std::map<int32_t, int64_t> OffsetTable() FMQ_EXCLUDES(mu_);
  // A slave's copy of its master's table (SlaveSynchronizer); ignored while this broker delivers.
  Status ReplaceFromMaster(const std::string& json) FMQ_EXCLUDES(mu_);
  // "scheduleMessageOffset_<level>" -> "<delivered>,<max offset>" (runtime info, as RocketMQ reports it).
  std::map<std::string, std::string> RuntimeStats() FMQ_EXCLUDES(mu_);

  const model::DelayLevels& levels() const { return levels_; }

 protected:
  void Run() override;

 private:
  struct Level {
    int64_t delivered = 0;  // next queue offset to look at
    int64_t confirmed = 0;  // next queue offset whose predecessors' deliveries are confirmed
    // (next offset, end of the delivered copy in the commit log) not confirmed yet, oldest first.
    std::deque<std::pair<int64_t, int64_t>> unconfirmed;
  };
  // Moves `confirmed` on past deliveries the confirm offset covers.
  void ConfirmLocked() FMQ_REQUIRES(mu_);
  int DeliverLevel(int level) FMQ_EXCLUDES(mu_);
  void CorrectLocked() FMQ_REQUIRES(mu_);

  const Options options_;
  store::MessageStore& store_;
  io::FileSystem& fs_;
  const Clock& clock_;
  const std::function<bool()> may_deliver_;
  const model::DelayLevels levels_;
  Mutex mu_;
  std::map<int32_t, Level> table_ FMQ_GUARDED_BY(mu_);
  std::string persisted_ FMQ_GUARDED_BY(mu_);  // what delayOffset.json holds
};

}  // namespace fmq::server
