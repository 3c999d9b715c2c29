#include "backends/candidate/candidate_spec.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace tlsweep::backends {
namespace {

TEST(CandidateSpecTest, ParsesEveryKeyWithQuotedValues) {
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = ParseCandidateSpec(
      "name=proposed backend=openssl ciphers='DEFAULT:!AES256-SHA:!EXPORT' "
      "ciphersuites=\"TLS_AES_128_GCM_SHA256\" min=TLSv1.2 max=1.3 groups=X25519:P-256 "
      "legacy=yes tls=required");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->name(), "proposed");
  EXPECT_EQ(settings->backend(), "openssl");
  EXPECT_EQ(settings->openssl_ciphers(), "DEFAULT:!AES256-SHA:!EXPORT");
  EXPECT_EQ(settings->openssl_ciphersuites(), "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(settings->min_version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(settings->max_version(), tlsweep::v1::TLSV1_3);
  ASSERT_EQ(settings->groups_size(), 2);
  EXPECT_EQ(settings->groups(0), "x25519");
  EXPECT_EQ(settings->groups(1), "secp256r1");
  EXPECT_TRUE(settings->legacy());
  EXPECT_TRUE(settings->tls_required());
  EXPECT_EQ(settings->source(), "--candidate");
}

TEST(CandidateSpecTest, QuotesMayHoldSpacesAndTheOtherQuote) {
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings =
      ParseCandidateSpec("name='my candidate' priority=\"NORMAL:-VERS-TLS1.0 \\\"x\\\"\"");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->name(), "my candidate");
  EXPECT_EQ(settings->gnutls_priority(), "NORMAL:-VERS-TLS1.0 \"x\"");
  // A priority string alone means the GnuTLS backend.
  EXPECT_EQ(settings->backend(), "gnutls");
  EXPECT_FALSE(settings->tls_required());
}

TEST(CandidateSpecTest, ErrorsNameTheKey) {
  auto error = [](const char* spec) {
    absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = ParseCandidateSpec(spec);
    EXPECT_FALSE(settings.ok()) << spec;
    return std::string(settings.status().message());
  };
  EXPECT_TRUE(absl::StrContains(error("name=x cipher=DEFAULT"), "unknown key 'cipher'"));
  EXPECT_TRUE(absl::StrContains(error("name=x min=TLSv9"), "min=TLSv9"));
  EXPECT_TRUE(absl::StrContains(error("groups=x25519:nope"), "groups=x25519:nope"));
  EXPECT_TRUE(absl::StrContains(error("legacy=maybe"), "legacy=maybe"));
  EXPECT_TRUE(absl::StrContains(error("tls=sometimes"), "tls=sometimes"));
  EXPECT_TRUE(absl::StrContains(error("name=a name=b"), "key 'name' given twice"));
  EXPECT_TRUE(absl::StrContains(error("name=x DEFAULT"), "expected key=value"));
  EXPECT_TRUE(absl::StrContains(error("ciphers='DEFAULT"), "unterminated single quote"));
  EXPECT_TRUE(absl::StrContains(error("backend=wolfssl"), "backend 'wolfssl' is not known"));
  EXPECT_TRUE(absl::StrContains(error("backend=gnutls ciphers=DEFAULT"), "backend is gnutls"));
  EXPECT_TRUE(absl::StrContains(error("backend=openssl priority=NORMAL"), "backend is openssl"));
  EXPECT_TRUE(absl::StrContains(error("min=TLSv1.3 max=TLSv1.2"), "newer than max"));
  EXPECT_TRUE(absl::StrContains(error("   "), "empty candidate spec"));
}

TEST(CandidateSpecTest, FormatRoundTrips) {
  absl::StatusOr<tlsweep::v1::TlsClientSettings> settings = ParseCandidateSpec(
      "name='it''s' ciphers='DEFAULT:!AES256-SHA' min=TLSv1 groups=x25519 tls=required");
  ASSERT_TRUE(settings.ok()) << settings.status();
  const std::string spec = FormatCandidateSpec(*settings);
  EXPECT_EQ(spec,
            "name=its backend=openssl ciphers='DEFAULT:!AES256-SHA' min=TLSv1 groups=x25519 "
            "tls=required");
  absl::StatusOr<tlsweep::v1::TlsClientSettings> again = ParseCandidateSpec(spec);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), settings->SerializeAsString());

  tlsweep::v1::TlsClientSettings quoted;
  quoted.set_name("o'brien");
  quoted.set_backend("gnutls");
  quoted.set_gnutls_priority("NORMAL:-VERS-ALL:+VERS-TLS1.2");
  absl::StatusOr<tlsweep::v1::TlsClientSettings> back =
      ParseCandidateSpec(FormatCandidateSpec(quoted));
  ASSERT_TRUE(back.ok()) << back.status() << " " << FormatCandidateSpec(quoted);
  EXPECT_EQ(back->name(), "o'brien");
  EXPECT_EQ(back->gnutls_priority(), quoted.gnutls_priority());
}

}  // namespace
}  // namespace tlsweep::backends
