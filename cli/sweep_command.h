// `tlsweep sweep --targets FILE`: a list of targets, results as JSON Lines.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddSweepCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
