#include "tests/coordinator/agent_fixture.h"

#include "absl/strings/str_cat.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/probe_runner.h"

namespace tlsweep::testing {

agent::SweepRunnerOptions LoopbackRunnerOptions() {
  agent::SweepRunnerOptions runner;
  runner.base.candidates.push_back(DefaultCandidate("openssl"));
  runner.base.allow_private = true;
  runner.base.threads = 1;
  runner.base.politeness.per_ip_spacing = std::chrono::milliseconds(0);
  runner.base.politeness.connections_per_second = 0;
  runner.base.probe.ehlo_name = "scanner.example.test";
  runner.base.probe.connect_timeout = std::chrono::seconds(2);
  runner.base.probe.banner_timeout = std::chrono::seconds(5);
  return runner;
}

agent::AgentClientOptions TestAgentOptions(int port, const std::string& agent_id, bool dev) {
  agent::AgentClientOptions options;
  options.coordinator = absl::StrCat("127.0.0.1:", port);
  options.agent_id = agent_id;
  options.region = "eu";
  options.capacity = 2;
  options.runs_endpoint_units = true;  // For MakeSweepRunner.
  if (dev) {
    options.insecure = true;
  } else {
    const CoordinatorPki& pki = SharedCoordinatorPki();
    options.ca_file = pki.ca_file;
    options.cert_file = pki.agent.chain_file;
    options.key_file = pki.agent.key_file;
    options.server_name = kServerName;
  }
  options.batch_size = 3;
  options.flush_ms = 100;
  options.poll_ms = 100;
  options.backoff_min_ms = 50;
  options.backoff_max_ms = 400;
  return options;
}

}  // namespace tlsweep::testing
