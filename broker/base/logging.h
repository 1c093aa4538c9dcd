#pragma once

// Logging: spdlog, one named logger per module ("store", "net", ...), messages as key=value identifiers
// (CONVENTIONS.md rule 9). Log an error once, where it is handled; nothing per message on the hot path.
//
//   auto log = fmq::GetLogger("store");
//   log->warn("truncated torn tail file={} offset={}", name, offset);
//
// Thread-safety: loggers are thread-safe (spdlog multi-threaded sinks).

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace fmq {

// Returns the logger named `module`, creating it (stderr sink, shared format) on first use.
std::shared_ptr<spdlog::logger> GetLogger(const std::string& module);

// Sets the level of every logger, existing and future: "trace", "debug", "info", "warn", "error", "off".
void SetLogLevel(const std::string& level);

}  // namespace fmq
