// The report's what-if section for a stored scan: candidates predicted at every endpoint from
// the enumerations the scan stored (no network), domain verdicts as an MTA would see them (a
// domain fails when every MX it has would fail), and how sure: the live probes of the same
// settings in the same scan, checked with whatif_evaluator's rule. `tlsweep report --whatif`
// and the coordinator's served reports (`--whatif`) both use it.
#pragma once

#include <vector>

#include "backends/candidate/tls_candidate.h"
#include "coordinator/report/report_builder.h"

namespace tlsweep::coordinator::report {

// Each candidate carries its expanded offer; the backends they point at must outlive the
// provider.
WhatIfProvider StoredWhatIf(std::vector<backends::TlsCandidate> candidates);

}  // namespace tlsweep::coordinator::report
