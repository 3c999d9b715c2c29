#include "coordinator/store/store_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "backends/metrics_histogram.h"
#include "coordinator/store/store_rows.h"
#include "tlsweep/v1/probe.pb.h"
#include "tlsweep/v1/scan.pb.h"

namespace tlsweep::coordinator {
namespace {

// Mirrors UnitState in sqlite_store.cc.
const char* UnitStateName(int64_t state) {
  switch (state) {
    case 0:
      return "pending";
    case 1:
      return "leased";
    case 2:
      return "done";
    case 3:
      return "lost";
    case 4:
      return "cancelled";
    case 5:
      return "resolved";
    default:
      return "unknown";
  }
}

// Runs a "SELECT key, count" query and appends one sample per row.
absl::Status AppendGrouped(SqliteDb& db, absl::string_view sql, absl::string_view metric,
                           absl::string_view label, const std::function<std::string(int64_t)>& name,
                           std::string& out) {
  absl::StatusOr<SqliteStatement> query = db.Prepare(sql);
  if (!query.ok()) return query.status();
  while (true) {
    absl::StatusOr<bool> row = query->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    absl::StrAppend(&out, metric, "{", label, "=\"", name(query->Int(0)), "\"} ", query->Int(1),
                    "\n");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Scalar(SqliteDb& db, absl::string_view sql) {
  absl::StatusOr<SqliteStatement> query = db.Prepare(sql);
  if (!query.ok()) return query.status();
  absl::StatusOr<bool> row = query->Step();
  if (!row.ok()) return row.status();
  return *row ? query->Int(0) : 0;
}

}  // namespace

absl::StatusOr<std::string> RenderStoreMetrics(SqliteDb& db) {
  std::string out;
  absl::StrAppend(&out, "# HELP tlsweep_scans Scans by state.\n# TYPE tlsweep_scans gauge\n");
  absl::Status status = AppendGrouped(
      db, "SELECT state, COUNT(*) FROM scans GROUP BY state", "tlsweep_scans", "state",
      [](int64_t state) {
        return absl::AsciiStrToLower(
            tlsweep::v1::ScanState_Name(static_cast<tlsweep::v1::ScanState>(state)));
      },
      out);
  if (!status.ok()) return status;
  absl::StrAppend(&out,
                  "# HELP tlsweep_units (shard, region) work units by state: pending is the "
                  "queue depth, leased the leases out.\n# TYPE tlsweep_units gauge\n");
  status = AppendGrouped(
      db, "SELECT state, COUNT(*) FROM units GROUP BY state", "tlsweep_units", "state",
      [](int64_t state) { return UnitStateName(state); }, out);
  if (!status.ok()) return status;
  // Stored rows are gauges: retention deletes scans, so these go down as well as up. The
  // ingest rate is rate(tlsweep_results_ingested_total), counted by the running coordinator.
  absl::StatusOr<int64_t> targets_done = Scalar(
      db, absl::StrCat("SELECT COALESCE(SUM(targets), 0) FROM units WHERE kind=",
                       int64_t{kTargetUnit}, " AND state IN ", UnitStatesSql({kDone, kLost})));
  if (!targets_done.ok()) return targets_done.status();
  absl::StrAppend(&out,
                  "# HELP tlsweep_targets_done Targets of finished (shard, region) units of the "
                  "stored scans.\n# TYPE tlsweep_targets_done gauge\ntlsweep_targets_done ",
                  *targets_done, "\n");
  absl::StrAppend(&out,
                  "# HELP tlsweep_results_stored Stored result rows by probe outcome.\n"
                  "# TYPE tlsweep_results_stored gauge\n");
  status = AppendGrouped(
      db, "SELECT failure, COUNT(*) FROM results GROUP BY failure", "tlsweep_results_stored",
      "outcome",
      [](int64_t failure) {
        return failure == 0 ? std::string("ok")
                            : absl::AsciiStrToLower(tlsweep::v1::ProbeFailure_Name(
                                  static_cast<tlsweep::v1::ProbeFailure>(failure)));
      },
      out);
  if (!status.ok()) return status;
  absl::StrAppend(&out,
                  "# HELP tlsweep_agents_connected Agents with an open stream, by region.\n"
                  "# TYPE tlsweep_agents_connected gauge\n");
  absl::StatusOr<SqliteStatement> agents = db.Prepare(
      "SELECT region, COUNT(*) FROM agents WHERE connected = 1 GROUP BY region ORDER BY region");
  if (!agents.ok()) return agents.status();
  for (;;) {
    absl::StatusOr<bool> row = agents->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    absl::StrAppend(&out, "tlsweep_agents_connected{region=\"",
                    PrometheusLabelValue(agents->Text(0)), "\"} ", agents->Int(1), "\n");
  }
  return out;
}

}  // namespace tlsweep::coordinator
