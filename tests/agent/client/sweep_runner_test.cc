// The sweep runner runs every unit an agent leases at once under one politeness gate: the
// global rate, per-IP limits and back-off hold for the agent process, whatever --capacity is.
// Checked at the servers: accept times across every listener.
#include "agent/client/sweep_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tests/testing/probe_runner.h"

namespace tlsweep::agent {
namespace {

using Behaviour = testing::HostileSmtpServer::Behaviour;
using std::chrono::milliseconds;

TEST(SweepRunnerTest, UnitsRunAtOnceShareTheAgentsConnectionRate) {
  // Eight listeners on their own addresses, so that only the global rate can space them.
  std::vector<std::unique_ptr<testing::HostileSmtpServer>> servers;
  for (int i = 1; i <= 8; ++i) {
    auto server =
        testing::HostileSmtpServer::Start(Behaviour::kNoStarttls, absl::StrCat("127.0.5.", i));
    ASSERT_TRUE(server.ok()) << server.status();
    servers.push_back(*std::move(server));
  }
  SweepRunnerOptions options;
  options.base.candidates.push_back(testing::DefaultCandidate("openssl"));
  options.base.allow_private = true;
  options.base.threads = 1;
  options.base.probe.ehlo_name = "scanner.example.test";
  options.base.politeness.connections_per_second = 8;  // One start every 125 ms.
  options.base.politeness.per_ip_spacing = milliseconds(0);
  options.gate = std::make_shared<PolitenessGate>(options.base.politeness);
  const std::shared_ptr<PolitenessGate> gate = options.gate;
  ShardRunner runner = MakeSweepRunner(options);

  // Two probe units, four addresses each, run by two workers at once (capacity 2).
  std::vector<v1::ShardAssignment> units(2);
  for (int unit = 0; unit < 2; ++unit) {
    units[unit].set_kind(v1::UNIT_PROBE_ENDPOINTS);
    for (int i = 0; i < 4; ++i) {
      const testing::HostileSmtpServer& server = *servers[unit * 4 + i];
      v1::ShardEndpoint* endpoint = units[unit].add_endpoints();
      endpoint->set_mx_host(absl::StrCat("mx", unit * 4 + i, ".example.test"));
      endpoint->set_address(server.address());
      endpoint->set_port(server.port());
    }
  }
  std::atomic<bool> cancelled{false};
  std::vector<std::vector<v1::ProbeResult>> results(2);
  std::vector<std::thread> workers;
  for (int unit = 0; unit < 2; ++unit) {
    workers.emplace_back([&, unit] {
      const auto emit = [&](v1::ProbeResult result) { results[unit].push_back(result); };
      EXPECT_TRUE(runner(units[unit], emit, cancelled).ok());
    });
  }
  for (std::thread& worker : workers) worker.join();

  std::vector<std::chrono::steady_clock::time_point> accepts;
  for (const auto& server : servers) {
    ASSERT_EQ(server->connections_accepted(), 1) << server->address();
    for (auto when : server->accept_times()) accepts.push_back(when);
  }
  for (const auto& unit_results : results) {
    ASSERT_EQ(unit_results.size(), 4u);
    for (const v1::ProbeResult& result : unit_results) {
      EXPECT_EQ(result.failure(), v1::STARTTLS_NOT_OFFERED) << result.failure_detail();
    }
  }
  EXPECT_EQ(gate->connections_started(), 8) << "both units went through the agent's one gate";
  std::sort(accepts.begin(), accepts.end());
  // 125 ms apart at the rate; 15 ms of slack for scheduling between the gate and accept().
  for (size_t i = 1; i < accepts.size(); ++i) {
    EXPECT_GE(accepts[i] - accepts[i - 1], milliseconds(110))
        << "connections " << i - 1 << " and " << i << " broke the agent's rate";
  }
}

}  // namespace
}  // namespace tlsweep::agent
