#pragma once

// UniqueIdGenerator: the client-generated message id (UNIQ_KEY, the msgId users see), laid out as Java's
// MessageClientIDSetter writes it (protocol reference 5.2), 32 uppercase hex characters for IPv4:
//
//   client IPv4 (4) | pid low 16 bits (2) | per-process random (4) | ms since start of month, local (4) |
//   counter (2)
//
// Java fills the 4 "random" bytes with its class loader's hash code; we use a random value per generator.
// Created by a Producer (one per producer). Thread-safety: Next() may be called from any thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "broker/base/clock.h"
#include "broker/base/mutex.h"

namespace fmq::client {

class UniqueIdGenerator {
 public:
  // `ip` is the client's IPv4 address; `clock` must outlive the generator.
  UniqueIdGenerator(std::array<uint8_t, 4> ip, uint16_t pid, uint32_t random, const Clock* clock);
  // Uses the first non-loopback IPv4 address, getpid() and a random value.
  UniqueIdGenerator();

  std::string Next();

  // Start of the local-time month holding `millis` (the base of the id's time field).
  static int64_t StartOfMonthMillis(int64_t millis);

 private:
  const Clock* clock_;
  std::string fixed_;  // hex of ip | pid | random
  std::atomic<uint32_t> counter_{0};
  // Month window of the time field; read without a lock on the hot path, replaced under mu_ at a new month.
  Mutex mu_;
  std::atomic<int64_t> start_of_month_{0};
  std::atomic<int64_t> next_month_{0};
};

}  // namespace fmq::client
