// Reads the outbound TLS settings of a Momentum/Ecelerity ecelerity.conf into candidates: one
// for the global scope and one per Domain / Binding / Binding_Group scope that overrides an
// outbound TLS option (inheriting the rest from its enclosing scopes).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_spec.h"

namespace tlsweep::backends {

// Syntax: `Name = value` (value bare, "quoted", 'quoted', a ( list ) or a <<EOT heredoc),
// `#` comments, scopes `Kind ["name"] { ... }`; option names are case-insensitive.
// Mapping (Momentum 4 reference):
// - tls_engine (global): openssl | gnutls -> backend.
// - tls_ciphers: an OpenSSL cipher string (openssl) or a GnuTLS priority string (gnutls).
// - tls_protocols (OpenSSL only): `+ALL:-SSLv3:-TLSv1.0`, `+TLSv1.2:+TLSv1.3`; applied by
//   Momentum as SSL_OP_NO_* flags, so a set with a hole offers only its lowest run (warned).
// - tlsv13_ciphersuites (OpenSSL only) -> openssl_ciphersuites.
// - tls_ec_curve_names (global, OpenSSL only) -> groups.
// - tls_enable_dhe_ciphers = false (global) -> ":!DHE:!EDH" (OpenSSL) or ":-DHE-RSA:-DHE-DSS"
//   (GnuTLS) appended.
// - tls = required | ifavailable | no, with tls_ifavailable_fallback -> tls_required.
// Other TLS options (tls_verify, tls_ca, client certificates...) are warned about with
// file:line; listener scopes (inbound) are ignored; `include` is not followed (warned).
absl::StatusOr<CandidateSet> ParseEcelerityConfig(absl::string_view content,
                                                  absl::string_view file_name);

absl::StatusOr<CandidateSet> ReadEcelerityConfig(const std::string& path);

}  // namespace tlsweep::backends
