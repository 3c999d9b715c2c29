#include "backends/candidate/postfix_main_cf.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "backends/candidate/settings_for_domain.h"
#include "tests/testing/cert_factory.h"
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

// Issue 12 item 6: `${strongish?$strongish}` expanded to a literal before.
TEST(PostfixMainCfTest, ConditionalExpansionChoosesTheGrade) {
  tlsweep::v1::TlsClientSettings settings = ParseOne(
      "strongish = high\n"
      "smtp_tls_security_level = encrypt\n"
      "smtp_tls_mandatory_ciphers = ${strongish?$strongish}${strongish:medium}\n"
      "smtp_tls_mandatory_protocols = ${strongish?{>=TLSv1.2}:{>=TLSv1}}\n");
  EXPECT_EQ(settings.openssl_ciphers(), "aNULL:-aNULL:HIGH:@STRENGTH");
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLSV1_2);
}

std::string WriteFile(const std::string& directory, const std::string& name,
                      const std::string& content) {
  const std::string path = directory + "/" + name;
  std::ofstream(path) << content;
  return path;
}

// Sets a file's modification time `seconds` from now.
void Touch(const std::string& path, int seconds) {
  std::filesystem::last_write_time(
      path, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(seconds));
}

const tlsweep::v1::DomainOverride* FindOverride(const tlsweep::v1::TlsClientSettings& candidate,
                                                const std::string& key) {
  for (const tlsweep::v1::DomainOverride& entry : candidate.overrides()) {
    for (const std::string& domain : entry.domains()) {
      if (domain == key) return &entry;
    }
  }
  return nullptr;
}

constexpr char kPolicyMainCf[] = R"(smtp_tls_security_level = may
smtp_tls_mandatory_protocols = >=TLSv1.2
smtp_tls_mandatory_ciphers = high
smtp_tls_exclude_ciphers = RC4
smtp_tls_policy_maps = texthash:${config_directory}/tls_policy,
    hash:${config_directory}/hashed_policy
    inline:{ {inline.example = encrypt protocols=TLSv1.3}, cleartext.example=none }
    hash:$config_directory/only_db, hash:/etc/postfix/relocated
    regexp:/etc/postfix/tls_policy.regexp
)";

constexpr char kTextPolicy[] = R"(# Per-destination TLS
example.com        encrypt ciphers=medium
.example.com       verify match=.example.com
                   exclude=3DES
Example.ORG        may protocols=>=TLSv1.2:<=TLSv1.2
[mx.partner.test]:587  secure
example.net        none
inline.example     may
)";

TEST(PostfixMainCfTest, PolicyMapsOfEachTableTypeBecomeOverrides) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-policy");
  const std::string main_cf = WriteFile(dir, "main.cf", kPolicyMainCf);
  const std::string text = WriteFile(dir, "tls_policy", kTextPolicy);
  const std::string hashed =
      WriteFile(dir, "hashed_policy", "tls.example dane-only\nexample.com secure\n");
  WriteFile(dir, "hashed_policy.db", "(Berkeley DB)");
  Touch(dir + "/hashed_policy.db", 10);
  WriteFile(dir, "only_db.db", "(Berkeley DB)");
  const std::string relocated = WriteFile(dir, "relocated", "old.example encrypt\n");
  WriteFile(dir, "relocated.db", "(Berkeley DB)");
  Touch(dir + "/relocated.db", -3600);  // postmap was not run after the last edit.

  absl::StatusOr<CandidateSet> set = ReadPostfixMainCf(main_cf);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->candidates.size(), 1u);
  const tlsweep::v1::TlsClientSettings& candidate = set->candidates[0];
  const std::string warnings = absl::StrJoin(set->warnings, "\n");
  EXPECT_EQ(candidate.name(), "postfix");
  EXPECT_FALSE(candidate.tls_required());
  EXPECT_EQ(candidate.openssl_ciphers(), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!RC4");
  std::vector<std::string> keys;
  for (const auto& entry : candidate.overrides()) keys.push_back(entry.domains(0));
  // Tables in order; of a key in several tables, the first table's entry.
  EXPECT_EQ(absl::StrJoin(keys, " "),
            "example.com .example.com example.org [mx.partner.test]:587 example.net "
            "inline.example tls.example cleartext.example old.example")
      << warnings;
  tlsweep::v1::TlsClientSettings validated = candidate;
  EXPECT_TRUE(ValidateCandidate(validated).ok()) << ValidateCandidate(validated);

  // encrypt with ciphers=medium: the mandatory protocols, main.cf's exclusions.
  const tlsweep::v1::DomainOverride* example = FindOverride(candidate, "example.com");
  ASSERT_NE(example, nullptr);
  EXPECT_EQ(example->scope(), absl::StrCat("smtp_tls_policy_maps example.com (", text, ":2)"));
  EXPECT_FALSE(example->next_hop());
  EXPECT_EQ(example->settings().name(), "postfix");
  EXPECT_TRUE(example->settings().tls_required());
  EXPECT_EQ(example->settings().openssl_ciphers(), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!RC4");
  EXPECT_EQ(example->settings().min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(absl::StrJoin(example->settings().groups(), ":"),
            absl::StrJoin(candidate.groups(), ":"));
  // verify, across a continuation line: the mandatory grade, exclude= replaces main.cf's list.
  const tlsweep::v1::DomainOverride* subdomains = FindOverride(candidate, ".example.com");
  ASSERT_NE(subdomains, nullptr);
  EXPECT_EQ(subdomains->settings().openssl_ciphers(), "aNULL:-aNULL:HIGH:@STRENGTH:!3DES:!aNULL");
  EXPECT_TRUE(subdomains->settings().tls_required());
  EXPECT_TRUE(absl::StrContains(warnings, absl::StrCat(text,
                                                       ":3: TLS policy for .example.com: "
                                                       "match= is not modelled")))
      << warnings;
  // may with its own protocols.
  const tlsweep::v1::DomainOverride* org = FindOverride(candidate, "example.org");
  ASSERT_NE(org, nullptr);
  EXPECT_FALSE(org->settings().tls_required());
  EXPECT_EQ(org->settings().min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(org->settings().max_version(), tlsweep::v1::TLSV1_2);
  // A next hop is recorded, marked, and warned about.
  const tlsweep::v1::DomainOverride* hop = FindOverride(candidate, "[mx.partner.test]:587");
  ASSERT_NE(hop, nullptr);
  EXPECT_TRUE(hop->next_hop());
  EXPECT_TRUE(hop->settings().tls_required());
  EXPECT_TRUE(absl::StrContains(warnings, "is a next hop, not a domain")) << warnings;
  // none: TLS off for that destination.
  for (const char* off : {"example.net", "cleartext.example"}) {
    const tlsweep::v1::DomainOverride* entry = FindOverride(candidate, off);
    ASSERT_NE(entry, nullptr) << off;
    EXPECT_TRUE(entry->settings().tls_disabled()) << off;
    EXPECT_FALSE(entry->settings().tls_required()) << off;
  }
  // The texthash entry shadows the inline one; the hashed table's source is read.
  EXPECT_FALSE(FindOverride(candidate, "inline.example")->settings().tls_required());
  const tlsweep::v1::DomainOverride* dane = FindOverride(candidate, "tls.example");
  ASSERT_NE(dane, nullptr);
  EXPECT_EQ(dane->scope(), absl::StrCat("smtp_tls_policy_maps tls.example (", hashed, ":1)"));
  EXPECT_TRUE(dane->settings().tls_required());
  // /etc/postfix/relocated is read from the reviewed config's directory, and is stale.
  const tlsweep::v1::DomainOverride* old = FindOverride(candidate, "old.example");
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->scope(), absl::StrCat("smtp_tls_policy_maps old.example (", relocated, ":1)"));
  EXPECT_TRUE(
      absl::StrContains(warnings, absl::StrCat("/etc/postfix/relocated is read from ", relocated)))
      << warnings;
  EXPECT_TRUE(absl::StrContains(warnings, "relocated.db is older than")) << warnings;
  EXPECT_TRUE(absl::StrContains(
      warnings,
      absl::StrCat(main_cf, ":5: smtp_tls_policy_maps: per-destination policies in hash:", dir,
                   "/only_db are not read: only the compiled ", dir, "/only_db.db is there")))
      << warnings;
  EXPECT_TRUE(absl::StrContains(warnings, "regexp:/etc/postfix/tls_policy.regexp are not read"))
      << warnings;

  // What a domain gets.
  EXPECT_TRUE(SettingsForDomain(candidate, "mail.example.com").tls_required());
  EXPECT_EQ(&SettingsForDomain(candidate, "example.edu"), &candidate);
}

TEST(PostfixMainCfTest, InlineTablesNeedNoFiles) {
  CandidateSet set;
  tlsweep::v1::TlsClientSettings settings = ParseOne(
      "smtp_tls_security_level = encrypt\n"
      "smtp_tls_policy_maps = inline:{ { partner.example = may ciphers=high exclude=SHA1 } }\n",
      &set);
  ASSERT_EQ(settings.overrides_size(), 1);
  const tlsweep::v1::DomainOverride& entry = settings.overrides(0);
  EXPECT_EQ(entry.scope(), "smtp_tls_policy_maps partner.example (main.cf:2)");
  EXPECT_FALSE(entry.settings().tls_required());
  EXPECT_EQ(entry.settings().openssl_ciphers(), "aNULL:-aNULL:HIGH:@STRENGTH:!SHA1");
  EXPECT_EQ(entry.settings().min_version(), tlsweep::v1::TLSV1_0);  // may's protocols.
}

TEST(PostfixMainCfTest, BadPoliciesAreErrorsWithTheTableLine) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-policy");
  const std::string main_cf =
      WriteFile(dir, "main.cf", "smtp_tls_policy_maps = texthash:" + dir + "/tls_policy\n");
  const std::string table = WriteFile(dir, "tls_policy", "a.example may\nb.example sometimes\n");
  absl::StatusOr<CandidateSet> set = ReadPostfixMainCf(main_cf);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(absl::StrContains(set.status().message(),
                                absl::StrCat(table,
                                             ":2: TLS policy for b.example: invalid "
                                             "security level \"sometimes\"")))
      << set.status();
  WriteFile(dir, "tls_policy", "a.example encrypt ciphers=high ciphers=low\n");
  set = ReadPostfixMainCf(main_cf);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(absl::StrContains(set.status().message(), "is specified multiple times"));
  WriteFile(dir, "tls_policy", "a.example encrypt protocols=TLSv9\n");
  set = ReadPostfixMainCf(main_cf);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(absl::StrContains(set.status().message(),
                                absl::StrCat(table, ":1: protocols= (TLS policy) = TLSv9")))
      << set.status();
  absl::StatusOr<CandidateSet> inline_error =
      ParsePostfixMainCf("smtp_tls_policy_maps = inline:{ a.example }\n", "main.cf");
  ASSERT_FALSE(inline_error.ok());
  EXPECT_TRUE(absl::StrContains(inline_error.status().message(), "main.cf:1: inline:"));
}

constexpr char kMasterCf[] =
    R"(# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
  -o smtpd_tls_security_level=encrypt
smtp      unix  -       -       y       -       -       smtp
  -o smtp_tls_security_level=encrypt
#  -o smtp_tls_protocols=TLSv1
  -o { smtp_tls_mandatory_ciphers = $strong }
  -osmtp_tls_mandatory_protocols=>=TLSv1.2
relay     unix  -       -       y       -       -       smtp
        -o syslog_name=postfix/$service_name -o smtp_tls_security_level=verify
)";

TEST(PostfixMainCfTest, MasterCfOverridesOfTheSmtpTransportApply) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-master");
  const std::string main_cf = WriteFile(dir, "main.cf",
                                        "smtp_tls_security_level = may\nstrong = high\n"
                                        "smtp_tls_policy_maps = inline:{ a.example=may }\n");
  const std::string master_cf = WriteFile(dir, "master.cf", kMasterCf);
  absl::StatusOr<CandidateSet> set = ReadPostfixMainCf(main_cf);
  ASSERT_TRUE(set.ok()) << set.status();
  const tlsweep::v1::TlsClientSettings& settings = set->candidates[0];
  const std::string warnings = absl::StrJoin(set->warnings, "\n");
  EXPECT_TRUE(settings.tls_required());
  EXPECT_EQ(settings.openssl_ciphers(), "aNULL:-aNULL:HIGH:@STRENGTH");
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLSV1_2);
  // A policy entry starts from the transport's parameters too.
  ASSERT_EQ(settings.overrides_size(), 1);
  EXPECT_FALSE(settings.overrides(0).settings().tls_required());
  EXPECT_TRUE(absl::StrContains(
      warnings, absl::StrCat(master_cf,
                             ":5: -o smtp_tls_security_level=encrypt applies to the "
                             "smtp transport (over ",
                             main_cf, ":1)")))
      << warnings;
  EXPECT_TRUE(
      absl::StrContains(warnings, absl::StrCat(master_cf,
                                               ":9: transport 'relay' (smtp) sets -o "
                                               "smtp_tls_security_level=verify: not modelled")))
      << warnings;
  EXPECT_FALSE(absl::StrContains(warnings, "smtpd_tls_security_level")) << warnings;

  // The same main.cf read alone: master.cf is not part of it.
  absl::StatusOr<CandidateSet> alone =
      ParsePostfixMainCf("smtp_tls_security_level = may\n", main_cf);
  ASSERT_TRUE(alone.ok());
  EXPECT_FALSE(alone->candidates[0].tls_required());
}

TEST(PostfixMainCfTest, MasterCfErrorsCarryFileAndLine) {
  const std::string dir = testing::MakeTempDirectory("tlsweep-master");
  const std::string main_cf = WriteFile(dir, "main.cf", "smtp_tls_security_level = may\n");
  const std::string master_cf =
      WriteFile(dir, "master.cf", "smtp unix - - y - - smtp\n  -o smtp_tls_ciphers\n");
  absl::StatusOr<CandidateSet> set = ReadPostfixMainCf(main_cf);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(absl::StrContains(set.status().message(), master_cf + ":2: -o smtp_tls_ciphers"))
      << set.status();
  WriteFile(dir, "master.cf", "smtp unix - - y - -\n");
  set = ReadPostfixMainCf(main_cf);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(absl::StrContains(set.status().message(), master_cf + ":1: a service needs 8"));
}

}  // namespace
}  // namespace tlsweep::backends
