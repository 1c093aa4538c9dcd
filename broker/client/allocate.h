#pragma once

// Queue allocation among the consumers of a group, exactly as Java's AllocateMessageQueueAveragely, so that
// FerryMQ and Java consumers in one group agree on who reads which queue (protocol reference 11.3). Both
// lists must be sorted the same way on every member (queues by topic/broker/id, consumer ids as strings).
// Pure function.

#include <string>
#include <vector>

#include "broker/client/types.h"

namespace fmq::client {

// The queues of `all_queues` that belong to `client_id`; empty when it is not in `all_client_ids`.
std::vector<MessageQueue> AllocateAveragely(const std::string& client_id,
                                            const std::vector<MessageQueue>& all_queues,
                                            const std::vector<std::string>& all_client_ids);

}  // namespace fmq::client
