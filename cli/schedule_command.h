// `tlsweep schedule add|list|remove|run`: recurring scans kept by the coordinator
// (ScheduleService), over its gRPC API.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/backends_command.h"

namespace tlsweep::cli {

void AddScheduleCommand(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace tlsweep::cli
