// `tlsweep backends`: which TLS backend plugins loaded, their library versions and paths.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace tlsweep::cli {

struct GlobalOptions {
  std::string plugin_dir;
};

// What the chosen subcommand will do once parsing succeeded; returns the exit code.
using Action = std::function<int()>;

void AddBackendsCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
