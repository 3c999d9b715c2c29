// `tlsweep submit|status|watch|cancel` run as an operator runs them, against a --dev
// coordinator (plain text, loopback) and a real agent started by the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/client/agent_client.h"
#include "agent/client/sweep_runner.h"
#include "backends/plugin_loader.h"
#include "coordinator/server.h"
#include "tests/coordinator/agent_fixture.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/coordinator/dev_cli_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

class RemoteCliTest : public DevCoordinatorCliTest {
 protected:
  void SetUp() override {
    StartCoordinator("tlsweep-remote-cli");
    domains_ = directory_ + "/domains.txt";
    // Five refused endpoints, one of them written twice, and a bad line.
    std::ofstream(domains_) << RefusedTargets(33001, 5) << "127.0.0.77:33001\nbad..name\n";
  }

  std::string domains_;
};

// A list that cannot be read is refused before the call: no failed placeholder scan is left.
TEST_F(RemoteCliTest, SubmitOfAMissingListLeavesNoScanBehind) {
  CommandResult missing = Tlsweep("submit --domains /nonexistent/list.txt --regions eu");
  EXPECT_EQ(missing.exit_code, 2) << stderr_;
  EXPECT_TRUE(absl::StrContains(stderr_, "cannot read '/nonexistent/list.txt'")) << stderr_;
  CommandResult directory = Tlsweep("submit --domains / --regions eu");
  EXPECT_NE(directory.exit_code, 0) << stderr_;
  CommandResult listed = Tlsweep("status --json");
  ASSERT_EQ(listed.exit_code, 0) << stderr_;
  EXPECT_FALSE(absl::StrContains(listed.output, "scan_id")) << listed.output;
}

TEST_F(RemoteCliTest, SubmitStatusWatchCancel) {
  CommandResult submitted = Tlsweep(absl::StrCat("submit --domains ", ShellQuote(domains_),
                                                 " --regions eu --shard-size 2 --name nightly"));
  ASSERT_EQ(submitted.exit_code, 0) << stderr_;
  const std::string scan_id(absl::StripAsciiWhitespace(submitted.output));
  ASSERT_EQ(scan_id[0], 's') << submitted.output;
  EXPECT_TRUE(absl::StrContains(stderr_, ":7: ")) << "the bad line, by number: " << stderr_;
  EXPECT_TRUE(absl::StrContains(stderr_, "5 targets")) << stderr_;
  // No agent has connected yet: said at once, not discovered by a stalled progress bar.
  EXPECT_TRUE(absl::StrContains(stderr_, "no agent of region 'eu' is connected")) << stderr_;

  CommandResult listed = Tlsweep("status");
  ASSERT_EQ(listed.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(listed.output, scan_id)) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "nightly")) << listed.output;
  CommandResult waiting = Tlsweep(absl::StrCat("status ", scan_id));
  EXPECT_TRUE(absl::StrContains(waiting.output, "NO AGENT CONNECTED")) << waiting.output;

  // A real agent runs it: resolve units, then one probe unit of the five endpoints.
  auto client = agent::AgentClient::Create(TestAgentOptions(server_->port(), "agent-cli", true),
                                           agent::MakeSweepRunner(LoopbackRunnerOptions()));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  CommandResult watched = Tlsweep(absl::StrCat("watch ", scan_id));
  (*client)->Stop();
  run.join();
  EXPECT_EQ(watched.exit_code, 0) << watched.output << stderr_;
  EXPECT_TRUE(absl::StrContains(watched.output, scan_id + "  done")) << watched.output;
  EXPECT_TRUE(absl::StrContains(watched.output, "[####################]  3/3 shards  5/5 targets"))
      << watched.output;
  EXPECT_TRUE(absl::StrContains(watched.output,
                                "5 MX names on 5 unique endpoints (0 SNI-dependent), 1/1 probe "
                                "units done, 5 probes, 5 connections"))
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

// The report through the scan API (GetReport), without the store file: every format, the gates,
// and a scan that reached nothing (five refused endpoints) is inconclusive, never green.
TEST_F(RemoteCliTest, ReportsComeFromTheCoordinatorAndAnUnreachedScanIsInconclusive) {
  CommandResult submitted =
      Tlsweep(absl::StrCat("submit --domains ", ShellQuote(domains_),
                           " --regions eu --candidate 'name=current ciphers=DEFAULT' --candidate "
                           "'name=proposed ciphers=ECDHE+AESGCM min=TLSv1.2'"));
  ASSERT_EQ(submitted.exit_code, 0) << stderr_;
  const std::string scan_id(absl::StripAsciiWhitespace(submitted.output));
  auto registry = backends::BackendRegistry::LoadDirectory(TLSWEEP_TEST_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  agent::SweepRunnerOptions runner = LoopbackRunnerOptions();
  runner.base.candidates.clear();  // From the profile, as in production.
  runner.registry = &*registry;
  auto client = agent::AgentClient::Create(TestAgentOptions(server_->port(), "agent-report", true),
                                           agent::MakeSweepRunner(runner));
  ASSERT_TRUE(client.ok()) << client.status();
  std::thread run([&] { (*client)->Run(); });
  CommandResult watched = Tlsweep(absl::StrCat("watch ", scan_id, " --report"));
  (*client)->Stop();
  run.join();
  EXPECT_EQ(watched.exit_code, 4) << watched.output << stderr_;  // Inconclusive.
  EXPECT_TRUE(absl::StrContains(watched.output, "INCONCLUSIVE in eu: 5 of 5 domains"))
      << watched.output;
  EXPECT_TRUE(absl::StrContains(watched.output, "tcp_refused 5")) << watched.output;
  EXPECT_TRUE(absl::StrContains(watched.output, "WHAT CHANGES against the baseline \"current\""))
      << watched.output;

  CommandResult csv = Tlsweep(absl::StrCat("report ", scan_id, " --format csv"));
  EXPECT_EQ(csv.exit_code, 4) << stderr_;
  EXPECT_TRUE(absl::StartsWith(csv.output, "scan_id,candidate,region,domain")) << csv.output;
  EXPECT_EQ(std::count(csv.output.begin(), csv.output.end(), '\n'), 1 + 5 * 2) << csv.output;
  const std::string file = directory_ + "/report.json";
  CommandResult json = Tlsweep(absl::StrCat("report ", scan_id, " -o ", ShellQuote(file)));
  EXPECT_EQ(json.exit_code, 4) << stderr_;
  std::ifstream in(file);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(absl::StrContains(body, "\"inconclusive\": [")) << body.substr(0, 400);

  CommandResult bad_gate = Tlsweep(absl::StrCat("report ", scan_id, " --fail-on 'failing>1'"));
  EXPECT_EQ(bad_gate.exit_code, 2) << stderr_;
  EXPECT_TRUE(absl::StrContains(stderr_, "-domains or -volume")) << stderr_;
  CommandResult bad_baseline = Tlsweep(absl::StrCat("report ", scan_id, " --baseline nope"));
  EXPECT_EQ(bad_baseline.exit_code, 2) << stderr_;
  EXPECT_TRUE(absl::StrContains(stderr_, "no candidate 'nope'")) << stderr_;
  CommandResult unknown = Tlsweep("report s-no-such-scan");
  EXPECT_EQ(unknown.exit_code, 5) << stderr_;
}

// A call the coordinator fails (here: a list above --max-list-lines, refused mid-upload) ends
// the client with the coordinator's reason and exit 1, not an abort; no scan id is printed and
// nothing is left running. Issue 13 found `submit` dying on SIGABRT in gRPC after a failed call.
class RefusingCoordinatorCliTest : public DevCoordinatorCliTest {
 protected:
  void SetUp() override {
    coordinator::CoordinatorOptions core;
    core.max_list_lines = 3;
    StartCoordinator("tlsweep-remote-cli-refused", core);
  }
};

TEST_F(RefusingCoordinatorCliTest, SubmitOfARefusedListEndsWithTheReason) {
  const std::string domains = directory_ + "/domains.txt";
  // Latin-1 and binary lines too: the failed call must not trip on them either.
  std::ofstream(domains, std::ios::binary)
      << RefusedTargets(33101, 5) << "m\xfcnchen.lab.test\n\x01\xff\xfe\x00x\n";
  CommandResult submitted =
      Tlsweep(absl::StrCat("submit --domains ", ShellQuote(domains), " --regions eu"));
  EXPECT_EQ(submitted.exit_code, 1) << submitted.output << stderr_;
  EXPECT_TRUE(submitted.output.empty()) << "no scan id for a refused list: " << submitted.output;
  EXPECT_TRUE(absl::StrContains(stderr_, "the list has more than 3 lines")) << stderr_;
  EXPECT_FALSE(absl::StrContains(stderr_, "assertion failed")) << stderr_;
  CommandResult listed = Tlsweep("status --json");
  ASSERT_EQ(listed.exit_code, 0) << stderr_;
  EXPECT_FALSE(absl::StrContains(listed.output, "SCAN_RUNNING")) << listed.output;
}

}  // namespace
}  // namespace tlsweep::testing
