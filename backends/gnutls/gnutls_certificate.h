// Reads one DER certificate with GnuTLS's X.509 parser into the facts a result carries, spelled
// as the OpenSSL plugin spells them (RFC 4514 names, OpenSSL's signature algorithm names).
#pragma once

#include "absl/strings/string_view.h"
#include "backends/handshake_outcome.h"

namespace tlsweep::backends {

CertificateFacts DescribeCertificateWithGnutls(absl::string_view der);

}  // namespace tlsweep::backends
