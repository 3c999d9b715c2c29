// `tlsweep expand`: the (version, suite) pairs and groups a client config would offer.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddExpandCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
