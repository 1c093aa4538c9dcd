#pragma once

// The project's strong ids (see strong_int.h).

#include <cstdint>

#include "broker/base/strong_int.h"

namespace fmq {

// Byte offset in the commit log (global across segment files): the "physical offset" of RocketMQ.
using PhysicalOffset = StrongInt<struct PhysicalOffsetTag, int64_t>;
// Index of an entry in a consume queue: the "logical" / queue offset consumers commit.
using QueueOffset = StrongInt<struct QueueOffsetTag, int64_t>;
using QueueId = StrongInt<struct QueueIdTag, int32_t>;
using BrokerId = StrongInt<struct BrokerIdTag, int64_t>;
// Master term of a broker group; bumps on every failover.
using Epoch = StrongInt<struct EpochTag, int32_t>;

}  // namespace fmq
