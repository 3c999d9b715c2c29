// Converts what plugins report into the wire schema (proto/tlsweep/v1/tls.proto), adding IANA
// names from the shared tables.
#pragma once

#include "absl/strings/string_view.h"
#include "backends/backend.h"
#include "backends/handshake_outcome.h"
#include "backends/tls_version_proto.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

tlsweep::v1::TlsFailureClass FailureToProto(FailureClass failure);

tlsweep::v1::TlsHandshake HandshakeToProto(const HandshakeOutcome& outcome,
                                           absl::string_view backend,
                                           absl::string_view verified_name);
tlsweep::v1::Offer OfferToProto(const Offer& offer, absl::string_view backend);
// Only the DER when the plugin could not parse it.
tlsweep::v1::CertificateSummary CertificateToProto(const CertificateFacts& facts);

}  // namespace tlsweep::backends
