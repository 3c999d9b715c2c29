// A shared probe's answer as one route sees it. An endpoint is probed once however many
// targets reach it; each target's copy takes its identity from its own route.
#pragma once

#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// Copies the route's identity (target, domain, MX name and preference, implicit MX, list line,
// and its provider when it has one) over `observed`, which keeps what the probe found.
void TakeRouteIdentity(const tlsweep::v1::ProbeResult& route, tlsweep::v1::ProbeResult& observed);

}  // namespace tlsweep::backends
