// `ferrymq`: the broker image's main program. Subcommands:
//   ferrymq store verify|dump|stats <dir>   read-only store tools
//   ferrymq namesrv [-c namesrv.conf]       the name server
//   ferrymq broker -c broker.conf           a broker
//   ferrymq standalone [-d dir]             name server and broker in one process

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "broker/cmd/broker_command.h"
#include "broker/cmd/namesrv_command.h"
#include "broker/cmd/store_command.h"

namespace {

constexpr const char* kUsage = R"(usage: ferrymq <command> [args]

commands:
  store verify|dump|stats <dir>   inspect a store directory (read-only); `ferrymq store --help` for options
  standalone                      name server and broker in one process
  namesrv [-c namesrv.conf]       the name server (port 9876)
  broker -c broker.conf           a broker
  version                         print the version
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "store") return fmq::cmd::RunStoreCommand(args);
  if (cmd == "version") {
    std::cout << "ferrymq " << FMQ_VERSION << "\n";
    return 0;
  }
  if (cmd == "namesrv") return fmq::cmd::RunNamesrvCommand(args);
  if (cmd == "broker") return fmq::cmd::RunBrokerCommand(args);
  if (cmd == "standalone") return fmq::cmd::RunStandaloneCommand(args);
  std::cerr << "ferrymq: unknown command '" << cmd << "'\n" << kUsage;
  return 2;
}
