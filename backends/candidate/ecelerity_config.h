// Reads the outbound TLS settings of a Momentum/Ecelerity ecelerity.conf into candidates: one
// for the global scope ("ecelerity") and one per Binding or Binding_Group ("ecelerity/NAME":
// they carry traffic of their own) that sets an outbound TLS option itself or in a Domain scope
// inside it. Domain scopes are not candidates: they are the overrides of each candidate whose
// traffic they apply to.
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
// Scopes, as Momentum falls back from one to the next: a message of Binding B (in
// Binding_Group G) to domain D takes each option from the first of B/D, B, G/D, G, D, global
// that sets it. So a candidate's settings come from its own scope, its group's and the global
// one; its overrides are the Domain scopes it sees (its own, its group's, the global ones), each
// with the complete settings that fallback gives (left out when they equal the candidate's).
// A Domain scope whose own tls = no makes an override with tls_disabled. Domain names become
// lower-case A-labels; a name that is not a domain, a scope defined twice, or a nesting Momentum
// does not have (a Domain inside a Domain) is warned about or refused with file:line.
// Other TLS options (tls_verify, tls_ca, client certificates...) are warned about with
// file:line; listener scopes (inbound) are ignored; `include` is not followed (warned).
absl::StatusOr<CandidateSet> ParseEcelerityConfig(absl::string_view content,
                                                  absl::string_view file_name);

absl::StatusOr<CandidateSet> ReadEcelerityConfig(const std::string& path);

}  // namespace tlsweep::backends
