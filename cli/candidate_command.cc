#include "cli/candidate_command.h"

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

// Destinations named per group of overrides with the same settings; the rest are counted.
constexpr int kScopesShown = 10;

// One line per version ("TLSv1.2  17 suites: A B C D ..."), then the groups; each line starts
// with `indent`.
void PrintOffer(const tlsweep::v1::TlsClientSettings& settings,
                const backends::BackendRegistry& registry, const std::string& indent = "  ") {
  if (settings.tls_disabled()) {
    std::cout << indent << "no TLS: mail goes out in clear text\n";
    return;
  }
  absl::StatusOr<backends::TlsCandidate> candidate =
      backends::BuildCandidate(settings, registry, "");
  if (!candidate.ok()) {
    std::cout << indent << "offers nothing: " << candidate.status().message() << "\n";
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
    std::cout << indent
              << backends::TlsVersionName(
                     backends::VersionFromProto(static_cast<tlsweep::v1::TlsVersion>(version)))
              << "  " << names.size() << (names.size() == 1 ? " suite: " : " suites: ")
              << absl::StrJoin(shown, " ") << "\n";
  }
  std::cout << indent << "groups: "
            << (proto.groups().empty() ? "(none)" : absl::StrJoin(proto.groups(), " ")) << "\n";
}

// The candidate's per-destination overrides, grouped by equal settings (a policy table may
// give thousands of destinations a handful of settings): the destinations and where each came
// from, then the settings as a spec line and what they offer.
void PrintOverrides(const tlsweep::v1::TlsClientSettings& candidate,
                    const backends::BackendRegistry* registry) {
  if (candidate.overrides().empty()) return;
  std::vector<std::string> specs;  // In order of first appearance.
  std::map<std::string, std::vector<const tlsweep::v1::DomainOverride*>> groups;
  for (const tlsweep::v1::DomainOverride& entry : candidate.overrides()) {
    const std::string spec = backends::FormatCandidateSpec(entry.settings());
    auto [it, inserted] = groups.try_emplace(spec);
    if (inserted) specs.push_back(spec);
    it->second.push_back(&entry);
  }
  std::cout << "  overrides: " << candidate.overrides_size()
            << (candidate.overrides_size() == 1 ? " destination" : " destinations") << ", "
            << specs.size() << (specs.size() == 1 ? " setting\n" : " distinct settings\n");
  for (const std::string& spec : specs) {
    const std::vector<const tlsweep::v1::DomainOverride*>& entries = groups[spec];
    std::vector<std::string> destinations;
    for (const tlsweep::v1::DomainOverride* entry : entries) {
      for (const std::string& domain : entry->domains()) {
        destinations.push_back(entry->next_hop() ? absl::StrCat(domain, " (next hop)") : domain);
      }
    }
    if (destinations.size() > kScopesShown) {
      const size_t more = destinations.size() - kScopesShown;
      destinations.resize(kScopesShown);
      destinations.push_back(absl::StrCat("... ", more, " more"));
    }
    std::cout << "  override for " << absl::StrJoin(destinations, ", ") << "\n";
    for (size_t i = 0; i < entries.size() && i < kScopesShown; ++i) {
      std::cout << "    from " << entries[i]->scope() << "\n";
    }
    std::cout << "    " << spec << "\n";
    if (registry != nullptr) PrintOffer(entries.front()->settings(), *registry, "      ");
  }
}

int RunCandidate(const GlobalOptions& global, const CandidateOptions& options) {
  absl::StatusOr<backends::CandidateFileFormat> format =
      backends::ParseCandidateFileFormat(options.format);
  if (!format.ok()) {
    std::cerr << "tlsweep: " << format.status().message() << "\n";
    return 2;
  }
  backends::CandidateFileFormat used = *format;
  const backends::CandidateFileArgument file = backends::ParseCandidateFileArgument(options.file);
  absl::StatusOr<backends::CandidateSet> set =
      backends::LoadCandidateFile(file.path, *format, &used);
  if (!set.ok()) {
    std::cerr << "tlsweep: " << set.status().message() << "\n";
    return 2;
  }
  if (!file.name.empty()) backends::RenameCandidates(*set, file.name);
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
  std::cout << "# " << file.path << " read as " << backends::CandidateFileFormatName(used) << ": "
            << set->candidates.size()
            << (set->candidates.size() == 1 ? " candidate, " : " candidates, ")
            << set->warnings.size() << (set->warnings.size() == 1 ? " warning\n" : " warnings\n");
  for (const tlsweep::v1::TlsClientSettings& settings : set->candidates) {
    std::cout << backends::FormatCandidateSpec(settings) << "\n";
    if (registry.ok()) {
      PrintOffer(settings, *registry);
    } else {
      std::cout << "  offer not shown: " << registry.status().message() << "\n";
    }
    PrintOverrides(settings, registry.ok() ? &*registry : nullptr);
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
      "per TLS version, its per-destination overrides (Momentum Domain scopes, Postfix "
      "smtp_tls_policy_maps) with theirs, then the settings that were not modelled (file:line). "
      "No network access. Exit status: 0 read, 2 the file could not be parsed.");
  command
      ->add_option("--from", options->file,
                   "Momentum/Ecelerity ecelerity.conf or Postfix main.cf to read (with the "
                   "master.cf beside it and the policy tables it names); NAME=FILE names the "
                   "candidates as --candidate-from does")
      ->required();
  command->add_option("--format", options->format, "File format: auto, ecelerity or postfix")
      ->check(CLI::IsMember({"auto", "ecelerity", "momentum", "postfix"}))
      ->capture_default_str();
  command->add_flag("--json", options->json,
                    "Print each candidate as a TlsClientSettings JSON object (one a line, with "
                    "its overrides); warnings go to stderr");
  command->callback([&global, &action, options] {
    action = [&global, options] { return RunCandidate(global, *options); };
  });
}

}  // namespace tlsweep::cli
