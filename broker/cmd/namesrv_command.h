#pragma once

// `ferrymq namesrv [-c namesrv.conf] [-p listenPort]`: runs the name server until SIGINT or SIGTERM.

#include <string>
#include <vector>

namespace fmq::cmd {

// Returns the process exit code: 0 after a clean stop, 1 when the server cannot start, 2 for bad usage or
// configuration.
int RunNamesrvCommand(const std::vector<std::string>& args);

}  // namespace fmq::cmd
