// Renderers of a Report: a one-screen terminal summary, the documented JSON
// (docs/report-schema.md), a self-contained HTML file (inline CSS and SVG, no scripts), and the
// per-domain CSV, which streams straight from the index (a row per domain, region, candidate).
#pragma once

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "coordinator/report/report.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator::report {

std::string RenderText(const Report& report);
std::string RenderJson(const Report& report);
std::string RenderHtml(const Report& report);

// Writes every indexed (candidate, region, domain) of options.scan_id (only options.candidates
// when set) as CSV with a header row; call after BuildReport (which catches the index up).
absl::Status WriteDomainsCsv(SqliteDb& db, const ReportOptions& options, std::ostream& out);

// Shared formatting.
std::string Percent(double part, double whole);  // "12.3%", "-" when whole is 0.
std::string Volume(double weight);               // "1234", "12.5"
std::string UtcTime(int64_t unix_ms);            // "2024-05-01 12:00 UTC"
std::string Age(int64_t seconds);                // "2d 3h", "5h 10m", "12m", "40s"
// "3 made, 17 reused (oldest 2d 3h)", "-" for a scan without enumerations.
std::string EnumerationReuse(const RegionLoad& load);
std::string HtmlEscape(absl::string_view text);  // & < > " ' as entities

}  // namespace tlsweep::coordinator::report
