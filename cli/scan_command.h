// `tlsweep scan --domains FILE`: the whole pipeline in one process (embedded mode): a
// coordinator with its SQLite store in a local state directory, one agent per region, the
// scan submitted through the scan API, progress while it runs, and the report at the end.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddScanCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
