// What two handshakes to one address under different MX names (SNI) must share for one probe
// to serve every name: the outcome, version and suite, and the leaf certificate. A hosted
// provider that serves one certificate for all its customers' MX names gives equal
// fingerprints; one that picks a certificate (or a TLS policy) per name does not.
#pragma once

#include <string>

#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

// "failure|version|suite code point|leaf SHA-256"; stable across agents and versions, because
// the coordinator keeps it to compare names found later.
std::string SniFingerprint(const tlsweep::v1::ProbeResult& result);

// True when the result says nothing about the server's TLS answer (a timeout, a refused or
// rate-limited connection...): comparing it would mistake a transient failure for SNI
// dependence, and then probe every name of a large provider.
bool SniInconclusive(const tlsweep::v1::ProbeResult& result);

// What differs between two fingerprints, for SniSharing.detail ("certificate differs").
std::string SniDifference(const std::string& reference, const std::string& other);

// True when the negotiation itself (outcome, version, suite) differs, not only the
// certificate: then what the server accepts may depend on the name, and each name is
// enumerated on its own too.
bool SniNegotiationDiffers(const std::string& reference, const std::string& other);

}  // namespace tlsweep::agent
