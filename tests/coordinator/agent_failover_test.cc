// A real tlsweep-agent killed with SIGKILL in the middle of a probe unit: its lease expires,
// another agent of the region takes the unit over and finishes it, and every target ends with
// exactly one result (nothing lost, nothing counted twice).
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "coordinator/server.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/child_process.h"
#include "tests/testing/hostile_smtp_server.h"

namespace tlsweep::testing {
namespace {

using ::tlsweep::v1::Scan;

TEST(AgentFailoverTest, KilledAgentsUnitIsFinishedByAnother) {
  const std::string directory = MakeTempDirectory("tlsweep-failover");
  coordinator::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.store_path = directory + "/store.db";
  options.dev = true;
  options.coordinator.lease_ms = 1'500;
  options.coordinator.heartbeat_ms = 200;
  options.coordinator.expiry_check_ms = 100;
  auto server = coordinator::CoordinatorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  coordinator::Store& store = (*server)->coordinator().store();

  // Two tarpits (they never greet: a probe of them hangs until the banner timeout) and eight
  // refused ports.
  auto tarpit_a = HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kTarpit);
  auto tarpit_b = HostileSmtpServer::Start(HostileSmtpServer::Behaviour::kTarpit);
  ASSERT_TRUE(tarpit_a.ok() && tarpit_b.ok());
  const std::string list = absl::StrCat((*tarpit_a)->endpoint(), "\n", (*tarpit_b)->endpoint(),
                                        "\n", RefusedTargets(34001, 8));
  v1::ScanHeader header;
  header.add_regions("eu");
  header.set_shard_size(4);
  header.set_endpoint_shard_size(100);
  header.set_max_attempts(3);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials());
  Scan scan;
  grpc::Status submitted = Submit(*channel, header, list, &scan, "");
  ASSERT_TRUE(submitted.ok()) << submitted.error_message();
  ASSERT_EQ(scan.targets(), 10u);

  // Agent A, the real program: resolves the three target shards, then hangs in the probe unit
  // on the tarpits (20 s banner timeout).
  const std::string log = directory + "/agent-a.log";
  auto agent_a = ChildProcess::Start(
      TLSWEEP_AGENT_BINARY,
      {"--coordinator", absl::StrCat("127.0.0.1:", (*server)->port()), "--region", "eu",
       "--agent-id", "agent-a", "--dev", "--allow-private", "--rate", "0", "--per-ip-spacing", "0",
       "--banner-timeout", "20000", "--connect-timeout", "2000"},
      log);
  ASSERT_TRUE(agent_a.ok()) << agent_a.status();
  // Wait until the probe unit is leased: three target shards and one probe unit, once each.
  Scan now;
  for (int i = 0; i < 300; ++i) {
    now = store.GetScan(scan.scan_id(), false).value();
    if (now.progress(0).endpoint_shards() == 1 && now.progress(0).lease_attempts() == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(now.progress(0).targets_resolved(), 10u);
  ASSERT_EQ(now.progress(0).lease_attempts(), 4u);
  ASSERT_EQ(now.progress(0).endpoint_shards_done(), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // Some results flow.
  const int status = (*agent_a)->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status)) << "agent A ended on its own";

  // Agent B, in this process, with a short banner timeout.
  agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  runner.base.probe.banner_timeout = std::chrono::milliseconds(500);
  auto agent_b = agent::AgentClient::Create(TestAgentOptions((*server)->port(), "agent-b", true),
                                            agent::MakeSweepRunner(runner));
  ASSERT_TRUE(agent_b.ok()) << agent_b.status();
  std::thread run([&] { (*agent_b)->Run(); });
  Scan done = WaitForScanEnd(*channel, scan.scan_id(), 60'000);
  (*agent_b)->Stop();
  run.join();

  EXPECT_EQ(done.state(), v1::SCAN_DONE);
  EXPECT_EQ(done.progress(0).shards_lost(), 0u);
  EXPECT_EQ(done.progress(0).endpoint_shards_done(), 1u);
  EXPECT_EQ(done.progress(0).lease_attempts(), 5u) << "the probe unit was leased again, once";
  EXPECT_GE((*agent_b)->stats().shards_completed.load(), 1);
  std::vector<v1::ProbeResult> results = store.Results(scan.scan_id(), "eu").value();
  std::map<uint64_t, int> per_line;
  for (const v1::ProbeResult& result : results) {
    ++per_line[result.line_number()];
    if (result.line_number() <= 2) {
      EXPECT_EQ(result.failure(), v1::BANNER_TIMEOUT) << result.failure_detail();
    } else {
      EXPECT_EQ(result.failure(), v1::TCP_REFUSED) << result.failure_detail();
    }
  }
  EXPECT_EQ(per_line.size(), 10u) << "nothing lost";
  for (const auto& [line, count] : per_line) EXPECT_EQ(count, 1) << "line " << line;
}

}  // namespace
}  // namespace tlsweep::testing
