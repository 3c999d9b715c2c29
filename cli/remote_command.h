// `tlsweep remote submit|list|get|watch|cancel`, and the same as `tlsweep submit|status|watch|
// cancel`: scans on a coordinator over its gRPC API (ScanService).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/backends_command.h"
#include "tlsweep/v1/scan.pb.h"

namespace tlsweep::cli {

void AddRemoteCommand(CLI::App& app, const GlobalOptions& global, Action& action);

// "running", "done"... for a ScanState.
std::string ScanStateText(tlsweep::v1::ScanState state);
// One line: "SCAN  STATE  eu 3/10 shards, 2100 results; us ...".
std::string ScanProgressLine(const tlsweep::v1::Scan& scan);

}  // namespace tlsweep::cli
