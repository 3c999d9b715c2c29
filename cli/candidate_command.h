// `tlsweep candidate`: how an MTA config file (ecelerity.conf, main.cf) was understood as
// candidate TLS client configurations, what each would offer, and what was not modelled.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddCandidateCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
