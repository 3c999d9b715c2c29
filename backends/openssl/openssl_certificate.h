// Reads one DER certificate with libcrypto into the facts a result carries.
#pragma once

#include "absl/strings/string_view.h"
#include "backends/handshake_outcome.h"

namespace tlsweep::backends {

CertificateFacts DescribeCertificateWithOpenssl(absl::string_view der);

}  // namespace tlsweep::backends
