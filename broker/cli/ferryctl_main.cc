// `ferryctl`: admin and client command line for FerryMQ and any RocketMQ 4.x cluster (broker/cli/README.md).

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "broker/base/logging.h"
#include "broker/cli/ferryctl.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  // Client warnings only, unless FMQ_LOG_LEVEL asks for more: the output is for people and scripts.
  if (std::getenv("FMQ_LOG_LEVEL") == nullptr) fmq::SetLogLevel("error");
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("NAMESRV_ADDR");
  return fmq::cli::RunFerryctl(args, env ? env : "", std::cout, std::cerr, &g_stop);
}
