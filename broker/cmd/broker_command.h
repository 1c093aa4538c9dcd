#pragma once

// `ferrymq broker -c broker.conf` and `ferrymq standalone`: run a broker (and, for standalone, a name server
// in the same process) until SIGINT or SIGTERM.

#include <string>
#include <vector>

namespace fmq::cmd {

// Exit codes: 0 after a clean stop, 1 when the broker cannot start (port in use, store locked or corrupt),
// 2 for bad usage or configuration.
int RunBrokerCommand(const std::vector<std::string>& args);
int RunStandaloneCommand(const std::vector<std::string>& args);

}  // namespace fmq::cmd
