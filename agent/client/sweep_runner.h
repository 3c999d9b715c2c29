// The ShardRunner that probes for real: one Sweeper per shard, configured from the agent's own
// options (timeouts, resolver, politeness, safety) and the scan's ProbeProfile (candidates).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/client/agent_client.h"
#include "agent/sweep/sweep_options.h"
#include "backends/candidate/candidate_cache.h"
#include "backends/plugin_loader.h"

namespace tlsweep::agent {

struct SweepRunnerOptions {
  SweepOptions base;  // Its candidates are used when a profile names none.
  const backends::BackendRegistry* registry = nullptr;  // Outlives the runner.
  std::string ca_file;  // CA bundle for certificate verification; empty: the system bundle.
  // One gate for every unit the runner runs at once (and, in embedded mode, for every region's
  // agent of the process). Null: MakeSweepRunner makes one from base.politeness.
  std::shared_ptr<PolitenessGate> gate;
  // Candidates built from the profiles' settings, shared the same way. Null: MakeSweepRunner
  // makes one from registry and ca_file.
  std::shared_ptr<backends::CandidateCache> candidates;
  // Called with every result before it is emitted (metrics); from any thread.
  std::function<void(const tlsweep::v1::ProbeResult&)> observe;
};

ShardRunner MakeSweepRunner(SweepRunnerOptions options);

}  // namespace tlsweep::agent
