#pragma once

// Test helper: waits for a condition that other threads (informers, controllers, the leader elector) reach on
// their own.

#include <chrono>

#include "broker/base/poll.h"

namespace fmq::op::runtime::testing {

// True once `pred` holds within `limit` (base/poll.h).
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10'000)) {
  return PollUntil(pred, limit);
}

}  // namespace fmq::op::runtime::testing
