// Reads the SMTP client TLS settings of a Postfix main.cf the way Postfix's own smtp(8) and
// tls_client code combine them, into one candidate.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_spec.h"

namespace tlsweep::backends {

// Postfix 3.7 defaults (`postconf -d` on Debian 12, Postfix 3.7.11) for every parameter the
// reader uses when main.cf does not set it.
const std::map<std::string, std::string>& PostfixDefaults();

// `content` is a main.cf; `file_name` is used in warnings and as the candidate's source.
// - Syntax as postconf(5): `name = value`, lines starting with whitespace continue the previous
//   one, `#` comment lines; $name, ${name}, $(name), ${name?text}, ${name:text} expand
//   parameters of the same file (or the defaults above).
// - The security level (smtp_tls_security_level, or the legacy smtp_use_tls/smtp_enforce_tls)
//   chooses the parameters: none/may/dane use smtp_tls_ciphers and smtp_tls_protocols;
//   encrypt, fingerprint, dane-only, verify and secure use the mandatory ones, add
//   smtp_tls_mandatory_exclude_ciphers and set tls_required. Levels that match certificates
//   also exclude aNULL, as Postfix does.
// - The cipher grade names tls_<grade>_cipherlist; each exclusion is appended as ":!X".
// - Protocols: exclusions (`!SSLv2, !SSLv3`), inclusions (`TLSv1.2 TLSv1.3`) and bounds
//   (`>=TLSv1.2`, `<=TLSv1.3`), resolved the way OpenSSL resolves SSL_OP_NO_* flags.
// - tls_eecdh_auto_curves becomes the groups (Postfix always sets them on the client).
// - legacy is set only when the cipher list says @SECLEVEL=0: Postfix otherwise runs at the
//   system's OpenSSL security level.
// Errors (bad syntax, unknown level, grade or protocol) carry file:line.
absl::StatusOr<CandidateSet> ParsePostfixMainCf(absl::string_view content,
                                                absl::string_view file_name);

absl::StatusOr<CandidateSet> ReadPostfixMainCf(const std::string& path);

}  // namespace tlsweep::backends
