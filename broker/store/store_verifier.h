#pragma once

// StoreVerifier: checks an open MessageStore end to end, for `ferrymq store verify` and for crash tests.
//  * walks the commit log record by record with CRC checks, counting messages and finding the first bad
//  offset;
//  * checks that every dispatchable message dispatch has reached (all of them unless the confirm offset holds
//    dispatch back) has its consume-queue entry (offset, size, tag code) at its queue
//    offset, and that every consume-queue entry points at a message of its topic and queue;
//  * checks that every key of every message (UNIQ_KEY and KEYS) finds the message through the index.
//
// Thread-safety: run it while nothing writes to the store.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "broker/base/ids.h"
#include "broker/store/message_store.h"

namespace fmq::store {

struct VerifyReport {
  int64_t messages = 0;
  int64_t bytes = 0;
  int64_t commit_log_files = 0;
  int64_t consume_queue_entries = 0;
  int64_t index_keys_checked = 0;
  // First commit-log offset where a record failed its checks (-1: none), with the reason.
  int64_t first_bad_offset = -1;
  std::string first_bad_reason;
  // Inconsistencies between the commit log and the consume queues / index (at most 100 kept).
  std::vector<std::string> problems;
  int64_t problem_count = 0;

  bool ok() const { return first_bad_offset < 0 && problem_count == 0; }
};

struct VerifyOptions {
  bool check_consume_queues = true;
  bool check_index = true;
};

VerifyReport VerifyStore(const MessageStore& store, const VerifyOptions& options = {});

// Calls `fn` for every valid message of the commit log in order, with its physical offset and record bytes.
// Stops at the end of valid data (returns the offset where it stopped and why, in `stop_reason`).
int64_t ForEachStoredMessage(
    const MessageStore& store,
    const std::function<void(const model::StoredMessageView&, PhysicalOffset, std::span<const uint8_t>)>& fn,
    bool check_crc, std::string* stop_reason);

}  // namespace fmq::store
