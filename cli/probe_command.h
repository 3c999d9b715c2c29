// `tlsweep probe TARGET`: one target, every MX host, a readable summary (or JSON).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddProbeCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
