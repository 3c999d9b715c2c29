// TlsVersion <-> the wire schema's enum (proto/tlsweep/v1/tls.proto), in one place for every
// library that speaks both (outcome conversion, candidates, the negotiation model).
#pragma once

#include "backends/tls_version.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep::backends {

tlsweep::v1::TlsVersion VersionToProto(TlsVersion version);
TlsVersion VersionFromProto(tlsweep::v1::TlsVersion version);

}  // namespace tlsweep::backends
