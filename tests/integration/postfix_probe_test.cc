// Probes of a real Postfix with distinct TLS policies, through both backends: what is
// negotiated must be what each listener's configuration allows.
#include <gtest/gtest.h>

#include <set>

#include "backends/cipher_suite_table.h"
#include "tests/integration/postfix_lab.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/probe_runner.h"

namespace tlsweep::agent {
namespace {

using ::tlsweep::testing::DefaultCandidate;
using ::tlsweep::testing::EndpointAt;
using ::tlsweep::testing::PostfixLab;

ProbeOptions Options() {
  ProbeOptions options;
  options.ehlo_name = "scanner.example.test";
  options.banner_timeout = std::chrono::seconds(10);
  return options;
}

tlsweep::v1::ProbeResult Probe(const std::string& listener,
                               const backends::TlsCandidate& candidate) {
  return testing::RunProbe(EndpointAt(PostfixLab()->endpoint(listener)), candidate, Options());
}

class PostfixProbeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_NE(PostfixLab(), nullptr); }
  const std::string& backend() const { return GetParam(); }
};

TEST_P(PostfixProbeTest, ModernListenerNegotiatesTls13) {
  const tlsweep::v1::ProbeResult result = Probe("modern", DefaultCandidate(backend()));
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_EQ(result.banner().code(), 220u);
  EXPECT_EQ(result.starttls().code(), 220u);
  EXPECT_EQ(result.tls().version(), tlsweep::v1::TLSV1_3);
  EXPECT_TRUE(backends::IsTls13Suite(result.tls().suite().code_point()));
  EXPECT_EQ(result.tls().backend(), backend());
  ASSERT_GE(result.tls().peer_chain_size(), 1);
  EXPECT_EQ(result.tls().peer_chain(0).dns_names(0), "mx.example.test");
  EXPECT_GT(result.timings().handshake_us(), 0u);
}

TEST_P(PostfixProbeTest, ModernListenerAtTls12UsesOnlyEcdheAead) {
  backends::TlsCandidate candidate = DefaultCandidate(backend());
  candidate.config.max_version = backends::TlsVersion::kTls1_2;
  const tlsweep::v1::ProbeResult result = Probe("modern", candidate);
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_EQ(result.tls().version(), tlsweep::v1::TLSV1_2);
  const std::set<uint32_t> ecdhe_rsa_aead = {0xC02F, 0xC030, 0xCCA8};
  EXPECT_TRUE(ecdhe_rsa_aead.contains(result.tls().suite().code_point()))
      << result.tls().suite().iana_name();
}

TEST_P(PostfixProbeTest, Tls12CbcListenerGivesItsOneSuite) {
  const tlsweep::v1::ProbeResult result = Probe("tls12_cbc", DefaultCandidate(backend()));
  ASSERT_EQ(result.failure(), tlsweep::v1::PROBE_OK) << result.failure_detail();
  EXPECT_EQ(result.tls().version(), tlsweep::v1::TLSV1_2);
  EXPECT_EQ(result.tls().suite().iana_name(), "TLS_RSA_WITH_AES_256_CBC_SHA");
}

TEST_P(PostfixProbeTest, NoStarttlsListenerIsNotOffered) {
  const tlsweep::v1::ProbeResult result = Probe("nostarttls", DefaultCandidate(backend()));
  EXPECT_EQ(result.failure(), tlsweep::v1::STARTTLS_NOT_OFFERED);
  EXPECT_FALSE(result.has_tls());
}

TEST_P(PostfixProbeTest, ListenerWithoutCertificateRefusesStarttls) {
  const tlsweep::v1::ProbeResult result = Probe("nocert", DefaultCandidate(backend()));
  EXPECT_EQ(result.failure(), tlsweep::v1::STARTTLS_REFUSED) << result.failure_detail();
  EXPECT_EQ(result.starttls().code(), 454u);
}

TEST_P(PostfixProbeTest, ClientWithNoCommonSuiteFailsWithNoSharedCipher) {
  backends::TlsCandidate candidate = DefaultCandidate(backend());
  candidate.config.max_version = backends::TlsVersion::kTls1_2;
  if (backend() == "gnutls") {
    candidate.config.ciphers.gnutls_priority =
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1:-KX-ALL:+RSA";
  } else {
    candidate.config.ciphers.openssl_ciphers = "AES128-SHA";
  }
  const tlsweep::v1::ProbeResult result = Probe("modern", candidate);
  EXPECT_EQ(result.failure(), tlsweep::v1::TLS_NO_SHARED_CIPHER) << result.failure_detail();
  EXPECT_EQ(result.tls().alert_code(), 40);
}

TEST_P(PostfixProbeTest, ClientLimitedToTls11FailsWithProtocolVersion) {
  backends::TlsCandidate candidate = DefaultCandidate(backend(), /*legacy=*/true);
  candidate.config.max_version = backends::TlsVersion::kTls1_1;
  const tlsweep::v1::ProbeResult result = Probe("modern", candidate);
  EXPECT_EQ(result.failure(), tlsweep::v1::TLS_PROTOCOL_VERSION) << result.failure_detail();
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, PostfixProbeTest,
                         ::testing::ValuesIn(::tlsweep::testing::BuiltBackendNames()));

}  // namespace
}  // namespace tlsweep::agent
