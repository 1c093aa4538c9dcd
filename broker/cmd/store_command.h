#pragma once

// `ferrymq store verify|dump|stats <dir>`: read-only operator tools over a store directory (StoreInspector).

#include <functional>

namespace CLI {
class App;
}

namespace fmq::cmd {

// Adds the `store` subcommand to `app`; when it is the one parsed, `action` runs it and returns the exit code
// (0 ok, 1 damage found, 2 usage or I/O error).
void AddStoreCommand(CLI::App& app, std::function<int()>& action);

}  // namespace fmq::cmd
