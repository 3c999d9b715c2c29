#include "cli/report_command.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "backends/plugin_loader.h"
#include "cli/exit_codes.h"
#include "cli/remote_call.h"
#include "cli/remote_client.h"
#include "cli/report_output.h"
#include "coordinator/report/report_request.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/scan.grpc.pb.h"

namespace tlsweep::cli {
namespace {

namespace report = ::tlsweep::coordinator::report;

struct ReportCommandOptions {
  std::string scan_id;
  std::string format;  // Empty: from -o's extension, else text.
  std::vector<std::string> candidates;
  std::vector<std::string> whatif_specs;
  std::string plugin_dir;
  std::string against;
  std::string out_file;
  std::string store;
  size_t top = 100;
  GateFlags gates;
  RemoteFlags remote;
};

report::ReportRequest RequestOf(const ReportCommandOptions& options, const std::string& format) {
  report::ReportRequest request;
  request.scan_id = options.scan_id;
  request.format = format;
  request.against = options.against;
  request.whatif = options.whatif_specs;
  request.baseline = options.gates.baseline;
  request.candidates = options.candidates;
  request.top = options.top;
  request.fail_on = options.gates.fail_on;
  return request;
}

int ExitFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return kExitUsage;
    default:
      return kExitError;
  }
}

// From the SQLite store directly (embedded mode, or on the coordinator's host).
int ReportFromStore(const ReportCommandOptions& options, const std::string& format,
                    std::ostream& out, report::ReportOutcome& outcome) {
  if (std::ifstream probe(options.store); !probe) {
    std::cerr << "tlsweep report: cannot open " << options.store << "\n";
    return kExitUsage;
  }
  auto db = coordinator::SqliteDb::Open(options.store);
  if (!db.ok()) {
    std::cerr << "tlsweep report: " << db.status().message() << "\n";
    return kExitError;
  }
  // The backends give the what-if and the failure causes from the negotiation model; without
  // them the report still builds, with causes read from the live failures.
  absl::StatusOr<backends::BackendRegistry> registry = backends::BackendRegistry::LoadDirectory(
      backends::ResolvePluginDirectory(options.plugin_dir));
  absl::StatusOr<report::ReportOutcome> written = report::WriteReport(
      **db, RequestOf(options, format), registry.ok() ? &*registry : nullptr, out);
  if (!written.ok()) {
    std::cerr << "tlsweep report: " << written.status().message() << "\n";
    return ExitFor(written.status());
  }
  outcome = *std::move(written);
  return kExitOk;
}

// Through the coordinator's scan API (GetReport): no store file needed.
int ReportFromCoordinator(const ReportCommandOptions& options, const std::string& format,
                          std::ostream& out, report::ReportOutcome& outcome) {
  return WithStub<v1::ScanService>(
      "report", options.remote,
      [&](v1::ScanService::Stub& stub, const RemoteConnection& connection) {
        grpc::ClientContext context;
        connection.Prepare(context, /*streaming=*/true);
        const report::ReportRequest wanted = RequestOf(options, format);
        v1::GetReportRequest request;
        request.set_scan_id(wanted.scan_id);
        request.set_format(wanted.format);
        request.set_against(wanted.against);
        for (const std::string& spec : wanted.whatif) request.add_whatif(spec);
        request.set_baseline(wanted.baseline);
        for (const std::string& name : wanted.candidates) request.add_candidates(name);
        request.set_top(static_cast<uint32_t>(wanted.top));
        for (const std::string& gate : wanted.fail_on) request.add_fail_on(gate);
        std::unique_ptr<grpc::ClientReader<v1::ReportChunk>> reader =
            stub.GetReport(&context, request);
        v1::ReportChunk chunk;
        while (reader->Read(&chunk)) {
          out << chunk.data();
          if (!chunk.last()) continue;
          outcome.tripped.assign(chunk.tripped().begin(), chunk.tripped().end());
          for (const std::string& line : chunk.inconclusive()) {
            report::Inconclusive i;
            i.why = line;  // Already "region: n of m domains not reached (why)".
            outcome.inconclusive.push_back(std::move(i));
          }
        }
        const grpc::Status status = reader->Finish();
        if (!status.ok()) return ReportRpcError("report", status);
        return kExitOk;
      });
}

int RunReport(const ReportCommandOptions& options) {
  if (absl::Status input = CheckNotAnInput(options.out_file, {options.store}); !input.ok()) {
    std::cerr << "tlsweep report: " << input.message() << "\n";
    return kExitUsage;
  }
  if (absl::StatusOr<std::vector<report::FailOn>> gates = ParseGates(options.gates); !gates.ok()) {
    std::cerr << "tlsweep report: " << gates.status().message() << "\n";
    return kExitUsage;
  }
  const std::string format = ReportFormatFor(options.out_file, options.format, "text");
  std::ofstream file;
  if (!options.out_file.empty() && options.out_file != "-") {
    file.open(options.out_file, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "tlsweep report: cannot write " << options.out_file << "\n";
      return kExitError;
    }
  }
  std::ostream& out = file.is_open() ? file : std::cout;
  report::ReportOutcome outcome;
  const int code = options.store.empty() ? ReportFromCoordinator(options, format, out, outcome)
                                         : ReportFromStore(options, format, out, outcome);
  if (code != kExitOk) return code;
  out.flush();
  if (!out) {
    std::cerr << "tlsweep report: write failed\n";
    return kExitError;
  }
  for (const std::string& line : outcome.tripped) {
    std::cerr << "tlsweep: --fail-on tripped: " << line << "\n";
  }
  for (const report::Inconclusive& i : outcome.inconclusive) {
    std::cerr << "tlsweep: inconclusive"
              << (i.region.empty()
                      ? absl::StrCat(" in ", i.why)
                      : absl::StrCat(" in ", i.region, ": ", i.unreached.domains, " of ",
                                     i.total.domains, " domains not reached (", i.why, ")"))
              << "\n";
  }
  if (!outcome.tripped.empty()) return kExitGateTripped;
  if (!outcome.inconclusive.empty()) return kExitInconclusive;
  return kExitOk;
}

}  // namespace

void AddReportCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<ReportCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "report",
      "Compatibility report of a scan: what each candidate config changes against the baseline "
      "(newly failing, degraded, clear text, fixed, and why), who would fail per candidate and "
      "region, distributions, backend and region differences, diff against an earlier scan. "
      "Reads the coordinator's store (--store) or asks the coordinator (--coordinator)");
  command->add_option("scan", options->scan_id, "Scan id")->required();
  command
      ->add_option("--format", options->format,
                   "text (one screen), json, csv (every domain) or html; default: from -o's "
                   "extension, else text")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}));
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
  command->add_option("-o,--output", options->out_file,
                      "Write to FILE instead of stdout (.csv, .json, .html or .txt picks the "
                      "format; never one of the inputs)");
  command->add_option("--store", options->store,
                      "The coordinator's SQLite store, read directly (embedded mode); without "
                      "it the report comes from the coordinator's scan API");
  command->add_option("--top", options->top, "Failing domains listed (worst first by volume)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  AddGateFlags(*command, options->gates);
  AddRemoteFlags(*command, options->remote);
  command->footer(kExitStatusHelp);
  command->callback([options, &global, &action] {
    options->plugin_dir = global.plugin_dir;
    action = [options] { return RunReport(*options); };
  });
}

}  // namespace tlsweep::cli
