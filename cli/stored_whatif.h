// The report's what-if section for a stored scan: new candidates predicted at every endpoint
// from the enumerations the scan stored (no network), domain verdicts as an MTA would see
// them (a domain fails when every MX it has would fail), and how sure: endpoints enumerated,
// and agreement with live probes of the same settings stored in the same scan.
#pragma once

#include <vector>

#include "agent/probe/probe_types.h"
#include "coordinator/report/report_builder.h"

namespace tlsweep::cli {

coordinator::report::WhatIfProvider StoredWhatIf(std::vector<agent::TlsCandidate> candidates);

}  // namespace tlsweep::cli
