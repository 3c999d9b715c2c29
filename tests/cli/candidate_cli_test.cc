// `tlsweep candidate --from` and the candidate flags of `tlsweep probe`, as a user runs them.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
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

using testing::RunCommand;

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = testing::MakeTempDirectory("tlsweep-candidate-cli") + "/" + name;
  std::ofstream(path) << content;
  return path;
}

constexpr char kMainCf[] =
    "# Outbound TLS of the relay under review\n"
    "smtp_tls_security_level = encrypt\n"
    "smtp_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n"
    "smtp_tls_mandatory_exclude_ciphers = RC4\n"
    "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n";

TEST(CandidateCliTest, FromMainCfShowsTheSpecTheOfferAndTheWarnings) {
  const std::string main_cf = WriteFile("main.cf", kMainCf);
  absl::StatusOr<testing::CommandResult> run =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " candidate --from ", main_cf));
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->exit_code, 0) << run->output;
  const std::string cipher_list = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!RC4";
  EXPECT_TRUE(absl::StrContains(
      run->output, absl::StrCat("name=postfix backend=openssl ciphers='", cipher_list,
                                "' min=TLSv1.2 max=TLSv1.3 "
                                "groups=x25519:x448:secp256r1:secp521r1:secp384r1 tls=required\n")))
      << run->output;
  // The TLS 1.2 line counts what `openssl ciphers` selects from the same list.
  absl::StatusOr<testing::CommandResult> reference = RunCommand(absl::StrCat(
      "openssl ciphers -s -tls1_2 -v '", cipher_list, "' | awk '$2 != \"TLSv1.3\"' | wc -l"));
  ASSERT_TRUE(reference.ok());
  const std::string count(absl::StripAsciiWhitespace(reference->output));
  EXPECT_TRUE(
      absl::StrContains(run->output, absl::StrCat("  TLSv1.2  ", count, " suites: TLS_ECDHE_")))
      << run->output;
  EXPECT_TRUE(absl::StrContains(run->output, "  TLSv1.3  3 suites: TLS_AES_256_GCM_SHA384"));
  EXPECT_FALSE(absl::StrContains(run->output, "  TLSv1.1 "));
  EXPECT_TRUE(absl::StrContains(run->output, "  groups: x25519 x448 secp256r1"));
  EXPECT_TRUE(absl::StrContains(
      run->output, absl::StrCat("warning: ", main_cf, ":5: smtp_tls_policy_maps: per-destination")))
      << run->output;
}

TEST(CandidateCliTest, JsonIsTlsClientSettings) {
  const std::string conf = WriteFile("ecelerity.conf",
                                     "tls_engine = gnutls\n"
                                     "tls = ifavailable\n"
                                     "tls_ciphers = \"NORMAL:-VERS-TLS1.0\"\n"
                                     "Domain \"partner.example\" { tls = required }\n");
  absl::StatusOr<testing::CommandResult> run =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " candidate --json --from ", conf));
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->exit_code, 0) << run->output;
  std::vector<std::string> lines = absl::StrSplit(run->output, '\n', absl::SkipEmpty());
  // One candidate: the Domain scope is an override for partner.example only, not a candidate
  // run against every domain (issue 12).
  ASSERT_EQ(lines.size(), 1u) << run->output;
  tlsweep::v1::TlsClientSettings candidate;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[0], &candidate).ok()) << lines[0];
  EXPECT_EQ(candidate.name(), "ecelerity");
  EXPECT_EQ(candidate.backend(), "gnutls");
  EXPECT_FALSE(candidate.tls_required());
  ASSERT_EQ(candidate.overrides_size(), 1) << lines[0];
  EXPECT_EQ(candidate.overrides(0).domains(0), "partner.example");
  EXPECT_EQ(candidate.overrides(0).settings().gnutls_priority(), "NORMAL:-VERS-TLS1.0");
  EXPECT_TRUE(candidate.overrides(0).settings().tls_required());
}

TEST(CandidateCliTest, ParseErrorExitsTwoWithFileAndLine) {
  const std::string main_cf =
      WriteFile("main.cf", "smtp_tls_security_level = may\nsmtp_tls_ciphers = strongest\n");
  absl::StatusOr<testing::CommandResult> run =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " candidate --from ", main_cf, " 2>&1"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 2);
  EXPECT_TRUE(absl::StrContains(run->output, main_cf + ":2: smtp_tls_ciphers")) << run->output;
}

TEST(CandidateCliTest, ProbeRunsOneHandshakePerCandidate) {
  auto server = testing::HostileSmtpServer::Start(testing::HostileSmtpServer::Behaviour::kTlsAlert);
  ASSERT_TRUE(server.ok());
  const std::string profile =
      WriteFile("profile.txtpb", "candidates { name: \"current\" openssl_ciphers: \"DEFAULT\" }\n");
  const std::string main_cf = WriteFile("main.cf", kMainCf);
  // The target comes last: each --candidate takes exactly one value.
  absl::StatusOr<testing::CommandResult> run = RunCommand(absl::StrCat(
      TLSWEEP_BINARY, " probe --allow-private --json --profile ", profile, " --candidate-from ",
      main_cf, " --candidate \"name=gnutls priority=NORMAL:-VERS-TLS1.0 tls=required\" ",
      "'[127.0.0.1]:", (*server)->port(), "'"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 3) << run->output;
  std::set<std::string> names;
  for (absl::string_view line : absl::StrSplit(run->output, '\n', absl::SkipEmpty())) {
    tlsweep::v1::ProbeResult result;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &result).ok())
        << line;
    EXPECT_EQ(result.failure(), tlsweep::v1::TLS_NO_SHARED_CIPHER) << line;
    names.insert(result.tls_settings().name());
    if (result.tls_settings().name() == "postfix") {
      EXPECT_TRUE(result.tls_settings().tls_required());
      EXPECT_EQ(result.tls_settings().min_version(), tlsweep::v1::TLSV1_2);
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"current", "postfix", "gnutls"}));
}

TEST(CandidateCliTest, CandidateFlagsAreCheckedBeforeAnythingIsContacted) {
  absl::StatusOr<testing::CommandResult> key = RunCommand(absl::StrCat(
      TLSWEEP_BINARY, " probe '[127.0.0.1]:1' --allow-private --candidate 'cipher=DEFAULT' 2>&1"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->exit_code, 2);
  EXPECT_TRUE(absl::StrContains(key->output, "unknown key 'cipher'")) << key->output;

  absl::StatusOr<testing::CommandResult> mixed = RunCommand(
      absl::StrCat(TLSWEEP_BINARY, " probe '[127.0.0.1]:1' --allow-private --ciphers HIGH ",
                   "--candidate name=a 2>&1"));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->exit_code, 2);
  EXPECT_TRUE(absl::StrContains(mixed->output, "describe the single default candidate"));

  absl::StatusOr<testing::CommandResult> twice =
      RunCommand(absl::StrCat(TLSWEEP_BINARY, " probe '[127.0.0.1]:1' --allow-private ",
                              "--candidate name=a --candidate 'name=a min=TLSv1.3' 2>&1"));
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->exit_code, 2);
  EXPECT_TRUE(absl::StrContains(twice->output, "the name 'a' is already used")) << twice->output;
}

}  // namespace
}  // namespace tlsweep
