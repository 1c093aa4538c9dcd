#include "broker/base/logging.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace fmq {

std::shared_ptr<spdlog::logger> GetLogger(const std::string& module) {
  if (auto existing = spdlog::get(module)) return existing;
  static const bool configured = [] {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%n] %v");
    if (const char* lvl = std::getenv("FMQ_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(lvl));
    return true;
  }();
  (void)configured;
  try {
    auto logger = spdlog::stderr_color_mt(module);
    logger->set_level(spdlog::get_level());
    return logger;
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered it first.
    return spdlog::get(module);
  }
}

void SetLogLevel(const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); }

}  // namespace fmq
