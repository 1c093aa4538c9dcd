#pragma once

// ferryctl: the admin and client command line (broker/cli). RunFerryctl parses the arguments (CLI11, one
// subcommand per command with its own options, --help on each), runs one
// command against the name servers and brokers through fmq::client, writes human-readable (or `-o json`)
// output to `out` and problems to `err`, and returns the exit code: 0 ok, 1 the operation failed, 2 usage.
//
// `stop` (may be null) ends a running `consume` early when it becomes true (SIGINT in the program).
// Thread-safety: one call at a time per output stream.

#include <atomic>
#include <ostream>
#include <string>
#include <vector>

namespace fmq::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// `env_namesrv`: value of $NAMESRV_ADDR (empty when unset); -n wins over it, 127.0.0.1:9876 is the default.
int RunFerryctl(const std::vector<std::string>& args, const std::string& env_namesrv, std::ostream& out,
                std::ostream& err, const std::atomic<bool>* stop = nullptr);

}  // namespace fmq::cli
