#include "backends/candidate/candidate_spec.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

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

// hello=FILE: a capture file (captured_hello.h) is the base; name= picks one of several or
// renames the only one, and other keys override.
TEST(CandidateSpecTest, HelloFileIsACapturedCandidate) {
  char dir[] = "/tmp/tlsweep-spec-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string one = std::string(dir) + "/one.hello";
  const std::string two = std::string(dir) + "/two.hello";
  const std::string line_a =
      "name=hello-a backend=rawhello ciphers=0xc02f:RC4-SHA ciphersuites=0x1301 min=TLSv1 "
      "max=TLSv1.3 groups=x25519 tls=opportunistic\n";
  const std::string line_b = "name=hello-b backend=rawhello ciphers=0x000a max=TLSv1.2\n";
  std::ofstream(one) << "# ClientHello from 192.0.2.7:1234\n" << line_a;
  std::ofstream(two) << line_a << "\n# another\n" << line_b;

  auto a = ParseCandidateSpec("hello=" + one + " name=our-mta tls=required");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name(), "our-mta");
  EXPECT_EQ(a->backend(), "rawhello");
  EXPECT_EQ(a->openssl_ciphers(), "0xc02f:RC4-SHA");
  EXPECT_TRUE(a->tls_required());
  EXPECT_EQ(a->source(), "hello=" + one);

  auto b = ParseCandidateSpec("hello=" + two + " name=hello-b");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->openssl_ciphers(), "0x000a");
  const auto several = ParseCandidateSpec("hello=" + two);
  EXPECT_TRUE(absl::StrContains(several.status().message(),
                                "several captured hellos (hello-a, "
                                "hello-b): say which with name="))
      << several.status();
  const auto missing = ParseCandidateSpec("hello=" + std::string(dir) + "/none");
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "cannot read")) << missing.status();
  std::ofstream(std::string(dir) + "/bad.hello") << "# ok\nbackend=rawhello min=TLSv9\n";
  const auto bad = ParseCandidateSpec("hello=" + std::string(dir) + "/bad.hello");
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "line 2:")) << bad.status();
  // rawhello takes the OpenSSL fields, never a priority string.
  EXPECT_FALSE(ParseCandidateSpec("backend=rawhello priority=NORMAL").ok());
}

}  // namespace
}  // namespace tlsweep::backends
