#pragma once

// ConsumerManageProcessor: the offset commands (protocol reference 2.4): QUERY_CONSUMER_OFFSET (14),
// UPDATE_CONSUMER_OFFSET (15, usually oneway), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
// SEARCH_OFFSET_BY_TIMESTAMP (29), GET_EARLIEST_MSG_STORETIME (32).
//
// QUERY_CONSUMER_OFFSET answers QUERY_NOT_FOUND (22) when the group has no offset, except for a queue whose
// first message is still at offset 0 and recent (in the page-cache window), where it answers 0, as the Java
// broker does: clients then start at the beginning of a new topic instead of its end.
//
// Thread-safety: Handle() may run on many executor threads at once.

#include <cstdint>

#include "broker/net/connection.h"
#include "broker/server/consumer_offset_manager.h"
#include "broker/store/message_store.h"

namespace fmq::server {

class ConsumerManageProcessor {
 public:
  // `memory_window_bytes`: how far behind the commit-log tail a message still counts as "in memory"
  // (RocketMQ: 40 % of physical RAM). References outlive the processor.
  ConsumerManageProcessor(store::MessageStore& store, ConsumerOffsetManager& offsets,
                          int64_t memory_window_bytes);

  void Handle(protocol::RemotingCommand request, net::Responder responder);

  // 40 % of this machine's physical memory.
  static int64_t DefaultMemoryWindow();

 private:
  protocol::RemotingCommand QueryConsumerOffset(const protocol::RemotingCommand& req);

  store::MessageStore& store_;
  ConsumerOffsetManager& offsets_;
  const int64_t memory_window_;
};

}  // namespace fmq::server
