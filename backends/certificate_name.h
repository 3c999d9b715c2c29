// Does a certificate name a host? RFC 6125 as MTAs apply it: dNSName subjectAltNames, with a
// wildcard only as the whole left-most label ("*.example.com" matches "mx.example.com", not
// "example.com" nor "a.mx.example.com"); the subject CN only when the certificate has no
// dNSName; an IP address only through an iPAddress entry. Case-insensitive, a trailing dot
// ignored. Used where one probe of a shared address serves many MX names: the handshake checked
// the name it was made under, and every other name is checked here from the same certificate.
#pragma once

#include "absl/strings/string_view.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

bool CertificateNamesHost(const tlsweep::v1::CertificateSummary& leaf, absl::string_view host);

// Sets verification.hostname_match and verified_name of `handshake` for `host`, from its leaf
// certificate, when the handshake's own check was made (a verify name was set) under another
// name. Nothing changes when there is no leaf certificate.
void RecheckHostname(tlsweep::v1::TlsHandshake& handshake, absl::string_view host);

}  // namespace tlsweep::backends
