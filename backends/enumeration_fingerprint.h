// Whether an endpoint is still the server an earlier enumeration described. An enumeration costs
// 5 to 100 connections, a candidate's handshake one, and a server's configuration rarely changes
// between two nightly scans: when the handshake a scan makes anyway gets the same answer as the
// one made beside the last enumeration, that enumeration is reused (ShardEndpoint.known_*).
#pragma once

#include <string>

#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// "version|suite code point|group|leaf SHA-256|STARTTLS" of a completed handshake, or
// "no-starttls" for a server that does not offer STARTTLS. Empty when the result cannot vouch
// for the server (a failed handshake, a timeout...): then the endpoint is enumerated again.
// Stable across agents and versions: the coordinator keeps it between scans.
std::string EnumerationFingerprint(const tlsweep::v1::ProbeResult& result);

}  // namespace tlsweep::backends
