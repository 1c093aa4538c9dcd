#pragma once

// PollUntil: the project's one poll-with-deadline helper. For conditions other threads or processes reach on
// their own (a slave catching up, a broker registering, a test's background work), where no callback exists
// to wait on. Production code uses it only where it waits for another process.

#include <chrono>
#include <thread>

namespace fmq {

// True once `pred` holds; polls every `interval` until `limit`, then gives `pred` one last look.
template <typename Pred>
bool PollUntil(Pred pred, std::chrono::milliseconds limit,
               std::chrono::milliseconds interval = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(interval);  // polling a condition, not waiting for time
  }
  return pred();
}

}  // namespace fmq
