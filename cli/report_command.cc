#include "cli/report_command.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/plugin_loader.h"
#include "coordinator/report/render.h"
#include "coordinator/report/report_builder.h"
#include "coordinator/report/stored_whatif.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/store.h"

namespace tlsweep::cli {
namespace {

namespace report = ::tlsweep::coordinator::report;

struct ReportCommandOptions {
  std::string scan_id;
  std::string format = "text";
  std::vector<std::string> candidates;
  std::vector<std::string> whatif_specs;
  std::string plugin_dir;
  std::string against;
  std::string out_file;
  std::string store;
  size_t top = 100;
};

int RunReport(const ReportCommandOptions& options) {
  if (options.store.empty()) {
    std::cerr << "tlsweep report: give --store FILE (the coordinator's SQLite store); reading "
                 "through the coordinator's API is not available yet\n";
    return 2;
  }
  if (std::ifstream probe(options.store); !probe) {
    std::cerr << "tlsweep report: cannot open " << options.store << "\n";
    return 2;
  }
  auto db = coordinator::SqliteDb::Open(options.store);
  if (!db.ok()) {
    std::cerr << "tlsweep report: " << db.status().message() << "\n";
    return 1;
  }
  report::ReportOptions report_options;
  report_options.scan_id = options.scan_id;
  report_options.candidates = options.candidates;
  report_options.against_scan_id = options.against;
  if (options.against.empty()) {  // A scheduled run: against the schedule's previous run.
    absl::StatusOr<std::optional<std::string>> previous =
        coordinator::PreviousScheduledRun(**db, options.scan_id);
    if (previous.ok() && previous->has_value()) report_options.against_scan_id = **previous;
  }
  report_options.max_domains = options.top;
  // What-if candidates, evaluated from the scan's stored enumerations.
  report::WhatIfProvider what_if;
  // Outlives the candidates, which point at its backends.
  absl::StatusOr<backends::BackendRegistry> registry = absl::NotFoundError("no plugins loaded");
  if (!options.whatif_specs.empty()) {
    registry = backends::BackendRegistry::LoadDirectory(
        backends::ResolvePluginDirectory(options.plugin_dir));
    if (!registry.ok()) {
      std::cerr << "tlsweep report: " << registry.status().message() << "\n";
      return 1;
    }
    std::vector<backends::TlsCandidate> candidates;
    for (const std::string& spec : options.whatif_specs) {
      absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = backends::ParseCandidateSpec(spec);
      absl::StatusOr<backends::TlsCandidate> candidate =
          settings.ok() ? backends::BuildCandidate(*settings, *registry, "")
                        : absl::StatusOr<backends::TlsCandidate>(settings.status());
      if (!candidate.ok()) {
        std::cerr << "tlsweep report: --whatif '" << spec << "': " << candidate.status().message()
                  << "\n";
        return 2;
      }
      candidates.push_back(*std::move(candidate));
    }
    what_if = report::StoredWhatIf(std::move(candidates));
  }
  absl::StatusOr<report::Report> built = report::BuildReport(**db, report_options, what_if);
  if (!built.ok()) {
    std::cerr << "tlsweep report: " << built.status().message() << "\n";
    return built.status().code() == absl::StatusCode::kNotFound ? 3 : 1;
  }
  std::ofstream file;
  if (!options.out_file.empty()) {
    file.open(options.out_file, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "tlsweep report: cannot write " << options.out_file << "\n";
      return 1;
    }
  }
  std::ostream& out = options.out_file.empty() ? std::cout : file;
  if (options.format == "text") {
    out << report::RenderText(*built);
  } else if (options.format == "json") {
    out << report::RenderJson(*built);
  } else if (options.format == "html") {
    out << report::RenderHtml(*built);
  } else {
    if (absl::Status status = report::WriteDomainsCsv(**db, report_options, out); !status.ok()) {
      std::cerr << "tlsweep report: " << status.message() << "\n";
      return 1;
    }
  }
  out.flush();
  if (!out) {
    std::cerr << "tlsweep report: write failed\n";
    return 1;
  }
  return 0;
}

}  // namespace

void AddReportCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<ReportCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "report",
      "Compatibility report of a scan: which domains (and how much mail) fail per candidate "
      "config and region, distributions, backend and region differences, diff against an "
      "earlier scan");
  command->add_option("scan", options->scan_id, "Scan id")->required();
  command->add_option("--format", options->format, "text (one screen), json, csv or html")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}))
      ->capture_default_str();
  command
      ->add_option("--whatif", options->whatif_specs,
                   "A new candidate (name=... backend=... ciphers=...) predicted from the scan's "
                   "stored enumerations, without scanning again (repeatable; the scan must "
                   "have run with --enumerate)")
      ->allow_extra_args(false);
  command->add_option("--candidate", options->candidates,
                      "Only this candidate config (repeatable); default: all");
  command->add_option("--against", options->against,
                      "An earlier scan of the same list: newly failing, newly fixed, downgraded "
                      "(default for a scheduled run: the schedule's previous finished run)");
  command->add_option("-o,--output", options->out_file, "Write to FILE instead of stdout");
  command->add_option("--store", options->store,
                      "The coordinator's SQLite store (embedded mode reads it directly)");
  command->add_option("--top", options->top, "Failing domains listed (worst first by volume)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  command->callback([options, &global, &action] {
    options->plugin_dir = global.plugin_dir;
    action = [options] { return RunReport(*options); };
  });
}

}  // namespace tlsweep::cli
