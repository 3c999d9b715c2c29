// Real agents (AgentClient + the sweep runner) in a test process, for scans of loopback test
// servers run through a coordinator started by the test.
#pragma once

#include <string>

#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"

namespace tlsweep::testing {

// One thread, OpenSSL's default candidate, private addresses allowed, no politeness delays,
// and short timeouts (2 s connect, 5 s banner).
agent::SweepRunnerOptions LoopbackRunnerOptions();

// An agent of region "eu" for the coordinator on 127.0.0.1:port, quick to poll and to retry:
// mutual TLS with SharedCoordinatorPki(), or plain text for a --dev coordinator (`dev`).
agent::AgentClientOptions TestAgentOptions(int port, const std::string& agent_id, bool dev = false);

}  // namespace tlsweep::testing
