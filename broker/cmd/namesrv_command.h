#pragma once

// `ferrymq namesrv [-c namesrv.conf] [-p listenPort]`: runs the name server until SIGINT or SIGTERM.

#include <string>
#include <vector>

#include "broker/base/status.h"
#include "broker/namesrv/name_server.h"

namespace fmq::cmd {

// Returns the process exit code: 0 after a clean stop, 1 when the server cannot start, 2 for bad usage or
// configuration.
int RunNamesrvCommand(const std::vector<std::string>& args);

// Applies one namesrv.conf key. NotFound for a key the name server does not know; InvalidArgument for a bad
// value.
Status ApplyNamesrvProperty(const std::string& key, const std::string& value, namesrv::NameServerConfig* c);

}  // namespace fmq::cmd
