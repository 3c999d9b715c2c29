// `tlsweep backends` and `tlsweep expand` as a user types them.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/run_command.h"
#include "tlsweep/v1/tls.pb.h"

namespace tlsweep {
namespace {

using ::tlsweep::testing::RunCommand;

testing::CommandResult Tlsweep(const std::string& arguments) {
  absl::StatusOr<testing::CommandResult> result =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " ", arguments));
  EXPECT_TRUE(result.ok());
  return result.ok() ? *result : testing::CommandResult{};
}

TEST(CliTest, BackendsListsEachLoadedPluginWithVersionAndPath) {
  testing::CommandResult result = Tlsweep("backends");
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.output, "openssl\tOpenSSL 3"));
  EXPECT_TRUE(absl::StrContains(result.output, "tlsweep-backend-openssl.so"));
}

TEST(CliTest, BackendsJsonIsAnArrayOfBackendInfo) {
  testing::CommandResult result = Tlsweep("backends --json");
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(result.output, "[{"));
  EXPECT_TRUE(absl::StrContains(result.output, "\"library_version\""));
  EXPECT_TRUE(absl::StrContains(result.output, "\"speakable_versions\""));
}

TEST(CliTest, PluginDirFlagThatDoesNotExistIsAClearError) {
  testing::CommandResult result = Tlsweep("--plugin-dir /nonexistent backends 2>&1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(result.output, "'/nonexistent' does not exist"));
}

TEST(CliTest, ExpandJsonMatchesOpensslCiphersOnTheSameString) {
  testing::CommandResult ours = Tlsweep(
      "expand --backend openssl 'ECDHE+AESGCM:AES256-SHA' --min-version 1.2 --max-version TLSv1.2 "
      "--json");
  ASSERT_EQ(ours.exit_code, 0);
  absl::StatusOr<testing::CommandResult> reference = RunCommand(
      "openssl ciphers -s -tls1_2 -v 'ECDHE+AESGCM:AES256-SHA' | awk '$2 != \"TLSv1.3\" {print "
      "$1}'");
  ASSERT_TRUE(reference.ok());
  std::set<std::string> expected = absl::StrSplit(reference->output, '\n', absl::SkipEmpty());
  // Each array element is an OfferedSuite in the proto JSON mapping.
  std::set<std::string> got;
  std::string body = ours.output.substr(1, ours.output.rfind(']') - 1);
  for (absl::string_view item : absl::StrSplit(body, ",\n", absl::SkipEmpty())) {
    tlsweep::v1::OfferedSuite suite;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(item), &suite).ok())
        << item;
    EXPECT_EQ(suite.version(), tlsweep::v1::TLSV1_2);
    EXPECT_NE(suite.code_point(), 0u);
    EXPECT_TRUE(absl::StartsWith(suite.iana_name(), "TLS_"));
    got.insert(suite.library_name());
  }
  EXPECT_EQ(got, expected);
}

TEST(CliTest, ExpandSetsApartSuitesTheClientOffersButAbortsOn) {
  // At TLS 1.0 and security level >= 1, OpenSSL offers ECDHE-RSA-AES128-SHA but refuses its
  // SHA-1 signed key exchange; AES128-SHA completes.
  const std::string args =
      "expand --backend openssl 'ECDHE-RSA-AES128-SHA:AES128-SHA' --min-version 1.0 "
      "--max-version 1.0";
  testing::CommandResult text = Tlsweep(args);
  ASSERT_EQ(text.exit_code, 0);
  const std::vector<std::string> lines = absl::StrSplit(text.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << text.output;
  EXPECT_TRUE(absl::StrContains(lines[0], "TLS_RSA_WITH_AES_128_CBC_SHA")) << text.output;
  EXPECT_TRUE(absl::StartsWith(lines[2], "also offered, but the client aborts")) << text.output;
  EXPECT_TRUE(absl::StrContains(lines[2], "TLSv1 ECDHE-RSA-AES128-SHA")) << text.output;
  testing::CommandResult json = Tlsweep(args + " --json");
  ASSERT_EQ(json.exit_code, 0);
  const std::vector<std::string> parts = absl::StrSplit(json.output, "\"never_completes\":true");
  EXPECT_EQ(parts.size(), 2u) << "exactly one suite marked: " << json.output;
  EXPECT_TRUE(absl::StrContains(json.output, "TLS_RSA_WITH_AES_128_CBC_SHA")) << json.output;
}

TEST(CliTest, ExpandWithABadVersionOrCipherStringExitsTwoWithTheReason) {
  testing::CommandResult version = Tlsweep("expand DEFAULT --min-version TLSv9 2>&1");
  EXPECT_EQ(version.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(version.output, "unknown TLS version 'TLSv9'"));
  testing::CommandResult cipher = Tlsweep("expand NOPE-CIPHER 2>&1");
  EXPECT_EQ(cipher.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(cipher.output, "selects no cipher"));
  testing::CommandResult backend = Tlsweep("expand --backend wolfssl DEFAULT 2>&1");
  EXPECT_EQ(backend.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(backend.output, "unknown backend 'wolfssl'"));
}

TEST(CliTest, HelpExplainsTheSubcommands) {
  testing::CommandResult result = Tlsweep("--help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.output, "backends"));
  EXPECT_TRUE(absl::StrContains(result.output, "expand"));
}

}  // namespace
}  // namespace tlsweep

namespace tlsweep {
namespace {

// Numbers out of range are usage errors (exit 2) naming the flag: "--concurrency -5" used to
// become 4294967291 lanes and an OOM kill.
TEST(CliTest, NumericFlagsOutOfRangeAreUsageErrors) {
  for (const char* arguments :
       {"sweep --targets /dev/null --concurrency -5", "sweep --targets /dev/null --rate -1",
        "sweep --targets /dev/null --per-ip 0", "probe x.example --connect-timeout 0",
        "sweep --targets /dev/null --port 70000"}) {
    testing::CommandResult result = Tlsweep(absl::StrCat(arguments, " 2>&1"));
    EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, "not in range")) << arguments << result.output;
  }
}

TEST(CliTest, ADirectoryIsNotATargetList) {
  testing::CommandResult result = Tlsweep("sweep --targets / 2>&1");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "'/' is a directory")) << result.output;
}

}  // namespace
}  // namespace tlsweep
