#include "coordinator/report/report_request.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "coordinator/report/candidate_offers.h"
#include "coordinator/report/fail_on.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/stored_whatif.h"
#include "coordinator/store/store.h"

namespace tlsweep::coordinator::report {

absl::StatusOr<ReportOutcome> WriteReport(SqliteDb& db, const ReportRequest& request,
                                          const backends::BackendRegistry* registry,
                                          std::ostream& out) {
  const std::string& format = request.format.empty() ? "text" : request.format;
  if (format != "text" && format != "json" && format != "csv" && format != "html") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown report format '", format, "' (text, json, csv or html)"));
  }
  std::vector<FailOn> gates;
  for (const std::string& spec : request.fail_on) {
    absl::StatusOr<FailOn> gate = ParseFailOn(spec);
    if (!gate.ok()) return gate.status();
    gates.push_back(*std::move(gate));
  }
  ReportOptions options;
  options.scan_id = request.scan_id;
  options.candidates = request.candidates;
  options.against_scan_id = request.against;
  options.baseline = request.baseline;
  options.max_domains = request.top;
  if (request.against.empty()) {  // A scheduled run: against the schedule's previous run.
    absl::StatusOr<std::optional<std::string>> previous = PreviousScheduledRun(db, request.scan_id);
    if (previous.ok() && previous->has_value()) options.against_scan_id = **previous;
  }
  std::optional<CandidateOffers> offers;
  if (registry != nullptr) {
    offers.emplace(*registry);
    options.offers = &*offers;
  }
  WhatIfProvider what_if;
  if (!request.whatif.empty()) {
    if (registry == nullptr) {
      return absl::FailedPreconditionError(
          "--whatif needs the backend plugins, and none are loaded here (--plugin-dir)");
    }
    std::vector<backends::TlsCandidate> candidates;
    for (const std::string& spec : request.whatif) {
      absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = backends::ParseCandidateSpec(spec);
      absl::StatusOr<backends::TlsCandidate> candidate =
          settings.ok() ? backends::BuildCandidate(*settings, *registry, "")
                        : absl::StatusOr<backends::TlsCandidate>(settings.status());
      if (!candidate.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--whatif '", spec, "': ", candidate.status().message()));
      }
      candidates.push_back(*std::move(candidate));
    }
    what_if = StoredWhatIf(std::move(candidates));
  }
  absl::StatusOr<Report> built = BuildReport(db, options, what_if);
  if (!built.ok()) return built.status();
  if (format == "text") {
    out << RenderText(*built);
  } else if (format == "json") {
    out << RenderJson(*built);
  } else if (format == "html") {
    out << RenderHtml(*built);
  } else if (absl::Status csv = WriteDomainsCsv(db, options, out); !csv.ok()) {
    return csv;
  }
  ReportOutcome outcome;
  outcome.tripped = TrippedGates(*built, gates);
  outcome.inconclusive = built->inconclusive;
  return outcome;
}

}  // namespace tlsweep::coordinator::report
