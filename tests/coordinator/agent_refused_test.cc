// A real tlsweep-agent that the coordinator refuses says why in its log: the coordinator's own
// status (no certificate, a certificate for another region), not a bare CANCELLED.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/file_contents.h"
#include "coordinator/server.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/child_process.h"

namespace tlsweep::testing {
namespace {

// Runs the agent until its log shows the stream ended (event=disconnected) (or 10 s), and returns
// the log.
std::string RunRefusedAgent(int port, const std::string& log, std::vector<std::string> args) {
  std::vector<std::string> all = {"--coordinator",     absl::StrCat("127.0.0.1:", port),
                                  "--tls-ca",          SharedCoordinatorPki().ca_file,
                                  "--tls-server-name", kServerName};
  all.insert(all.end(), args.begin(), args.end());
  auto agent = ChildProcess::Start(TLSWEEP_AGENT_BINARY, all, log);
  EXPECT_TRUE(agent.ok()) << agent.status();
  if (!agent.ok()) return "";
  for (int i = 0; i < 200 && !absl::StrContains(backends::ReadFileContents(log).value_or(""),
                                                "event=disconnected");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  (*agent)->Kill(SIGKILL);
  return backends::ReadFileContents(log).value_or("");
}

TEST(AgentRefusedTest, TheAgentLogsTheCoordinatorsReason) {
  const std::string directory = MakeTempDirectory("tlsweep-agent-refused");
  auto server = coordinator::CoordinatorServer::Start(TlsServerOptions(directory + "/store.db"));
  ASSERT_TRUE(server.ok()) << server.status();
  const CoordinatorPki& pki = SharedCoordinatorPki();

  const std::string no_cert = RunRefusedAgent((*server)->port(), directory + "/no-cert.log",
                                              {"--region", "eu", "--agent-id", "agent-eu"});
  EXPECT_TRUE(absl::StrContains(no_cert, "agents need a client certificate")) << no_cert;
  EXPECT_TRUE(absl::StrContains(no_cert, "code=16 ")) << no_cert;  // UNAUTHENTICATED
  EXPECT_FALSE(absl::StrContains(no_cert, "code=1 ")) << no_cert;  // CANCELLED

  const std::string other_region =
      RunRefusedAgent((*server)->port(), directory + "/other-region.log",
                      {"--region", "us", "--agent-id", "agent-eu", "--tls-cert",
                       pki.agent_eu.chain_file, "--tls-key", pki.agent_eu.key_file});
  EXPECT_TRUE(absl::StrContains(other_region,
                                "its certificate is for agent 'agent-eu' of region "
                                "'eu'"))
      << other_region;
  EXPECT_TRUE(absl::StrContains(other_region, "code=7 ")) << other_region;  // PERMISSION_DENIED
}

}  // namespace
}  // namespace tlsweep::testing
