// One candidate TLS client configuration written on one line, the way `--candidate` takes it:
//   name=proposed backend=openssl ciphers='DEFAULT:!AES256-SHA' min=TLSv1.2 tls=required
// and the result every MTA config reader returns (candidates plus file:line warnings).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// What a config reader understood: one or more candidates (e.g. the global scope and each
// Binding scope of an ecelerity.conf), each with its per-domain overrides, and everything it
// read but could not model, as "file:line: message".
struct CandidateSet {
  // The name the reader gave the file's main candidate ("postfix", "ecelerity"); the others are
  // named "<name>/..." (so that `--candidate-from NAME=FILE` can rename them all).
  std::string name;
  std::vector<tlsweep::v1::TlsClientSettings> candidates;
  std::vector<std::string> warnings;
};

// Space-separated key=value pairs; a value may be quoted with '...' or "..." (backslash escapes
// the next character inside double quotes). Keys: name, backend (openssl|gnutls|rawhello), ciphers
// (OpenSSL cipher string), ciphersuites (OpenSSL TLS 1.3 suites), priority (GnuTLS priority
// string), min, max (TLSv1 ... TLSv1.3), groups (x25519:secp256r1), legacy (yes|no),
// tls (required|opportunistic|none; also ifavailable, may, no, encrypt; none and off set
// tls_disabled: the MTA would not use TLS at all), hello (a file of `tlsweep capture`: the
// captured ClientHello is the base, backend rawhello; see captured_hello.h). backend=rawhello
// takes explicit suite lists (code points, names) in ciphers=/ciphersuites=. Without backend=, a
// spec with
// priority= is gnutls, anything else openssl. Errors name the offending key. source is set to
// "--candidate".
absl::StatusOr<tlsweep::v1::TlsClientSettings> ParseCandidateSpec(absl::string_view spec);

// The reverse, for display: `name=... backend=... ...`, quoting values that need it. Parsing the
// result gives back the same settings (except source).
std::string FormatCandidateSpec(const tlsweep::v1::TlsClientSettings& settings);

// Checks what every candidate must satisfy, wherever it came from, and fills in the backend
// (gnutls when only a priority string is set, else openssl): backend is "openssl" or
// "gnutls"; no cipher setting of the other library; min <= max; groups known; not both
// tls_required and tls_disabled. Each override must list lower-case domains, carry the
// candidate's name (filled in when empty), pass the same checks and have no overrides itself.
// The spec form above does not carry overrides: FormatCandidateSpec leaves them out.
absl::Status ValidateCandidate(tlsweep::v1::TlsClientSettings& settings);

}  // namespace tlsweep::backends
