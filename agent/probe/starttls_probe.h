// The STARTTLS probe: what `openssl s_client -starttls smtp` does by hand, as one coroutine
// that reads top to bottom: connect, 220, EHLO, STARTTLS, 220, TLS handshake, QUIT. Every
// outcome, failures included, is a ProbeResult; nothing throws out of it.
#pragma once

#include "agent/probe/probe_types.h"
#include "agent/probe/starttls_opener.h"
#include "asio.hpp"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

asio::awaitable<tlsweep::v1::ProbeResult> RunStarttlsProbe(ProbeEndpoint endpoint,
                                                           const backends::TlsCandidate& candidate,
                                                           const ProbeOptions& options);

// Fills the identifying fields of a result for `endpoint` (also used for results of probes
// that never ran: opted out, not allowed...).
tlsweep::v1::ProbeResult NewResultFor(const ProbeEndpoint& endpoint,
                                      const backends::TlsCandidate& candidate);

}  // namespace tlsweep::agent
