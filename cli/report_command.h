// `tlsweep report SCAN`: the compatibility report of a scan, as a terminal summary, JSON, CSV
// or a self-contained HTML file.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddReportCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
