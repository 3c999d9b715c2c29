// MTA configs pasted by users: every input is read as a Momentum/Ecelerity ecelerity.conf and as
// a Postfix main.cf (each parser meets the other's syntax too), and its format is detected. The
// Postfix reader also gets the input as its master.cf and as every table file it names (hash:,
// texthash:...), and the input is read on its own as a master.cf, a policy table source, an
// inline table and a policy line, so that each of those parsers sees arbitrary bytes.
// Every candidate a reader returns must be one the rest of tlsweep accepts: it passes
// ValidateCandidate, and FormatCandidateSpec gives a spec that parses back to it (that is how
// `tlsweep candidate --from` prints it for a --candidate flag); the same holds for each
// override's settings, and SettingsForDomain finds each override under its own domain.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_file.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/config_warnings.h"
#include "backends/candidate/ecelerity_config.h"
#include "backends/candidate/postfix_main_cf.h"
#include "backends/candidate/postfix_master_cf.h"
#include "backends/candidate/postfix_parameters.h"
#include "backends/candidate/postfix_table.h"
#include "backends/candidate/postfix_tls_policy.h"
#include "backends/candidate/settings_for_domain.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using tlsweep::backends::CandidateSet;

void CheckSpecRoundTrip(const tlsweep::v1::TlsClientSettings& settings) {
  tlsweep::v1::TlsClientSettings candidate = settings;
  candidate.clear_overrides();  // The spec form does not carry them.
  const std::string spec = tlsweep::backends::FormatCandidateSpec(candidate);
  absl::StatusOr<tlsweep::v1::TlsClientSettings> parsed =
      tlsweep::backends::ParseCandidateSpec(spec);
  if (!parsed.ok()) {
    std::fprintf(stderr, "spec: %s\nerror: %s\n", spec.c_str(),
                 std::string(parsed.status().message()).c_str());
  }
  FUZZ_CHECK(parsed.ok());
  parsed->set_source(candidate.source());
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*parsed, candidate));
}

void CheckCandidates(const absl::StatusOr<CandidateSet>& set) {
  if (!set.ok()) {
    FUZZ_CHECK(!set.status().message().empty());
    return;
  }
  for (const tlsweep::v1::TlsClientSettings& candidate : set->candidates) {
    tlsweep::v1::TlsClientSettings validated = candidate;
    FUZZ_CHECK(tlsweep::backends::ValidateCandidate(validated).ok());
    CheckSpecRoundTrip(candidate);
    for (const tlsweep::v1::DomainOverride& entry : candidate.overrides()) {
      FUZZ_CHECK(entry.settings().name() == candidate.name());
      CheckSpecRoundTrip(entry.settings());
      if (entry.next_hop()) continue;
      // The first override listing a key is the one that key finds.
      for (const std::string& domain : entry.domains()) {
        if (domain.empty() || domain[0] == '.') continue;
        const tlsweep::v1::DomainOverride* found =
            tlsweep::backends::OverrideForDomain(candidate, domain);
        FUZZ_CHECK(found != nullptr);
        FUZZ_CHECK(found->domains_size() > 0);
      }
    }
  }
}

// Every file the Postfix reader asks for holds the fuzz input.
tlsweep::backends::PostfixFileAccess InputAsEveryFile(absl::string_view content) {
  return {
      [content](const std::string&) -> absl::StatusOr<std::string> { return std::string(content); },
      [](const std::string&) -> std::optional<std::filesystem::file_time_type> {
        return std::filesystem::file_time_type{};
      }};
}

void ParsePostfixPieces(absl::string_view content) {
  tlsweep::backends::ConfigWarnings warnings;
  (void)tlsweep::backends::ParsePostfixMasterCf(content, "master.cf");
  (void)tlsweep::backends::ParsePostfixTableSource(content, "tls_policy", warnings);
  (void)tlsweep::backends::ParsePostfixInlineTable(content, {"main.cf", 1});
  absl::StatusOr<tlsweep::backends::PostfixTlsPolicy> policy =
      tlsweep::backends::ParsePostfixTlsPolicy(content, "example.com", {"tls_policy", 1}, warnings);
  if (!policy.ok()) FUZZ_CHECK(!policy.status().message().empty());
  // Every parameter the input sets, expanded (what `postconf -x` would print).
  tlsweep::backends::PostfixParameters parameters("main.cf", ".", warnings);
  if (parameters.ReadMainCf(content).ok()) {
    for (const auto& [name, parameter] : parameters.set()) {
      absl::StatusOr<std::string> value = parameters.Get(name);
      if (value.ok()) FUZZ_CHECK(value->size() <= (64u << 10));
    }
  }
  (void)warnings.Take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  CheckCandidates(tlsweep::backends::ParseEcelerityConfig(content, "ecelerity.conf"));
  CheckCandidates(tlsweep::backends::ParsePostfixMainCf(content, "main.cf"));
  const tlsweep::backends::PostfixFileAccess files = InputAsEveryFile(content);
  tlsweep::backends::PostfixConfigInput input;
  input.main_cf = content;
  input.main_cf_name = "/etc/postfix/main.cf";
  input.master_cf = std::string(content);
  input.master_cf_name = "/etc/postfix/master.cf";
  input.files = &files;
  CheckCandidates(tlsweep::backends::ParsePostfixConfig(input));
  ParsePostfixPieces(content);
  (void)tlsweep::backends::DetectCandidateFileFormat("pasted.conf", content);
  return 0;
}
