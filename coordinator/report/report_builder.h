// Builds a Report from the report index with indexed SQL: per-unit rollups summed by
// dimension, top-N queries for the domain lists, joins on the endpoint table for the backend
// differential and region divergence, and a join on domains for the diff between scans.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/report/candidate_offers.h"
#include "coordinator/report/report.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator::report {

struct ReportOptions {
  std::string scan_id;
  std::vector<std::string> candidates;  // Only these candidates; empty: all.
  std::string against_scan_id;          // Diff against this earlier scan of the same list.
  // The candidate the team runs today; every other one is reported against it. Empty: the
  // scan's first candidate.
  std::string baseline;
  // Lets failure causes come from the negotiation model (see result_index.h); may be null.
  CandidateOffers* offers = nullptr;
  size_t max_domains = 100;  // Failing domains listed (worst first by volume).
  size_t max_rows = 50;      // Rows of each difference list.
  bool catch_up = true;      // Index results not indexed yet first (result_index.h).
  int64_t now_ms = 0;        // Report time; 0: now.
};

// The what-if hook: given the built report (and the database, for the stored enumerations),
// returns the section to add, or nullopt. The evaluator in backends/negotiation/ plugs in here.
using WhatIfProvider =
    std::function<absl::StatusOr<std::optional<WhatIfSection>>(SqliteDb&, const Report&)>;

absl::StatusOr<Report> BuildReport(SqliteDb& db, const ReportOptions& options,
                                   const WhatIfProvider& what_if = nullptr);

// Lower-case scan state name: "submitting", "running", "done", "cancelled", "failed".
std::string ScanStateName(int state);

}  // namespace tlsweep::coordinator::report
