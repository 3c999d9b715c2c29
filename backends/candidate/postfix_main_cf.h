// Reads the SMTP client TLS settings of a Postfix configuration the way smtp(8) combines them:
// main.cf, the master.cf `-o` overrides of the transport that delivers remote mail, and the
// per-destination policies of smtp_tls_policy_maps. One candidate ("postfix"), whose overrides
// hold the policy table's destinations.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_spec.h"
#include "backends/candidate/postfix_parameters.h"
#include "backends/candidate/postfix_table.h"

namespace tlsweep::backends {

struct PostfixConfigInput {
  absl::string_view main_cf;
  std::string main_cf_name;  // In messages and as the source; its directory is config_directory.
  std::optional<std::string> master_cf;  // Content, when there is one.
  std::string master_cf_name;
  // Tables in files (smtp_tls_policy_maps = hash:...) are read through this; nullptr: not read
  // (warned).
  const PostfixFileAccess* files = nullptr;
};

// - main.cf syntax as postconf(5): `name = value`, lines starting with whitespace continue the
//   previous one, `#` comment lines; values expand as PostfixParameters says (= postconf -x).
// - master.cf: the `-o` overrides of the service default_transport names (smtp: the `smtp unix`
//   service running smtp) are applied over main.cf; other services that override TLS settings
//   are warned about with file:line (mail routed to them is not modelled).
// - The security level (smtp_tls_security_level, or the legacy smtp_use_tls/smtp_enforce_tls)
//   and the parameters give the candidate's settings (PostfixClientSettings); level none is
//   warned about and shows what may would offer.
// - smtp_tls_policy_maps (texthash:, inline:, the source of hash:... tables; ReadPostfixTable):
//   one DomainOverride per destination with the complete settings smtp(8) uses for it. Keys
//   "example.com" and ".example.com" are domains (Postfix's lookup order: SettingsForDomain);
//   "[host]:port", "[host]" and "host:port" are next hops, recorded with next_hop set (warned).
//   Level none gives an override with tls_disabled (and the candidate's settings otherwise).
// Errors (bad syntax, an unknown level, grade or protocol, a malformed policy) carry file:line.
absl::StatusOr<CandidateSet> ParsePostfixConfig(const PostfixConfigInput& input);

// main.cf alone, reading no other file.
absl::StatusOr<CandidateSet> ParsePostfixMainCf(absl::string_view content,
                                                absl::string_view file_name);

// main.cf read from `path` (content given, or read when nullopt), master.cf next to it when
// there is one, and policy tables from the file system.
absl::StatusOr<CandidateSet> ReadPostfixMainCf(const std::string& path,
                                               std::optional<std::string> content = std::nullopt);

}  // namespace tlsweep::backends
