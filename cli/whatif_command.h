// `tlsweep whatif --results FILE --candidate ...`: candidates evaluated from stored
// enumerations, with no network at all.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddWhatIfCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
