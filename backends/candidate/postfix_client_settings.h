// The TLS settings Postfix's SMTP client offers at a security level, from its parameters and,
// for one destination, the policy table's ciphers=, protocols= and exclude= (smtp_tls_policy.c's
// policy_create() and set_cipher_grade(), tls_client.c's protocols and curves).
#pragma once

#include "absl/status/statusor.h"
#include "backends/candidate/config_warnings.h"
#include "backends/candidate/postfix_parameters.h"
#include "backends/candidate/postfix_tls_policy.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// - none and dane are modelled as may: what an opportunistic client offers (none sends in
//   clear text: the caller says so; dane is may for destinations without usable TLSA records).
// - may uses smtp_tls_ciphers and smtp_tls_protocols; encrypt and above the mandatory ones, add
//   smtp_tls_mandatory_exclude_ciphers and set tls_required. A policy's ciphers= and protocols=
//   replace the parameter; exclude= replaces both exclusion parameters.
// - The grade names tls_<grade>_cipherlist; each exclusion is appended as ":!X". Levels that
//   match certificates also exclude aNULL; encrypt excludes eNULL, which is appended only when
//   the list names eNULL (no grade but null does, and the list stays as users know it).
// - Protocols: exclusions (`!SSLv2, !SSLv3`), inclusions (`TLSv1.2 TLSv1.3`) and bounds
//   (`>=TLSv1.2`, `<=TLSv1.3`), resolved the way OpenSSL resolves SSL_OP_NO_* flags.
// - tls_eecdh_auto_curves becomes the groups; legacy is set only when the list says
//   @SECLEVEL=0 (Postfix otherwise runs at the system's OpenSSL security level).
// Sets backend (openssl), the ciphers, versions, groups, legacy and tls_required; not the name
// or source. Errors (unknown grade or protocol, a bad exclusion, no version left) carry the
// file:line of the parameter or policy line that set the value.
absl::StatusOr<tlsweep::v1::TlsClientSettings> PostfixClientSettings(PostfixParameters& parameters,
                                                                     const PostfixTlsPolicy& policy,
                                                                     ConfigWarnings& warnings);

}  // namespace tlsweep::backends
