// Everything a sweep is told: which TLS configurations to try, how hard it may push, which
// MX hosts and addresses to test, and what it must never contact.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "agent/dns/mx_resolver.h"
#include "agent/policy/opt_out_list.h"
#include "agent/politeness/politeness_gate.h"
#include "agent/probe/probe_types.h"

namespace tlsweep::agent {

struct MxSelection {
  size_t max_mx_hosts = 5;     // In preference order.
  bool primary_only = false;   // Only the most preferred MX host(s) (lowest preference value).
  bool all_addresses = false;  // Every address of a host, not just the first.
};

struct SweepOptions {
  int threads = 0;  // Event loops; 0: one per core.
  size_t max_in_flight_targets = 256;
  std::vector<backends::TlsCandidate> candidates;  // At least one, unless `enumerate`.
  // Also enumerate every endpoint (suites per version, preference, groups) once, offering
  // through every backend listed (default: the candidates' backends).
  bool enumerate = false;
  std::vector<backends::Backend*> enumeration_backends;
  ProbeOptions probe;
  PolitenessOptions politeness;
  // The gate to share with every other sweep of this process (an agent runs one sweep per
  // leased unit): its limits then hold for the process, whatever the number of units at once.
  // Null: the sweep makes its own from `politeness`.
  std::shared_ptr<PolitenessGate> gate;
  ResolverOptions resolver;
  MxSelection selection;
  bool allow_private = false;
  const OptOutList* opt_out = nullptr;
  // A 421 (rate limit) backs the IP off for delay * 2^(attempt-1), up to max_attempts probes.
  int max_attempts = 4;
  std::chrono::milliseconds rate_limit_backoff{30'000};
  // Resolve only: each endpoint a target uses becomes one PROBE_KIND_ROUTE result, and nothing is
  // probed (the coordinator's resolve units; see UnitKind in agent_stream.proto).
  bool resolve_only = false;
  // Endpoint results kept for reuse by later domains; beyond this, endpoints are re-probed.
  size_t max_cached_endpoints = 1'000'000;
};

}  // namespace tlsweep::agent
