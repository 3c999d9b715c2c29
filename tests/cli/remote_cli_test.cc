// `tlsweep submit|status|watch|cancel` run as an operator runs them, against a --dev
// coordinator (plain text, loopback) and a real agent started by the test.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "coordinator/server.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/probe_runner.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

class RemoteCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory("tlsweep-remote-cli");
    coordinator::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.store_path = directory_ + "/store.db";
    options.dev = true;
    auto server = coordinator::CoordinatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    domains_ = directory_ + "/domains.txt";
    // Five refused endpoints, one of them written twice, and a bad line.
    std::ofstream(domains_) << RefusedTargets(33001, 5) << "127.0.0.77:33001\nbad..name\n";
  }

  CommandResult Tlsweep(const std::string& args) {
    const std::string command = absl::StrCat(
        TLSWEEP_BINARY, " ", args, " --insecure-dev --coordinator 127.0.0.1:", server_->port(),
        " 2>", ShellQuote(directory_ + "/stderr"));
    absl::StatusOr<CommandResult> result = RunCommand(command);
    EXPECT_TRUE(result.ok()) << result.status();
    std::ifstream err(directory_ + "/stderr");
    stderr_.assign(std::istreambuf_iterator<char>(err), {});
    return result.ok() ? *result : CommandResult();
  }

  std::string directory_;
  std::string domains_;
  std::string stderr_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
};

TEST_F(RemoteCliTest, SubmitStatusWatchCancel) {
  CommandResult submitted = Tlsweep(absl::StrCat("submit --domains ", ShellQuote(domains_),
                                                 " --regions eu --shard-size 2 --name nightly"));
  ASSERT_EQ(submitted.exit_code, 0) << stderr_;
  const std::string scan_id(absl::StripAsciiWhitespace(submitted.output));
  ASSERT_EQ(scan_id[0], 's') << submitted.output;
  EXPECT_TRUE(absl::StrContains(stderr_, ":7: ")) << "the bad line, by number: " << stderr_;
  EXPECT_TRUE(absl::StrContains(stderr_, "5 targets")) << stderr_;

  CommandResult listed = Tlsweep("status");
  ASSERT_EQ(listed.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(listed.output, scan_id)) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "nightly")) << listed.output;

  // A real agent runs it: resolve units, then one probe unit of the five endpoints.
  agent::SweepRunnerOptions runner;
  runner.base.candidates.push_back(DefaultCandidate("openssl"));
  runner.base.allow_private = true;
  runner.base.threads = 1;
  runner.base.politeness.per_ip_spacing = std::chrono::milliseconds(0);
  runner.base.politeness.connections_per_second = 0;
  runner.base.probe.connect_timeout = std::chrono::seconds(2);
  agent::AgentClientOptions client_options;
  client_options.coordinator = absl::StrCat("127.0.0.1:", server_->port());
  client_options.agent_id = "agent-cli";
  client_options.region = "eu";
  client_options.insecure = true;
  client_options.poll_ms = 100;
  client_options.flush_ms = 100;
  auto client = agent::AgentClient::Create(client_options, agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  CommandResult watched = Tlsweep(absl::StrCat("watch ", scan_id));
  (*client)->Stop();
  run.join();
  EXPECT_EQ(watched.exit_code, 0) << watched.output << stderr_;
  EXPECT_TRUE(absl::StrContains(watched.output, scan_id + "  done")) << watched.output;
  EXPECT_TRUE(absl::StrContains(watched.output, "[####################]  3/3 shards  5/5 targets"))
      << watched.output;
  EXPECT_TRUE(absl::StrContains(watched.output, "5 unique endpoints, 1/1 probe units done"))
      << watched.output;

  CommandResult status = Tlsweep(absl::StrCat("status ", scan_id, " --json"));
  ASSERT_EQ(status.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(status.output, "\"state\": \"SCAN_DONE\"")) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "\"endpoints\": \"5\"")) << status.output;

  CommandResult cancelled = Tlsweep(absl::StrCat("cancel ", scan_id));
  ASSERT_EQ(cancelled.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(cancelled.output, "done")) << "a finished scan stays done";
  CommandResult unknown = Tlsweep("cancel s-no-such-scan");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(stderr_, "no scan")) << stderr_;
}

}  // namespace
}  // namespace tlsweep::testing
