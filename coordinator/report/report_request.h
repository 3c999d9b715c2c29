// One report, asked for as a user asks: a scan, a format, the baseline and gates, what-if
// candidates, a diff. The same path serves `tlsweep report --store`, the embedded scan's report
// and the scan API's GetReport, so a remote report is byte for byte the local one.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/plugin_loader.h"
#include "coordinator/report/report.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator::report {

struct ReportRequest {
  std::string scan_id;
  std::string format = "text";  // text | json | csv | html
  // An earlier scan to diff against; empty: a scheduled run's previous finished run, if any.
  std::string against;
  std::vector<std::string> whatif;      // Candidate specs predicted from stored enumerations.
  std::string baseline;                 // Empty: the scan's first candidate.
  std::vector<std::string> candidates;  // Only these; empty: all.
  size_t top = 100;
  std::vector<std::string> fail_on;  // Gates (fail_on.h).
};

// What decides a command's exit status, besides the rendered bytes.
struct ReportOutcome {
  std::vector<std::string> tripped;  // Gates that tripped (TrippedGates).
  std::vector<Inconclusive> inconclusive;
};

// Builds the report and writes it to `out` in `request.format`. `registry` (may be null) lends
// the backends for the what-if and for failure causes from the negotiation model. Errors:
// InvalidArgument for a bad request (format, gate, what-if spec, baseline), NotFound for an
// unknown scan.
absl::StatusOr<ReportOutcome> WriteReport(SqliteDb& db, const ReportRequest& request,
                                          const backends::BackendRegistry* registry,
                                          std::ostream& out);

}  // namespace tlsweep::coordinator::report
