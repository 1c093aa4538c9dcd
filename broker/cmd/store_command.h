#pragma once

// `ferrymq store verify|dump|stats`: read-only operator tools over a store directory (StoreInspector).

#include <string>
#include <vector>

namespace fmq::cmd {

// Runs `ferrymq store <args...>`; returns the process exit code (0 ok, 1 damage found, 2 usage or I/O error).
int RunStoreCommand(const std::vector<std::string>& args);

}  // namespace fmq::cmd
