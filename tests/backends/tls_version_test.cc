#include "backends/tls_version.h"

#include <gtest/gtest.h>

namespace tlsweep::backends {
namespace {

TEST(TlsVersionTest, ParsesOpensslAndPostfixSpellingsAndNumbers) {
  EXPECT_EQ(*ParseTlsVersion("TLSv1"), TlsVersion::kTls1_0);
  EXPECT_EQ(*ParseTlsVersion("TLSv1.0"), TlsVersion::kTls1_0);
  EXPECT_EQ(*ParseTlsVersion("tlsv1.1"), TlsVersion::kTls1_1);
  EXPECT_EQ(*ParseTlsVersion("TLSv1.2"), TlsVersion::kTls1_2);
  EXPECT_EQ(*ParseTlsVersion("1.2"), TlsVersion::kTls1_2);
  EXPECT_EQ(*ParseTlsVersion(" 1.3 "), TlsVersion::kTls1_3);
  EXPECT_EQ(*ParseTlsVersion("SSLv3"), TlsVersion::kSsl3);
}

TEST(TlsVersionTest, RejectsUnknownVersionsWithTheAcceptedSpellings) {
  absl::StatusOr<TlsVersion> version = ParseTlsVersion("TLSv2");
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("TLSv1.2"), absl::string_view::npos);
}

TEST(TlsVersionTest, NamesRoundTrip) {
  for (TlsVersion version : AllTlsVersions()) {
    EXPECT_EQ(*ParseTlsVersion(TlsVersionName(version)), version);
  }
  EXPECT_TRUE(TlsVersion::kTls1_2 < TlsVersion::kTls1_3);
}

}  // namespace
}  // namespace tlsweep::backends
