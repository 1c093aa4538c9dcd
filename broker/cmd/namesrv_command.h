#pragma once

// `ferrymq namesrv [-c namesrv.conf] [-p listenPort]`: runs the name server until SIGINT or SIGTERM.

#include <functional>
#include <string>

#include "broker/base/status.h"
#include "broker/namesrv/name_server.h"

namespace CLI {
class App;
}

namespace fmq::cmd {

// Adds the `namesrv` subcommand to `app`; when it is the one parsed, `action` runs the name server and
// returns the exit code: 0 after a clean stop, 1 when the server cannot start, 2 for bad configuration.
void AddNamesrvCommand(CLI::App& app, std::function<int()>& action);

// Applies one namesrv.conf key. NotFound for a key the name server does not know; InvalidArgument for a bad
// value.
Status ApplyNamesrvProperty(const std::string& key, const std::string& value, namesrv::NameServerConfig* c);

}  // namespace fmq::cmd
