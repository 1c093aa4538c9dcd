#pragma once

// Test helper: waits for a condition that other threads (informers, controllers, the leader elector) reach on
// their own.

#include <chrono>
#include <thread>

namespace fmq::op::runtime::testing {

// True once `pred` holds; polls until `limit`, then gives `pred` one last look.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10'000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a condition, not waiting for time
  }
  return pred();
}

}  // namespace fmq::op::runtime::testing
