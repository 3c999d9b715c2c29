// The "enumerate" probe: what one endpoint accepts, per TLS version (suites, whose order wins,
// TLS 1.3 groups), found with as few handshakes as the elimination allows (enumerator.h). Every
// handshake is a new SMTP connection (connect, EHLO, STARTTLS) taken through the politeness gate
// and released before the next; a temporary refusal (4xx, a dropped connection) backs the address
// off and is retried. Accepted suites are confirmed by complete handshakes (enumerator.h).
#pragma once

#include <chrono>
#include <vector>

#include "agent/enumerate/offer_plan.h"
#include "agent/politeness/politeness_gate.h"
#include "agent/probe/probe_types.h"
#include "asio.hpp"
#include "backends/tls_version.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

struct EnumerationContext {
  // What the loaded backends can offer: BuildOfferPlan(backends), built once per process.
  const OfferPlan* plan = nullptr;
  ProbeOptions probe;
  PolitenessGate* gate = nullptr;  // Every connection takes a permit from it.
  // A temporary refusal backs the address off for rate_limit_backoff * 2^(attempt-1), up to
  // max_attempts connections for one handshake (as the sweeper does for a probe).
  int max_attempts = 4;
  std::chrono::milliseconds rate_limit_backoff{30'000};
  bool enumerate_groups = true;                // TLS 1.3 groups.
  std::vector<backends::TlsVersion> versions;  // Empty: every version.
  // Versions enumerated at once after the first (EnumeratorOptions::parallel_versions); the
  // gate still limits the connections open to one address.
  int parallel_versions = 1;
};

// PROBE_KIND_ENUMERATE, enumeration filled. failure is PROBE_OK once the server took a TLS
// handshake, even if it accepted nothing; otherwise the failure of the first connection (TCP,
// SMTP, STARTTLS, or RATE_LIMITED after every retry). An enumeration that the server cut short
// by refusing for now (after every retry) is RATE_LIMITED too, with what it found kept and the
// unfinished versions INCOMPLETE. attempts counts connections; the banner, EHLO and STARTTLS
// fields and stage timings are those of the first connection.
asio::awaitable<tlsweep::v1::ProbeResult> RunEnumeration(ProbeEndpoint endpoint,
                                                         const EnumerationContext& context);

}  // namespace tlsweep::agent
