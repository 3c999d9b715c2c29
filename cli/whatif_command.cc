#include "cli/whatif_command.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_format.h"
#include "agent/flags/probe_flags.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/negotiation/whatif_evaluator.h"
#include "backends/plugin_loader.h"

namespace tlsweep::cli {
namespace {

struct WhatIfOptions {
  std::string results_file;
  agent::ProbeFlags flags;  // Only the candidate sources are used.
  bool all = false;
};

absl::StatusOr<std::vector<tlsweep::v1::ProbeResult>> ReadResults(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read results '", path, "'"));
  std::vector<tlsweep::v1::ProbeResult> results;
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    tlsweep::v1::ProbeResult result;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(line, &result, options).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": not a ProbeResult JSON line"));
    }
    results.push_back(std::move(result));
  }
  return results;
}

int RunWhatIf(const GlobalOptions& global, const WhatIfOptions& options) {
  std::optional<backends::BackendRegistry> registry = LoadRegistry(global);
  if (!registry) return 1;
  bool enumerate = false;
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<tlsweep::v1::TlsClientSettings>> candidates =
      agent::CollectCandidates(options.flags, &enumerate, &warnings);
  for (const std::string& warning : warnings) std::cerr << "tlsweep: warning: " << warning << "\n";
  if (!candidates.ok() || candidates->empty()) {
    std::cerr << "tlsweep: "
              << (candidates.ok() ? "give at least one --candidate, --candidate-from or --profile"
                                  : std::string(candidates.status().message()))
              << "\n";
    return 2;
  }
  absl::StatusOr<std::vector<tlsweep::v1::ProbeResult>> results = ReadResults(options.results_file);
  if (!results.ok()) {
    std::cerr << "tlsweep: " << results.status().message() << "\n";
    return 2;
  }
  bool any_failure = false;
  for (const tlsweep::v1::TlsClientSettings& settings : *candidates) {
    absl::StatusOr<backends::TlsCandidate> candidate =
        backends::BuildCandidate(settings, *registry, /*ca_file=*/"");
    if (!candidate.ok()) {
      std::cerr << "tlsweep: " << candidate.status().message() << "\n";
      return 2;
    }
    const backends::WhatIfSummary summary =
        backends::EvaluateWhatIf(*results, candidate->settings, candidate->offer);
    std::cout << absl::StrFormat(
        "candidate %s (%s): %d enumerated endpoints: %d negotiate, %d fail, %d uncertain",
        summary.candidate, candidate->settings.backend(), summary.endpoints, summary.negotiates,
        summary.fails, summary.uncertain);
    if (summary.live_checked > 0) {
      std::cout << absl::StrFormat("; live checks agree %d/%d", summary.live_agreed,
                                   summary.live_checked);
    }
    if (summary.not_enumerated > 0) {
      std::cout << absl::StrFormat(" (%d endpoints without enumeration)", summary.not_enumerated);
    }
    std::cout << "\n";
    if (summary.endpoints == 0) {
      std::cerr << "tlsweep: no enumeration in '" << options.results_file
                << "': run the sweep with --enumerate\n";
    }
    for (const backends::EndpointWhatIf& endpoint : summary.endpoints_detail) {
      // Every line that is not a sure pass is shown, so the lines match the counts above.
      const bool interesting =
          endpoint.prediction.verdict != backends::Prediction::Verdict::kNegotiates ||
          !backends::IsSure(endpoint.prediction) ||
          (endpoint.live_checked && !endpoint.live_agrees);
      if (!interesting && !options.all) continue;
      any_failure |= endpoint.prediction.verdict == backends::Prediction::Verdict::kFails;
      std::cout << absl::StrFormat("  %-30s %s [%s]:%d  %s", endpoint.target, endpoint.mx_host,
                                   endpoint.address, endpoint.port,
                                   backends::DescribePrediction(endpoint.prediction));
      if (endpoint.live_checked) {
        std::cout << (endpoint.live_agrees ? "  (live: agrees)" : "  (live: DISAGREES: ")
                  << (endpoint.live_agrees ? "" : endpoint.live_outcome + ")");
      }
      std::cout << "\n";
    }
  }
  return any_failure ? 3 : 0;
}

}  // namespace

void AddWhatIfCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<WhatIfOptions>();
  CLI::App* command = app.add_subcommand(
      "whatif",
      "Evaluate candidate TLS configurations against stored enumerations (a sweep run with "
      "--enumerate), with no network access: which targets would fail, and why.\n"
      "Exit status: 0 nothing fails, 3 some target would fail, 1/2 could not run.");
  command->add_option("--results", options->results_file, "JSON Lines results of a sweep")
      ->required();
  command
      ->add_option(
          "--candidate", options->flags.candidate_specs,
          "Candidate: name=... backend=openssl|gnutls ciphers=... min=..., or hello=FILE (a "
          "capture of `tlsweep capture`) (repeatable)")
      ->allow_extra_args(false);
  command
      ->add_option("--candidate-from", options->flags.candidate_files,
                   "Read candidates, with their per-domain overrides, from an MTA config: "
                   "ecelerity.conf or Postfix main.cf (with master.cf and policy tables); "
                   "NAME=FILE names them; repeatable")
      ->allow_extra_args(false);
  command->add_option("--profile", options->flags.profile_file, "Probe profile file");
  command->add_flag("--all", options->all, "List every endpoint, not only those that fail");
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunWhatIf(global, *options); };
  });
}

}  // namespace tlsweep::cli
