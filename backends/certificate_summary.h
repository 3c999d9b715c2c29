// Parses a DER certificate into the summary every result carries. Done once, on the host side,
// with one parser (libcrypto's), so that both backends' results read the same.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

absl::StatusOr<tlsweep::v1::CertificateSummary> SummarizeCertificate(absl::string_view der);

}  // namespace tlsweep::backends
