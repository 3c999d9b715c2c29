#include "backends/candidate/postfix_main_cf.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "tests/testing/run_command.h"

namespace tlsweep::backends {
namespace {

tlsweep::v1::TlsClientSettings ParseOne(const std::string& content, CandidateSet* set = nullptr) {
  absl::StatusOr<CandidateSet> result = ParsePostfixMainCf(content, "main.cf");
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return {};
  EXPECT_EQ(result->candidates.size(), 1u);
  if (set != nullptr) *set = *result;
  return result->candidates.empty() ? tlsweep::v1::TlsClientSettings{} : result->candidates[0];
}

bool HasWarning(const CandidateSet& set, absl::string_view text) {
  for (const std::string& warning : set.warnings) {
    if (absl::StrContains(warning, text)) return true;
  }
  return false;
}

// The built-in defaults are what this machine's Postfix reports.
TEST(PostfixMainCfTest, DefaultsMatchPostconf) {
  absl::StatusOr<testing::CommandResult> version =
      testing::RunCommand("postconf -d -h mail_version 2>/dev/null");
  if (!version.ok() || version->exit_code != 0) GTEST_SKIP() << "postconf is not installed";
  for (const auto& [name, value] : PostfixDefaults()) {
    absl::StatusOr<testing::CommandResult> result =
        testing::RunCommand("postconf -d -h " + name + " 2>/dev/null");
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->exit_code, 0) << name;
    EXPECT_EQ(absl::StripTrailingAsciiWhitespace(result->output), value) << name;
  }
}

TEST(PostfixMainCfTest, MayLevelUsesOpportunisticDefaults) {
  CandidateSet set;
  tlsweep::v1::TlsClientSettings settings = ParseOne("smtp_tls_security_level = may\n", &set);
  EXPECT_EQ(settings.name(), "postfix");
  EXPECT_EQ(settings.backend(), "openssl");
  EXPECT_EQ(settings.source(), "main.cf");
  EXPECT_EQ(settings.openssl_ciphers(), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH");
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLSV1_0);
  EXPECT_EQ(settings.max_version(), tlsweep::v1::TLSV1_3);
  EXPECT_EQ(absl::StrJoin(settings.groups(), ":"), "x25519:x448:secp256r1:secp521r1:secp384r1");
  EXPECT_FALSE(settings.tls_required());
  EXPECT_FALSE(settings.legacy());
  EXPECT_TRUE(set.warnings.empty()) << absl::StrJoin(set.warnings, "\n");
}

TEST(PostfixMainCfTest, NoLevelMeansNoneAndIsWarned) {
  CandidateSet set;
  tlsweep::v1::TlsClientSettings settings = ParseOne("myhostname = mx.example\n", &set);
  EXPECT_FALSE(settings.tls_required());
  EXPECT_TRUE(HasWarning(set, "security level none")) << absl::StrJoin(set.warnings, "\n");
  // smtp_use_tls = yes is the old spelling of may.
  CandidateSet legacy;
  ParseOne("smtp_use_tls = yes\n", &legacy);
  EXPECT_FALSE(HasWarning(legacy, "security level none"));
}

TEST(PostfixMainCfTest, EncryptPicksTheMandatoryParameters) {
  const std::string main_cf =
      "smtp_tls_security_level = encrypt\n"
      "smtp_tls_ciphers = low\n"
      "smtp_tls_mandatory_ciphers = high\n"
      "smtp_tls_protocols = !SSLv2, !SSLv3\n"
      "smtp_tls_mandatory_protocols = >=TLSv1.2\n"
      "smtp_tls_exclude_ciphers = RC4, aNULL\n"
      "smtp_tls_mandatory_exclude_ciphers = 3DES:SHA1\n";
  tlsweep::v1::TlsClientSettings settings = ParseOne(main_cf);
  EXPECT_TRUE(settings.tls_required());
  EXPECT_EQ(settings.openssl_ciphers(), "aNULL:-aNULL:HIGH:@STRENGTH:!RC4:!aNULL:!3DES:!SHA1");
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(settings.max_version(), tlsweep::v1::TLSV1_3);

  // The same file at may: the opportunistic grade and protocols, no mandatory exclusions.
  std::string may = main_cf;
  may.replace(may.find("encrypt"), 7, "may");
  tlsweep::v1::TlsClientSettings opportunistic = ParseOne(may);
  EXPECT_FALSE(opportunistic.tls_required());
  EXPECT_EQ(opportunistic.openssl_ciphers(),
            "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH:!RC4:!aNULL");
  EXPECT_EQ(opportunistic.min_version(), tlsweep::v1::TLSV1_0);

  // Levels that match certificates also exclude anonymous suites, as Postfix does.
  std::string verify = main_cf;
  verify.replace(verify.find("encrypt"), 7, "secure");
  EXPECT_TRUE(absl::EndsWith(ParseOne(verify).openssl_ciphers(), ":!3DES:!SHA1:!aNULL"));
}

TEST(PostfixMainCfTest, ExpandsParametersAndJoinsContinuationLines) {
  const std::string main_cf =
      "# A comment\n"
      "my_ciphers = ECDHE+AESGCM:\n"
      "   ECDHE+CHACHA20\n"
      "tls_high_cipherlist = $my_ciphers:${extra}\n"
      "extra = !aNULL\n"
      "smtp_tls_security_level = ${level}\n"
      "level = verify\n"
      "smtp_tls_mandatory_ciphers = high\n"
      "smtp_tls_mandatory_protocols = $(proto?>=TLSv1.2) ${noproto:<=TLSv1.3}\n"
      "proto = yes\n";
  tlsweep::v1::TlsClientSettings settings = ParseOne(main_cf);
  EXPECT_EQ(settings.openssl_ciphers(), "ECDHE+AESGCM: ECDHE+CHACHA20:!aNULL:!aNULL");
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(settings.max_version(), tlsweep::v1::TLSV1_3);
  EXPECT_TRUE(settings.tls_required());
}

TEST(PostfixMainCfTest, ProtocolHoleFollowsOpenssl) {
  CandidateSet set;
  tlsweep::v1::TlsClientSettings settings = ParseOne(
      "smtp_tls_security_level = may\nsmtp_tls_protocols = !SSLv2, !SSLv3, !TLSv1.1\n", &set);
  // OpenSSL keeps the lowest contiguous run: TLSv1 only.
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLSV1_0);
  EXPECT_EQ(settings.max_version(), tlsweep::v1::TLSV1_0);
  EXPECT_TRUE(HasWarning(set,
                         "main.cf:2: smtp_tls_protocols enables TLSv1, TLSv1.2, TLSv1.3 "
                         "with a hole"))
      << absl::StrJoin(set.warnings, "\n");
  // The inclusion form.
  tlsweep::v1::TlsClientSettings included =
      ParseOne("smtp_tls_security_level = may\nsmtp_tls_protocols = TLSv1.2 TLSv1.3\n");
  EXPECT_EQ(included.min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(included.max_version(), tlsweep::v1::TLSV1_3);
}

TEST(PostfixMainCfTest, WarnsAboutWhatItDoesNotModelWithLineNumbers) {
  CandidateSet set;
  ParseOne(
      "smtp_tls_security_level = may\n"
      "smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt\n"
      "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n"
      "smtp_tls_loglevel = 1\n"
      "smtpd_tls_cert_file = /etc/ssl/server.pem\n"
      "tls_ssl_options = NO_TICKET\n"
      "smtp_tls_security_level = encrypt\n",
      &set);
  EXPECT_TRUE(HasWarning(set, "main.cf:2: smtp_tls_CAfile: not modelled"));
  EXPECT_TRUE(HasWarning(set, "main.cf:3: smtp_tls_policy_maps: per-destination"));
  EXPECT_TRUE(HasWarning(set, "main.cf:6: tls_ssl_options"));
  EXPECT_TRUE(HasWarning(set, "main.cf:7: smtp_tls_security_level overrides"));
  EXPECT_FALSE(HasWarning(set, "smtp_tls_loglevel"));
  EXPECT_FALSE(HasWarning(set, "smtpd_tls_cert_file"));
  EXPECT_EQ(set.warnings.size(), 4u) << absl::StrJoin(set.warnings, "\n");
}

TEST(PostfixMainCfTest, SeclevelZeroInTheCipherListMeansLegacy) {
  tlsweep::v1::TlsClientSettings settings =
      ParseOne("smtp_tls_security_level = may\ntls_medium_cipherlist = DEFAULT:@SECLEVEL=0\n");
  EXPECT_TRUE(settings.legacy());
  EXPECT_EQ(settings.openssl_ciphers(), "DEFAULT:@SECLEVEL=0");
}

TEST(PostfixMainCfTest, BadSettingsAreErrorsWithFileAndLine) {
  auto error = [](const std::string& content) {
    absl::StatusOr<CandidateSet> result = ParsePostfixMainCf(content, "main.cf");
    EXPECT_FALSE(result.ok()) << content;
    return std::string(result.status().message());
  };
  EXPECT_TRUE(absl::StrContains(error("\nsmtp_tls_security_level = sometimes\n"),
                                "main.cf:2: unknown smtp_tls_security_level 'sometimes'"));
  EXPECT_TRUE(absl::StrContains(error("smtp_tls_security_level = may\nsmtp_tls_ciphers = strong\n"),
                                "main.cf:2: smtp_tls_ciphers: unknown cipher grade 'strong'"));
  EXPECT_TRUE(
      absl::StrContains(error("smtp_tls_security_level = may\nsmtp_tls_protocols = !TLSv9\n"),
                        "main.cf:2: smtp_tls_protocols = !TLSv9: unknown protocol '!TLSv9'"));
  EXPECT_TRUE(
      absl::StrContains(error("smtp_tls_security_level = may\nsmtp_tls_exclude_ciphers = !RC4\n"),
                        "main.cf:2: smtp_tls_exclude_ciphers: invalid unary"));
  EXPECT_TRUE(absl::StrContains(error("just words\n"), "main.cf:1: missing '='"));
  EXPECT_TRUE(absl::StrContains(error("  indented = 1\n"), "main.cf:1: continuation line"));
  EXPECT_TRUE(absl::StrContains(
      error("smtp_tls_security_level = may\nsmtp_tls_protocols = >=TLSv1.3 <=TLSv1.2\n"),
      "leaves no TLS version enabled"));
}

// Found by the mta_config fuzzer: each parameter referring to the next one twice doubled the
// expansion at every level (2^40 bytes here). Names are expanded once and capped.
TEST(PostfixMainCfTest, ExponentialExpansionIsCutNotFollowed) {
  std::string main_cf = "smtp_tls_security_level = encrypt\nsmtp_tls_mandatory_ciphers = $p0\n";
  for (int i = 0; i < 40; ++i) {
    main_cf += "p" + std::to_string(i) + " = $p" + std::to_string(i + 1) + " $p" +
               std::to_string(i + 1) + "\n";
  }
  main_cf += "p40 = high\n";
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<CandidateSet> parsed = ParsePostfixMainCf(main_cf, "main.cf");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  (void)parsed;  // Refused or parsed with a warning: either way quickly and in bounded memory.
}

}  // namespace
}  // namespace tlsweep::backends
