// `tlsweep schedule add|list|remove|run` and `tlsweep remote ...`, run as a user runs them,
// against a --dev coordinator (plain text, loopback) started by the test.
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "coordinator/server.h"
#include "tests/coordinator/coordinator_fixture.h"
#include "tests/coordinator/dev_cli_fixture.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/run_command.h"

namespace tlsweep::testing {
namespace {

class ScheduleCliTest : public DevCoordinatorCliTest {
 protected:
  void SetUp() override {
    coordinator::CoordinatorOptions core;
    core.schedule_check_ms = 100;
    StartCoordinator("tlsweep-schedule-cli", core);
    domains_ = directory_ + "/domains.txt";
    std::ofstream(domains_) << "# weekly\n" << RefusedTargets(32001, 3) << "bad..name\n";
  }

  std::string domains_;
};

TEST_F(ScheduleCliTest, AddListRunRemove) {
  CommandResult added = Tlsweep(absl::StrCat(
      "schedule add --name weekly-check --cron '0 3 * * 1' --domains ", ShellQuote(domains_),
      " --regions eu,us --retention 3 --candidate 'name=modern min=TLSv1.2'"));
  ASSERT_EQ(added.exit_code, 0) << added.output << stderr_;
  EXPECT_TRUE(absl::StrContains(added.output, "3 targets")) << added.output;
  EXPECT_TRUE(absl::StrContains(added.output, "keeps 3 runs")) << added.output;
  EXPECT_TRUE(absl::StrContains(stderr_, ":5: ")) << stderr_;  // The bad line.
  // "schedule c... 'weekly-check': ..."
  std::vector<std::string> words = absl::StrSplit(added.output, ' ');
  ASSERT_GE(words.size(), 2u);
  const std::string id = words[1];
  ASSERT_EQ(id[0], 'c') << added.output;

  CommandResult listed = Tlsweep("schedule list");
  ASSERT_EQ(listed.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(listed.output, id)) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "weekly-check")) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "0 3 * * 1")) << listed.output;

  CommandResult run = Tlsweep(absl::StrCat("schedule run ", id));
  ASSERT_EQ(run.exit_code, 0) << stderr_;
  const std::string scan_id(absl::StripAsciiWhitespace(run.output));
  ASSERT_EQ(scan_id[0], 's') << run.output;

  CommandResult json = Tlsweep("schedule list --json");
  ASSERT_EQ(json.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(json.output, "\"schedule_id\": \"" + id + "\"")) << json.output;
  EXPECT_TRUE(absl::StrContains(json.output, "\"scan_id\": \"" + scan_id + "\"")) << json.output;
  EXPECT_TRUE(absl::StrContains(json.output, "\"name\": \"modern\"")) << json.output;
  EXPECT_TRUE(absl::StrContains(json.output, "\"regions\": [")) << json.output;

  // The run is an ordinary scan for `tlsweep remote`.
  CommandResult got = Tlsweep(absl::StrCat("remote get ", scan_id));
  ASSERT_EQ(got.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(got.output, "'weekly-check': running")) << got.output;
  EXPECT_TRUE(absl::StrContains(got.output, "3 targets")) << got.output;
  CommandResult cancelled = Tlsweep(absl::StrCat("remote cancel ", scan_id));
  ASSERT_EQ(cancelled.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(cancelled.output, "cancelled")) << cancelled.output;
  CommandResult watched = Tlsweep(absl::StrCat("remote watch ", scan_id));
  EXPECT_EQ(watched.exit_code, 1) << stderr_;  // Ended, but not done.
  EXPECT_TRUE(absl::StrContains(watched.output, scan_id + "  cancelled")) << watched.output;

  CommandResult removed = Tlsweep(absl::StrCat("schedule remove ", id));
  ASSERT_EQ(removed.exit_code, 0) << stderr_;
  CommandResult empty = Tlsweep("schedule list");
  ASSERT_EQ(empty.exit_code, 0) << stderr_;
  EXPECT_FALSE(absl::StrContains(empty.output, id)) << empty.output;
  CommandResult again = Tlsweep(absl::StrCat("schedule remove ", id));
  EXPECT_EQ(again.exit_code, 5) << again.output;
  EXPECT_TRUE(absl::StrContains(stderr_, "no schedule")) << stderr_;
}

TEST_F(ScheduleCliTest, BadCronIsRefused) {
  CommandResult added = Tlsweep(absl::StrCat("schedule add --name x --cron '* * *' --domains ",
                                             ShellQuote(domains_), " --regions eu"));
  EXPECT_EQ(added.exit_code, 2);  // Bad input.
  EXPECT_TRUE(absl::StrContains(stderr_, "tlsweep schedule add:")) << stderr_;
}

TEST_F(ScheduleCliTest, RemoteSubmitListAndWatch) {
  CommandResult submitted = Tlsweep(
      absl::StrCat("remote submit --name adhoc --domains ", ShellQuote(domains_), " --regions eu"));
  ASSERT_EQ(submitted.exit_code, 0) << stderr_;
  const std::string scan_id(absl::StripAsciiWhitespace(submitted.output));
  EXPECT_TRUE(absl::StrContains(stderr_, "3 targets, 1 bad line(s)")) << stderr_;
  CommandResult listed = Tlsweep("remote list");
  ASSERT_EQ(listed.exit_code, 0) << stderr_;
  EXPECT_TRUE(absl::StrContains(listed.output, scan_id)) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output, "adhoc")) << listed.output;
  CommandResult missing = Tlsweep("remote get s-no-such-scan");
  EXPECT_EQ(missing.exit_code, 5);
}

TEST_F(ScheduleCliTest, InsecureDevIsLoopbackOnly) {
  absl::StatusOr<CommandResult> result = RunCommand(
      absl::StrCat(TLSWEEP_BINARY, " schedule list --dev --coordinator 192.0.2.1:7443 2>&1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 2);
  EXPECT_TRUE(absl::StrContains(result->output, "loopback")) << result->output;
}

// The real thing: TLS, verified against the CA, with a token or a client certificate.
TEST(ScheduleCliTlsTest, TokenOrClientCertificateOverTls) {
  const std::string directory = MakeTempDirectory("tlsweep-schedule-cli-tls");
  auto server = coordinator::CoordinatorServer::Start(TlsServerOptions(directory + "/store.db"));
  ASSERT_TRUE(server.ok()) << server.status();
  const CoordinatorPki& pki = SharedCoordinatorPki();
  const std::string base =
      absl::StrCat(TLSWEEP_BINARY, " schedule list --coordinator 127.0.0.1:", (*server)->port(),
                   " --tls-ca ", ShellQuote(pki.ca_file), " --tls-server-name ", kServerName);
  auto with_token = RunCommand(absl::StrCat(base, " --token-file ", ShellQuote(pki.token_file)));
  ASSERT_TRUE(with_token.ok());
  EXPECT_EQ(with_token->exit_code, 0);
  EXPECT_TRUE(absl::StrContains(with_token->output, "no schedules")) << with_token->output;
  auto with_env = RunCommand(absl::StrCat("TLSWEEP_TOKEN=", kToken, " ", base));
  ASSERT_TRUE(with_env.ok());
  EXPECT_EQ(with_env->exit_code, 0);
  auto with_certificate =
      RunCommand(absl::StrCat(base, " --tls-cert ", ShellQuote(pki.api.chain_file), " --tls-key ",
                              ShellQuote(pki.api.key_file)));
  ASSERT_TRUE(with_certificate.ok());
  EXPECT_EQ(with_certificate->exit_code, 0);
  // An agent's certificate is not an operator's.
  auto with_agent_certificate =
      RunCommand(absl::StrCat(base, " --tls-cert ", ShellQuote(pki.agent.chain_file), " --tls-key ",
                              ShellQuote(pki.agent.key_file), " 2>&1"));
  ASSERT_TRUE(with_agent_certificate.ok());
  EXPECT_NE(with_agent_certificate->exit_code, 0);
  EXPECT_TRUE(absl::StrContains(with_agent_certificate->output, "agent certificate"))
      << with_agent_certificate->output;
  const std::string wrong = directory + "/wrong-token";
  std::ofstream(wrong) << "not-the-token\n";
  auto wrong_token = RunCommand(absl::StrCat(base, " --token-file ", ShellQuote(wrong), " 2>&1"));
  ASSERT_TRUE(wrong_token.ok());
  EXPECT_EQ(wrong_token->exit_code, 6) << wrong_token->output;
  auto nothing = RunCommand(absl::StrCat("env -u TLSWEEP_TOKEN ", base, " 2>&1"));
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->exit_code, 2) << nothing->output;
  EXPECT_TRUE(absl::StrContains(nothing->output, "needs a token")) << nothing->output;
}

}  // namespace
}  // namespace tlsweep::testing
