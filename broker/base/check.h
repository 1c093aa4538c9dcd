#pragma once

// FMQ_CHECK: aborts with a message when a broken invariant is detected. Never use it for bad input: bad input
// is an error value (Status). Stays on in release builds.

#include <cstdio>
#include <cstdlib>

namespace fmq::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond, const char* msg) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s %s\n", file, line, cond, msg ? msg : "");
  std::fflush(stderr);
  std::abort();
}
}  // namespace fmq::internal

#define FMQ_CHECK(cond)                                                            \
  do {                                                                             \
    if (!(cond)) ::fmq::internal::CheckFailed(__FILE__, __LINE__, #cond, nullptr); \
  } while (0)

#define FMQ_CHECK_MSG(cond, msg)                                                 \
  do {                                                                           \
    if (!(cond)) ::fmq::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
