// Each plugin reads the peer's certificates with its own library: both must say the same thing
// about the same certificate, since results from either backend are compared and joined.
#include <gtest/gtest.h>

#include "backends/handshake_outcome.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::backends {
namespace {

TEST(CertificateFactsTest, BothPluginsReadACertificateAlike) {
  auto factory = testing::CertFactory::Create(testing::MakeTempDirectory("tlsweep-facts"));
  ASSERT_TRUE(factory.ok()) << factory.status();
  for (testing::KeyKind kind : {testing::KeyKind::kRsa2048, testing::KeyKind::kEcdsaP256}) {
    auto issued = factory->Issue(
        "leaf", {"mx.facts.test", "*.facts.test", "IP:192.0.2.7", "IP:2001:db8::25"}, kind);
    ASSERT_TRUE(issued.ok()) << issued.status();
    absl::StatusOr<std::string> leaf = testing::ReadLeafDer(issued->chain_file);
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    const std::string& der = *leaf;
    const CertificateFacts openssl = testing::GetBackend("openssl").DescribeCertificate(der);
    const CertificateFacts gnutls = testing::GetBackend("gnutls").DescribeCertificate(der);
    for (const CertificateFacts* facts : {&openssl, &gnutls}) {
      EXPECT_TRUE(facts->parsed);
      EXPECT_EQ(facts->der, der);
      EXPECT_EQ(facts->subject, "CN=mx.facts.test,O=tlsweep tests");  // RFC 4514 order.
      EXPECT_EQ(facts->dns_names, (std::vector<std::string>{"mx.facts.test", "*.facts.test"}));
      EXPECT_EQ(facts->ip_addresses, (std::vector<std::string>{"192.0.2.7", "2001:db8::25"}));
      EXPECT_EQ(facts->key_type, kind == testing::KeyKind::kRsa2048 ? "RSA" : "EC");
      EXPECT_EQ(facts->key_bits, kind == testing::KeyKind::kRsa2048 ? 2048u : 256u);
      EXPECT_EQ(facts->sha256_hex.size(), 64u);
      EXPECT_GT(facts->not_after_unix, facts->not_before_unix);
    }
    EXPECT_EQ(openssl.issuer, gnutls.issuer);
    EXPECT_FALSE(openssl.issuer.empty());
    EXPECT_EQ(openssl.not_before_unix, gnutls.not_before_unix);
    EXPECT_EQ(openssl.not_after_unix, gnutls.not_after_unix);
    EXPECT_EQ(openssl.signature_algorithm, "sha256WithRSAEncryption");  // The factory's CA.
    EXPECT_EQ(gnutls.signature_algorithm, openssl.signature_algorithm);
    EXPECT_EQ(gnutls.sha256_hex, openssl.sha256_hex);
  }
}

TEST(CertificateFactsTest, BytesThatAreNotACertificateKeepOnlyTheBytes) {
  for (const char* backend : {"openssl", "gnutls"}) {
    const CertificateFacts facts = testing::GetBackend(backend).DescribeCertificate("not DER");
    EXPECT_FALSE(facts.parsed) << backend;
    EXPECT_EQ(facts.der, "not DER");
    EXPECT_TRUE(facts.subject.empty());
  }
}

}  // namespace
}  // namespace tlsweep::backends
