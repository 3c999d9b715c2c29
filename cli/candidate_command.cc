#include "cli/candidate_command.h"

#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/candidate_file.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/tls_candidate.h"
#include "backends/outcome_proto.h"
#include "backends/plugin_loader.h"
#include "cli/proto_json.h"

namespace tlsweep::cli {
namespace {

// Suites named per version in the summary; the rest are counted.
constexpr int kSuitesShown = 4;

struct CandidateOptions {
  std::string file;
  std::string format = "auto";
  bool json = false;
};

// One line per version ("TLSv1.2  17 suites: A B C D ..."), then the groups.
void PrintOffer(const tlsweep::v1::TlsClientSettings& settings,
                const backends::BackendRegistry& registry) {
  absl::StatusOr<backends::TlsCandidate> candidate =
      backends::BuildCandidate(settings, registry, "");
  if (!candidate.ok()) {
    std::cout << "  offers nothing: " << candidate.status().message() << "\n";
    return;
  }
  const tlsweep::v1::Offer proto = backends::OfferToProto(candidate->offer, settings.backend());
  std::map<int, std::vector<std::string>> by_version;
  for (const tlsweep::v1::OfferedSuite& suite : proto.suites()) {
    if (suite.never_completes()) continue;  // Offered, but no handshake on it completes.
    by_version[suite.version()].push_back(suite.iana_name());
  }
  for (const auto& [version, names] : by_version) {
    std::vector<std::string> shown(names.begin(),
                                   names.begin() + std::min<size_t>(names.size(), kSuitesShown));
    if (names.size() > shown.size()) shown.push_back("...");
    std::cout << "  "
              << backends::TlsVersionName(
                     backends::VersionFromProto(static_cast<tlsweep::v1::TlsVersion>(version)))
              << "  " << names.size() << (names.size() == 1 ? " suite: " : " suites: ")
              << absl::StrJoin(shown, " ") << "\n";
  }
  std::cout << "  groups: "
            << (proto.groups().empty() ? "(none)" : absl::StrJoin(proto.groups(), " ")) << "\n";
}

int RunCandidate(const GlobalOptions& global, const CandidateOptions& options) {
  absl::StatusOr<backends::CandidateFileFormat> format =
      backends::ParseCandidateFileFormat(options.format);
  if (!format.ok()) {
    std::cerr << "tlsweep: " << format.status().message() << "\n";
    return 2;
  }
  backends::CandidateFileFormat used = *format;
  absl::StatusOr<backends::CandidateSet> set =
      backends::LoadCandidateFile(options.file, *format, &used);
  if (!set.ok()) {
    std::cerr << "tlsweep: " << set.status().message() << "\n";
    return 2;
  }
  if (options.json) {
    for (const tlsweep::v1::TlsClientSettings& settings : set->candidates) {
      std::cout << ToJson(settings) << "\n";
    }
    for (const std::string& warning : set->warnings) {
      std::cerr << "tlsweep: warning: " << warning << "\n";
    }
    return 0;
  }
  absl::StatusOr<backends::BackendRegistry> registry =
      backends::BackendRegistry::LoadDirectory(backends::ResolvePluginDirectory(global.plugin_dir));
  std::cout << "# " << options.file << " read as " << backends::CandidateFileFormatName(used)
            << ": " << set->candidates.size()
            << (set->candidates.size() == 1 ? " candidate, " : " candidates, ")
            << set->warnings.size() << (set->warnings.size() == 1 ? " warning\n" : " warnings\n");
  for (const tlsweep::v1::TlsClientSettings& settings : set->candidates) {
    std::cout << backends::FormatCandidateSpec(settings) << "\n";
    if (registry.ok()) {
      PrintOffer(settings, *registry);
    } else {
      std::cout << "  offer not shown: " << registry.status().message() << "\n";
    }
  }
  for (const std::string& warning : set->warnings) {
    std::cout << "warning: " << warning << "\n";
  }
  if (!registry.ok()) {
    std::cerr << "tlsweep: " << registry.status().message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

void AddCandidateCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<CandidateOptions>();
  CLI::App* command = app.add_subcommand(
      "candidate",
      "Show how an MTA configuration is understood as candidate TLS client configs: one "
      "`name=... backend=...` spec line per candidate (usable with --candidate), what it offers "
      "per TLS version, then the settings that were not modelled (file:line). No network "
      "access. Exit status: 0 read, 2 the file could not be parsed.");
  command
      ->add_option("--from", options->file,
                   "Momentum/Ecelerity ecelerity.conf or Postfix main.cf to read")
      ->required();
  command->add_option("--format", options->format, "File format: auto, ecelerity or postfix")
      ->check(CLI::IsMember({"auto", "ecelerity", "momentum", "postfix"}))
      ->capture_default_str();
  command->add_flag("--json", options->json,
                    "Print each candidate as a TlsClientSettings JSON object (one a line); "
                    "warnings go to stderr");
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunCandidate(global, *options); };
  });
}

}  // namespace tlsweep::cli
