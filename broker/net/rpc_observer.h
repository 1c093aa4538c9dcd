#pragma once

// RpcObserver: told about every answered request (the broker's RPC latency metrics). A light header, so that
// components reporting or consuming RPC timings need not include the connection's Asio headers.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace fmq::net {

class RpcObserver {
 public:
  virtual ~RpcObserver() = default;
  // Called on the thread that sends the answer. `written`: false when the connection was gone (nothing was
  // sent). `long_polling`: the request was parked and answered later (Responder::MarkLongPolling).
  virtual void OnAnswered(int32_t request_code, int32_t response_code, bool long_polling, bool written,
                          std::chrono::nanoseconds elapsed) = 0;
};

// What an observed request carries from its arrival to its answer.
struct RpcTiming {
  RpcObserver* observer = nullptr;
  int32_t request_code = 0;
  std::chrono::steady_clock::time_point received{};
  std::atomic<bool> long_polling{false};
};

}  // namespace fmq::net
