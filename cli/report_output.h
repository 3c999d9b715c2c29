// What `scan`, `report` and `watch` share when they end in a report: the baseline and --fail-on
// gates with the exit status they decide, and the report file (-o): its format from the name,
// and never one of the command's own inputs.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/report/fail_on.h"
#include "coordinator/report/report.h"

namespace tlsweep::cli {

struct GateFlags {
  std::string baseline;              // --baseline NAME; empty: the scan's first candidate.
  std::vector<std::string> fail_on;  // --fail-on METRIC>VALUE[%], repeatable.
};

void AddGateFlags(CLI::App& command, GateFlags& flags);

absl::StatusOr<std::vector<coordinator::report::FailOn>> ParseGates(const GateFlags& flags);

// Prints what tripped and whether the scan is inconclusive to `err`; returns the exit status:
// 3 when a gate tripped, else 4 when inconclusive, else 0.
int GateExitStatus(const coordinator::report::Report& report,
                   const std::vector<coordinator::report::FailOn>& gates, std::ostream& err);

// The format a report file is written in: `explicit_format` when given, else from the
// extension (.html .json .csv .txt), else `fallback`.
std::string ReportFormatFor(const std::string& path, const std::string& explicit_format,
                            const std::string& fallback);

// An error when `output` is the same file as one of `inputs` (a store, a domain list): -o must
// never overwrite what the command reads.
absl::Status CheckNotAnInput(const std::string& output, const std::vector<std::string>& inputs);

}  // namespace tlsweep::cli
