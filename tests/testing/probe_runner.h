// Runs one STARTTLS probe to completion on a private io_context, for tests.
#pragma once

#include <string>

#include "agent/probe/probe_types.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::testing {

// A candidate for `backend` with the library default configuration (and `legacy` as given).
backends::TlsCandidate DefaultCandidate(const std::string& backend, bool legacy = false);

// "127.0.0.1:2525" -> an endpoint whose MX host is "mx.example.test".
agent::ProbeEndpoint EndpointAt(const std::string& address_and_port);

tlsweep::v1::ProbeResult RunProbe(const agent::ProbeEndpoint& endpoint,
                                  const backends::TlsCandidate& candidate,
                                  const agent::ProbeOptions& options);

}  // namespace tlsweep::testing
