// `tlsweep capture --listen ADDR:PORT`: record the ClientHello a real MTA sends, as a candidate
// file for `--candidate 'hello=FILE'` (cli/capture/hello_capture_server.h).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddCaptureCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
