// Converts what plugins report into the wire schema (proto/tlsweep/v1/tls.proto), adding IANA
// names from the shared tables and parsed certificate summaries.
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

}  // namespace tlsweep::backends
