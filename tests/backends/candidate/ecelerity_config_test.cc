#include "backends/candidate/ecelerity_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "backends/candidate/candidate_file.h"

namespace tlsweep::backends {
namespace {

CandidateSet Parse(const std::string& content) {
  absl::StatusOr<CandidateSet> result = ParseEcelerityConfig(content, "ecelerity.conf");
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : CandidateSet{};
}

bool HasWarning(const CandidateSet& set, absl::string_view text) {
  for (const std::string& warning : set.warnings) {
    if (absl::StrContains(warning, text)) return true;
  }
  return false;
}

constexpr char kGlobalAndDomain[] = R"(# Outbound TLS for everyone
TLS = "ifavailable"
TLS_Ciphers = "DEFAULT:!AES256-SHA:!EXPORT"   # trailing comment
tls_protocols = +ALL:-SSLv3:-TLSv1.0:-TLSv1.1
TLSv13_Ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
TLS_EC_Curve_Names = "secp384r1:prime256v1"
tls_enable_dhe_ciphers = false
TLS_Verify = "host"

ESMTP_Listener {
  TLS_Ciphers = "HIGH"
  Listen ":25" { tls = allow }
}

Domain "partner.example" {
  TLS = "required"
  TLS_Ciphers = "ECDHE+AESGCM"
}

Binding "customer-1" {
  Domain 'old.example' {
    tls_protocols = "+TLSv1.2"
  }
  Domain "plain.example" { tls = no }
}
)";

// Issue 12 item 6: Domain scopes apply to their own domains only. Before, each one became a
// candidate of its own, run against every domain.
TEST(EcelerityConfigTest, DomainScopesAreOverridesOfTheCandidateTheyAreIn) {
  CandidateSet set = Parse(kGlobalAndDomain);
  ASSERT_EQ(set.candidates.size(), 2u) << absl::StrJoin(set.warnings, "\n");
  EXPECT_EQ(set.name, "ecelerity");

  const tlsweep::v1::TlsClientSettings& global = set.candidates[0];
  EXPECT_EQ(global.name(), "ecelerity");
  EXPECT_EQ(global.source(), "ecelerity.conf");
  EXPECT_EQ(global.backend(), "openssl");
  EXPECT_EQ(global.openssl_ciphers(), "DEFAULT:!AES256-SHA:!EXPORT:!DHE:!EDH");
  EXPECT_EQ(global.openssl_ciphersuites(), "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(global.min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(global.max_version(), tlsweep::v1::TLSV1_3);
  EXPECT_EQ(absl::StrJoin(global.groups(), ":"), "secp384r1:secp256r1");
  EXPECT_FALSE(global.tls_required());

  // The global Domain scope: an override of the global candidate, with the effective settings.
  ASSERT_EQ(global.overrides_size(), 1);
  const tlsweep::v1::DomainOverride& partner = global.overrides(0);
  EXPECT_EQ(absl::StrJoin(partner.domains(), " "), "partner.example");
  EXPECT_EQ(partner.scope(), "Domain \"partner.example\" (ecelerity.conf:15)");
  EXPECT_FALSE(partner.next_hop());
  EXPECT_EQ(partner.settings().name(), "ecelerity");
  EXPECT_EQ(partner.settings().openssl_ciphers(), "ECDHE+AESGCM:!DHE:!EDH");
  EXPECT_EQ(partner.settings().openssl_ciphersuites(), global.openssl_ciphersuites());
  EXPECT_EQ(partner.settings().min_version(), tlsweep::v1::TLSV1_2);  // Inherited.
  EXPECT_EQ(absl::StrJoin(partner.settings().groups(), ":"), "secp384r1:secp256r1");
  EXPECT_TRUE(partner.settings().tls_required());
  EXPECT_TRUE(partner.settings().overrides().empty());

  // The binding carries traffic of its own: a candidate, whose overrides are its Domain scopes
  // and the global ones it inherits.
  const tlsweep::v1::TlsClientSettings& binding = set.candidates[1];
  EXPECT_EQ(binding.name(), "ecelerity/customer-1");
  EXPECT_EQ(binding.source(), "ecelerity.conf:20");
  EXPECT_EQ(binding.openssl_ciphers(), global.openssl_ciphers());
  ASSERT_EQ(binding.overrides_size(), 3);
  const tlsweep::v1::DomainOverride& old = binding.overrides(0);
  EXPECT_EQ(absl::StrJoin(old.domains(), " "), "old.example");
  EXPECT_EQ(old.scope(), "Binding \"customer-1\" / Domain \"old.example\" (ecelerity.conf:21)");
  EXPECT_EQ(old.settings().name(), "ecelerity/customer-1");
  EXPECT_EQ(old.settings().min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(old.settings().max_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(old.settings().openssl_ciphers(), "DEFAULT:!AES256-SHA:!EXPORT:!DHE:!EDH");
  const tlsweep::v1::DomainOverride& plain = binding.overrides(1);
  EXPECT_EQ(absl::StrJoin(plain.domains(), " "), "plain.example");
  EXPECT_TRUE(plain.settings().tls_disabled());  // tls = no: clear text, not a warning.
  EXPECT_FALSE(plain.settings().tls_required());
  const tlsweep::v1::DomainOverride& inherited = binding.overrides(2);
  EXPECT_EQ(absl::StrJoin(inherited.domains(), " "), "partner.example");
  EXPECT_EQ(inherited.settings().openssl_ciphers(), "ECDHE+AESGCM:!DHE:!EDH");
  EXPECT_TRUE(inherited.settings().tls_required());

  for (tlsweep::v1::TlsClientSettings candidate : set.candidates) {
    EXPECT_TRUE(ValidateCandidate(candidate).ok()) << candidate.name();
  }
  EXPECT_TRUE(HasWarning(set, "ecelerity.conf:8: tls_verify: not modelled"))
      << absl::StrJoin(set.warnings, "\n");
  // Listener scopes are inbound: nothing said about them.
  EXPECT_FALSE(HasWarning(set, ":11:"));
  EXPECT_FALSE(HasWarning(set, ":12:"));
}

// Momentum's fallback: binding/domain, binding, group/domain, group, domain, global.
constexpr char kBindings[] = R"(tls = ifavailable
tls_ciphers = "HIGH"
Domain "Partner.Example" {
  tls = required
  tls_ciphers = "MEDIUM"
}
Binding "bulk" {
  tls_ciphers = "DEFAULT"
}
Binding_Group "eu" {
  tls_protocols = "+TLSv1.2:+TLSv1.3"
  Domain "partner.example" { tls_ciphers = "ECDHE+AESGCM" }
  Binding "eu-1" {
  }
  Binding "eu-2" { tls = required }
}
Binding "idle" {
  Domain "same.example" { tls_ciphers = "HIGH" }
}
)";

TEST(EcelerityConfigTest, BindingsAndGroupsAreCandidatesWithMomentumsFallback) {
  CandidateSet set = Parse(kBindings);
  std::vector<std::string> names;
  for (const auto& candidate : set.candidates) names.push_back(candidate.name());
  // eu-1 changes nothing: its mail goes as the group's. "idle" sets only what it inherits.
  EXPECT_EQ(absl::StrJoin(names, " "), "ecelerity ecelerity/bulk ecelerity/eu ecelerity/eu-2")
      << absl::StrJoin(set.warnings, "\n");
  ASSERT_EQ(set.candidates.size(), 4u);

  const auto& global = set.candidates[0];
  ASSERT_EQ(global.overrides_size(), 1);
  EXPECT_EQ(global.overrides(0).domains(0), "partner.example");  // Lower-cased.
  EXPECT_EQ(global.overrides(0).settings().openssl_ciphers(), "MEDIUM");
  EXPECT_TRUE(global.overrides(0).settings().tls_required());

  // The binding's own tls_ciphers beats the global Domain scope's; tls comes from the Domain.
  const auto& bulk = set.candidates[1];
  EXPECT_EQ(bulk.openssl_ciphers(), "DEFAULT");
  EXPECT_FALSE(bulk.tls_required());
  ASSERT_EQ(bulk.overrides_size(), 1);
  EXPECT_EQ(bulk.overrides(0).settings().openssl_ciphers(), "DEFAULT");
  EXPECT_TRUE(bulk.overrides(0).settings().tls_required());
  EXPECT_EQ(bulk.overrides(0).scope(), "Domain \"Partner.Example\" (ecelerity.conf:3)");

  const auto& eu = set.candidates[2];
  EXPECT_EQ(eu.source(), "ecelerity.conf:10");
  EXPECT_EQ(eu.openssl_ciphers(), "HIGH");
  EXPECT_EQ(eu.min_version(), tlsweep::v1::TLSV1_2);
  ASSERT_EQ(eu.overrides_size(), 1);
  const auto& eu_partner = eu.overrides(0);
  EXPECT_EQ(eu_partner.settings().openssl_ciphers(), "ECDHE+AESGCM");    // Group/Domain.
  EXPECT_TRUE(eu_partner.settings().tls_required());                     // Global Domain.
  EXPECT_EQ(eu_partner.settings().min_version(), tlsweep::v1::TLSV1_2);  // Group.
  EXPECT_EQ(eu_partner.scope(),
            "Binding_Group \"eu\" / Domain \"partner.example\" (ecelerity.conf:12), over "
            "Domain \"Partner.Example\" (ecelerity.conf:3)");

  const auto& eu2 = set.candidates[3];
  EXPECT_TRUE(eu2.tls_required());
  EXPECT_EQ(eu2.min_version(), tlsweep::v1::TLSV1_2);  // From its group.
  ASSERT_EQ(eu2.overrides_size(), 1);
  EXPECT_EQ(eu2.overrides(0).settings().openssl_ciphers(), "ECDHE+AESGCM");
}

TEST(EcelerityConfigTest, ScopesMomentumRefusesOrDoesNotHave) {
  absl::StatusOr<CandidateSet> twice = ParseEcelerityConfig(
      "Domain \"a.example\" { tls = required }\nDomain \"A.example\" { tls = no }\n",
      "ecelerity.conf");
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(absl::StrContains(twice.status().message(), "ecelerity.conf:2: Domain \"A.example\""))
      << twice.status();
  absl::StatusOr<CandidateSet> bindings = ParseEcelerityConfig(
      "Binding \"b\" { tls = required }\nBinding \"b\" { tls = no }\n", "ecelerity.conf");
  ASSERT_FALSE(bindings.ok());
  EXPECT_TRUE(absl::StrContains(bindings.status().message(), "ecelerity.conf:2: Binding \"b\""));

  CandidateSet odd = Parse(
      "Domain \"not a domain\" { tls = required }\n"
      "Domain \"x.example\" {\n  Domain \"y.example\" { tls = required }\n}\n");
  ASSERT_EQ(odd.candidates.size(), 1u);
  EXPECT_TRUE(odd.candidates[0].overrides().empty());
  EXPECT_TRUE(HasWarning(odd, "ecelerity.conf:1: Domain \"not a domain\": not a domain name"))
      << absl::StrJoin(odd.warnings, "\n");
  EXPECT_TRUE(HasWarning(odd, "ecelerity.conf:3: Domain \"y.example\" inside Domain"));
}

TEST(EcelerityConfigTest, GnutlsEngineTakesThePriorityString) {
  CandidateSet set = Parse(
      "tls_engine = gnutls\n"
      "tls = required\n"
      "tls_ciphers = \"NORMAL:-VERS-TLS1.0:-VERS-TLS1.1\"\n"
      "tls_protocols = \"+ALL:-TLSv1.0\"\n"
      "tls_enable_dhe_ciphers = false\n");
  ASSERT_EQ(set.candidates.size(), 1u);
  const tlsweep::v1::TlsClientSettings& settings = set.candidates[0];
  EXPECT_EQ(settings.backend(), "gnutls");
  EXPECT_EQ(settings.gnutls_priority(), "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-DHE-RSA:-DHE-DSS");
  EXPECT_TRUE(settings.openssl_ciphers().empty());
  EXPECT_EQ(settings.min_version(), tlsweep::v1::TLS_VERSION_UNSPECIFIED);
  EXPECT_TRUE(settings.tls_required());
  EXPECT_TRUE(HasWarning(set, "ecelerity.conf:4: tls_protocols has no meaning for GnuTLS"));
}

TEST(EcelerityConfigTest, ProtocolHoleIsWarnedAndModelledAsOpensslDoes) {
  CandidateSet set = Parse("tls = ifavailable\ntls_protocols = +ALL:-TLSv1.1\n");
  ASSERT_EQ(set.candidates.size(), 1u);
  // SSL_OP_NO_TLSv1_1 with TLSv1 still on: an OpenSSL client offers TLSv1 only.
  EXPECT_EQ(set.candidates[0].min_version(), tlsweep::v1::TLSV1_0);
  EXPECT_EQ(set.candidates[0].max_version(), tlsweep::v1::TLSV1_0);
  EXPECT_TRUE(HasWarning(set,
                         "ecelerity.conf:2: tls_protocols enables TLSv1, TLSv1.2, TLSv1.3 "
                         "with a hole"))
      << absl::StrJoin(set.warnings, "\n");
  EXPECT_TRUE(HasWarning(set, "not up to TLSv1.3"));
}

TEST(EcelerityConfigTest, DefaultsAndFallback) {
  CandidateSet set = Parse("tls = ifavailable\ntls_ifavailable_fallback = false\n");
  ASSERT_EQ(set.candidates.size(), 1u);
  EXPECT_TRUE(set.candidates[0].tls_required());
  EXPECT_TRUE(set.candidates[0].openssl_ciphers().empty());
  EXPECT_EQ(set.candidates[0].min_version(), tlsweep::v1::TLS_VERSION_UNSPECIFIED);

  CandidateSet unset = Parse("# nothing\n");
  ASSERT_EQ(unset.candidates.size(), 1u);
  EXPECT_TRUE(HasWarning(unset, "tls is not set in the global scope"));
}

TEST(EcelerityConfigTest, ListsHeredocsAndIncludesAreUnderstood) {
  CandidateSet set = Parse(
      "include \"/opt/msys/ecelerity/etc/conf/default/common.conf\"\n"
      "Modules = ( \"a\" 'b' c )\n"
      "script = <<EOT\n"
      "  tls_ciphers = NOT-THIS\n"
      "EOT\n"
      "tls = ifavailable\n"
      "tls_ciphers = HIGH\n"
      "Domain example.com { tls_ciphers = MEDIUM }\n");
  ASSERT_EQ(set.candidates.size(), 1u);
  EXPECT_EQ(set.candidates[0].openssl_ciphers(), "HIGH");
  ASSERT_EQ(set.candidates[0].overrides_size(), 1);
  EXPECT_EQ(set.candidates[0].overrides(0).domains(0), "example.com");
  EXPECT_EQ(set.candidates[0].overrides(0).settings().openssl_ciphers(), "MEDIUM");
  EXPECT_TRUE(HasWarning(set, "ecelerity.conf:1: include"));
}

TEST(EcelerityConfigTest, SyntaxAndValueErrorsCarryFileAndLine) {
  auto error = [](const std::string& content) {
    absl::StatusOr<CandidateSet> result = ParseEcelerityConfig(content, "ecelerity.conf");
    EXPECT_FALSE(result.ok()) << content;
    return std::string(result.status().message());
  };
  EXPECT_TRUE(absl::StrContains(error("\nDomain \"x\" {\n tls = required\n"),
                                "ecelerity.conf:2: scope domain opened here is not closed"));
  EXPECT_TRUE(absl::StrContains(error("tls = required\n}\n"), "ecelerity.conf:2: '}'"));
  EXPECT_TRUE(absl::StrContains(error("tls_ciphers = \"DEFAULT\ntls = x\n"),
                                "ecelerity.conf:1: unterminated"));
  EXPECT_TRUE(absl::StrContains(error("tls_engine = wolfssl\n"), "ecelerity.conf:1: tls_engine"));
  EXPECT_TRUE(absl::StrContains(error("\ntls_protocols = +TLSv9\n"),
                                "ecelerity.conf:2: tls_protocols: unknown protocol"));
  EXPECT_TRUE(absl::StrContains(error("tls_protocols = +SSLv3\n"), "enables no TLS version"));
  EXPECT_TRUE(absl::StrContains(error("tls_ec_curve_names = brainpool\n"), "tls_ec_curve_names"));
  EXPECT_TRUE(absl::StrContains(error("tls = sometimes\n"), "ecelerity.conf:1: tls 'sometimes'"));
}

TEST(CandidateFileTest, DetectsTheFormat) {
  EXPECT_EQ(DetectCandidateFileFormat("/etc/postfix/main.cf", ""), CandidateFileFormat::kPostfix);
  EXPECT_EQ(DetectCandidateFileFormat("/opt/msys/ecelerity/etc/ecelerity.conf", ""),
            CandidateFileFormat::kEcelerity);
  EXPECT_EQ(DetectCandidateFileFormat("x.conf", "TLS_Engine = gnutls\nDomain x {\n}\n"),
            CandidateFileFormat::kEcelerity);
  EXPECT_EQ(DetectCandidateFileFormat("x.conf", "smtp_tls_security_level = may\n"),
            CandidateFileFormat::kPostfix);
  EXPECT_FALSE(ParseCandidateFileFormat("sendmail").ok());
  EXPECT_EQ(*ParseCandidateFileFormat("Momentum"), CandidateFileFormat::kEcelerity);
  EXPECT_FALSE(LoadCandidateFile("/nonexistent/main.cf", CandidateFileFormat::kAuto).ok());
}

// Found by the mta_config fuzzer: 2000 nested scopes overflowed the parser's stack.
TEST(EcelerityConfigTest, DeepNestingIsAnErrorNotACrash) {
  std::string config;
  for (int i = 0; i < 2000; ++i) config += "x{";
  for (int i = 0; i < 2000; ++i) config += "}";
  absl::StatusOr<CandidateSet> parsed = ParseEcelerityConfig(config, "ecelerity.conf");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("nested deeper than 64"), std::string::npos)
      << parsed.status();
}

}  // namespace
}  // namespace tlsweep::backends
