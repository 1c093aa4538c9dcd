#pragma once

// `ferrymq broker -c broker.conf` and `ferrymq standalone`: run a broker (and, for standalone, a name server
// in the same process) until SIGINT or SIGTERM.

#include <functional>

namespace CLI {
class App;
}

namespace fmq::cmd {

// Add the `broker` and `standalone` subcommands to `app`; when one is parsed, `action` runs it and returns
// the exit code: 0 after a clean stop, 1 when the broker cannot start (port in use, store locked or corrupt),
// 2 for bad configuration.
void AddBrokerCommand(CLI::App& app, std::function<int()>& action);
void AddStandaloneCommand(CLI::App& app, std::function<int()>& action);

}  // namespace fmq::cmd
