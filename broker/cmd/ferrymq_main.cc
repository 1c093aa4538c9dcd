// `ferrymq`: the broker image's main program (CLI11; `ferrymq <command> --help` for each command):
//   ferrymq store verify|dump|stats <dir>   read-only store tools
//   ferrymq namesrv [-c namesrv.conf]       the name server
//   ferrymq broker -c broker.conf           a broker
//   ferrymq standalone [-d dir]             name server and broker in one process
//   ferrymq version

#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>

#include "broker/cmd/broker_command.h"
#include "broker/cmd/namesrv_command.h"
#include "broker/cmd/store_command.h"

int main(int argc, char** argv) {
  CLI::App app("FerryMQ: a RocketMQ-compatible message broker.", "ferrymq");
  app.require_subcommand(1);
  std::function<int()> action;
  fmq::cmd::AddStandaloneCommand(app, action);
  fmq::cmd::AddNamesrvCommand(app, action);
  fmq::cmd::AddBrokerCommand(app, action);
  fmq::cmd::AddStoreCommand(app, action);
  app.add_subcommand("version", "print the version")->callback([&action] {
    action = [] {
      std::cout << "ferrymq " << FMQ_VERSION << "\n";
      return 0;
    };
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    if (argc == 1) {
      std::cerr << app.help();
    } else {
      std::cerr << "ferrymq: " << e.what()
                << "\nRun `ferrymq --help` or `ferrymq <command> --help` for usage.\n";
    }
    return 2;
  }
  return action();
}
