#include "cli/report_output.h"

#include <filesystem>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/exit_codes.h"

namespace tlsweep::cli {

void AddGateFlags(CLI::App& command, GateFlags& flags) {
  command.add_option("--baseline", flags.baseline,
                     "The candidate you run today: every other candidate is reported against "
                     "it (newly failing, degraded, clear text, fixed). Default: the first");
  command.add_option(
      "--fail-on", flags.fail_on,
      "Exit 3 when a candidate's change against the baseline passes a threshold, in any "
      "region: METRIC>VALUE or METRIC>=VALUE, VALUE a count or a share with '%'; METRIC "
      "newly-{failing,degraded,cleartext}-{domains,volume}. E.g. newly-failing-domains>0, "
      "newly-failing-volume>0.5% (repeatable)");
}

absl::StatusOr<std::vector<coordinator::report::FailOn>> ParseGates(const GateFlags& flags) {
  std::vector<coordinator::report::FailOn> gates;
  for (const std::string& spec : flags.fail_on) {
    absl::StatusOr<coordinator::report::FailOn> gate = coordinator::report::ParseFailOn(spec);
    if (!gate.ok()) return gate.status();
    gates.push_back(*std::move(gate));
  }
  return gates;
}

int GateExitStatus(const coordinator::report::Report& report,
                   const std::vector<coordinator::report::FailOn>& gates, std::ostream& err) {
  const std::vector<std::string> tripped = coordinator::report::TrippedGates(report, gates);
  for (const std::string& line : tripped) err << "tlsweep: --fail-on tripped: " << line << "\n";
  for (const coordinator::report::Inconclusive& i : report.inconclusive) {
    err << "tlsweep: inconclusive in " << i.region << ": " << i.unreached.domains << " of "
        << i.total.domains << " domains not reached (" << i.why << ")\n";
  }
  if (!tripped.empty()) return kExitGateTripped;
  if (!report.inconclusive.empty()) return kExitInconclusive;
  return kExitOk;
}

std::string ReportFormatFor(const std::string& path, const std::string& explicit_format,
                            const std::string& fallback) {
  if (!explicit_format.empty()) return explicit_format;
  const std::string lower = absl::AsciiStrToLower(path);
  for (const char* format : {"html", "json", "csv"}) {
    if (absl::EndsWith(lower, absl::StrCat(".", format))) return format;
  }
  if (absl::EndsWith(lower, ".txt")) return "text";
  return fallback;
}

absl::Status CheckNotAnInput(const std::string& output, const std::vector<std::string>& inputs) {
  if (output.empty() || output == "-") return absl::OkStatus();
  std::error_code error;
  for (const std::string& input : inputs) {
    if (input.empty() || input == "-") continue;
    if (std::filesystem::equivalent(output, input, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("-o ", output, " is the input ", input, "; it would be overwritten"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::cli
