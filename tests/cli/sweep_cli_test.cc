// `tlsweep sweep` and `tlsweep probe` as a user runs them, against hostile test servers
// (quick, no Postfix needed): bad lines, duplicates, JSON Lines output, the summary.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/hostile_smtp_server.h"
#include "tests/testing/run_command.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep {
namespace {

using Behaviour = testing::HostileSmtpServer::Behaviour;
using testing::RunCommand;

std::vector<tlsweep::v1::ProbeResult> ReadJsonLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<tlsweep::v1::ProbeResult> results;
  std::string line;
  while (std::getline(in, line)) {
    tlsweep::v1::ProbeResult result;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &result).ok()) << line;
    results.push_back(result);
  }
  return results;
}

TEST(SweepCliTest, BadLinesAreReportedWithLineNumbersAndTheRestIsProbed) {
  auto no_starttls = testing::HostileSmtpServer::Start(Behaviour::kNoStarttls);
  auto refused = testing::HostileSmtpServer::Start(Behaviour::kStarttlsRefused);
  ASSERT_TRUE(no_starttls.ok() && refused.ok());
  const std::string dir = testing::MakeTempDirectory("tlsweep-sweep-cli");
  const std::string targets = dir + "/targets.txt";
  {
    std::ofstream out(targets);
    out << "# lab targets\n"                                          // 1
        << "[127.0.0.1]:" << (*no_starttls)->port() << "\n"           // 2
        << "bad..example.test\n"                                      // 3
        << "\n"                                                       // 4
        << "[127.0.0.1]:" << (*refused)->port() << "   # trailing\n"  // 5
        << "[127.0.0.1]:99999\n"                                      // 6
        << "[127.0.0.1]:" << (*no_starttls)->port() << "\n";          // 7 (duplicate)
  }
  const std::string out = dir + "/results.jsonl";
  absl::StatusOr<testing::CommandResult> run =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " sweep --targets ", targets, " --out ", out,
                              " --allow-private --ehlo scanner.example.test 2>&1"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << run->output;
  EXPECT_TRUE(absl::StrContains(run->output, "targets.txt:3: ")) << run->output;
  EXPECT_TRUE(absl::StrContains(run->output, "targets.txt:6: ")) << run->output;
  EXPECT_TRUE(absl::StrContains(run->output, "2 targets (2 bad lines, 1 duplicates skipped)"))
      << run->output;
  EXPECT_TRUE(absl::StrContains(run->output, "starttls_not_offered")) << run->output;

  const std::vector<tlsweep::v1::ProbeResult> results = ReadJsonLines(out);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& result : results) {
    if (result.line_number() == 2) {
      EXPECT_EQ(result.failure(), tlsweep::v1::STARTTLS_NOT_OFFERED);
    } else {
      EXPECT_EQ(result.line_number(), 5u);
      EXPECT_EQ(result.failure(), tlsweep::v1::STARTTLS_REFUSED);
      EXPECT_EQ(result.starttls().code(), 454u);
    }
  }
}

TEST(SweepCliTest, WithoutAllowPrivateLoopbackIsRefusedNotContacted) {
  auto server = testing::HostileSmtpServer::Start(Behaviour::kNoStarttls);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<testing::CommandResult> run =
      RunCommand(absl::StrCat("echo '[127.0.0.1]:", (*server)->port(), "' | ", TLSWEEP_BINARY,
                              " sweep --targets - 2>/dev/null"));
  ASSERT_TRUE(run.ok());
  tlsweep::v1::ProbeResult result;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(run->output, &result).ok())
      << run->output;
  EXPECT_EQ(result.failure(), tlsweep::v1::ADDRESS_NOT_ALLOWED);
  EXPECT_TRUE(absl::StrContains(result.failure_detail(), "--allow-private"));
  EXPECT_EQ((*server)->connections_accepted(), 0);
}

TEST(ProbeCliTest, HumanSummaryNamesTheStageThatFailedAndExitsThree) {
  auto server = testing::HostileSmtpServer::Start(Behaviour::kStarttlsRefused);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<testing::CommandResult> run = RunCommand(
      absl::StrCat(TLSWEEP_BINARY, " probe '[127.0.0.1]:", (*server)->port(), "' --allow-private"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_TRUE(absl::StrContains(run->output, "STARTTLS  454")) << run->output;
  EXPECT_TRUE(absl::StrContains(run->output, "FAILED starttls_refused")) << run->output;
}

TEST(ProbeCliTest, BadTargetIsAUsageError) {
  absl::StatusOr<testing::CommandResult> run =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " probe 'exa mple.com' 2>&1"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 2);
  EXPECT_TRUE(absl::StrContains(run->output, "bad target 'exa mple.com'")) << run->output;
}

}  // namespace
}  // namespace tlsweep
