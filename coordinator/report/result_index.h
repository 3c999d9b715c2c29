// The report index: every stored ProbeResult is parsed once, when its (shard, region) unit is
// final, into tables the report reads with indexed SQL, so a report never reloads result blobs.
//
//   report_units      which units are indexed, and the unit state they were indexed at
//   report_domains    one row per (candidate, region, domain): both MTA readings of its MX set
//   report_endpoints  one row per (region, endpoint, candidate): verdict, domains, volume
//   report_unit_endpoints  what each unit added to report_endpoints (to take it back)
//   report_rollup     per-unit running aggregates (domains and volume by dimension and key)
//
// A domain's results all belong to one shard, so its verdict is computed as the unit is
// indexed; the report sums per-unit rollups (a few rows per shard) instead of scanning domains.
// Only final units (done, lost, cancelled) are indexed: their results no longer change. A unit
// whose state changed after indexing (it should not) is taken out and indexed again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/report/candidate_offers.h"
#include "coordinator/store/scan_reader.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator::report {

struct IndexStats {
  int64_t units = 0;       // Units indexed by this call.
  int64_t results = 0;     // Result rows parsed.
  int64_t domains = 0;     // Domain verdicts written.
  int64_t unreadable = 0;  // Stored rows that did not parse: skipped and named in the report.
};

// Creates the report tables and indexes if missing. Idempotent.
absl::Status EnsureReportSchema(SqliteDb& db);

// Indexes the final units of `scan_id` (every scan when empty) that are not indexed yet.
// Idempotent and safe to call while the coordinator writes results (each unit is one
// transaction). The coordinator may call it periodically; reports call it first.
// `offers`, when given, lets the failure causes come from the negotiation model where the
// endpoint was enumerated; without it they come from the live failures.
absl::StatusOr<IndexStats> CatchUp(SqliteDb& db, absl::string_view scan_id,
                                   CandidateOffers* offers = nullptr);

// The final units of `scan_id` (of every scan when empty) not indexed at their current
// signature: what CatchUp indexes next. Needs the report schema.
absl::StatusOr<std::vector<FinalUnit>> UnindexedUnits(SqliteDb& db, ScanReader& reader,
                                                      absl::string_view scan_id);

// Drops a scan's report rows (they are rebuilt by the next CatchUp).
absl::Status DropIndex(SqliteDb& db, absl::string_view scan_id);

}  // namespace tlsweep::coordinator::report
