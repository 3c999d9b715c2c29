// `tlsweep backends`: which TLS backend plugins loaded, their library versions and paths.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

#include "backends/plugin_loader.h"

namespace tlsweep::cli {

struct GlobalOptions {
  std::string plugin_dir;
};

// What the chosen subcommand will do once parsing succeeded; returns the exit code.
using Action = std::function<int()>;

void AddBackendsCommand(CLI::App& app, const GlobalOptions& global, Action& action);

// The backend plugins of --plugin-dir (or its defaults). On failure, prints why and returns
// nullopt: the command exits 1.
std::optional<backends::BackendRegistry> LoadRegistry(const GlobalOptions& global);

}  // namespace tlsweep::cli
