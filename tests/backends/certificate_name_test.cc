// The per-name certificate check used when one probe of a shared address serves many MX names
// must agree with OpenSSL's own X509_check_host (what the handshake's check uses), name for
// name, on certificates minted for the test.
#include "backends/certificate_name.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/outcome_proto.h"
#include "tests/testing/backend_fixture.h"
#include "tests/testing/cert_factory.h"

namespace tlsweep::backends {
namespace {

struct Leaf {
  std::unique_ptr<X509, decltype(&X509_free)> x509{nullptr, X509_free};
  v1::CertificateSummary summary;
};

Leaf LoadLeaf(const std::string& chain_file) {
  Leaf leaf;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(chain_file.c_str(), "r"), BIO_free);
  leaf.x509.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  unsigned char* der = nullptr;
  const int length = i2d_X509(leaf.x509.get(), &der);
  leaf.summary = CertificateToProto(tlsweep::testing::GetBackend("openssl").DescribeCertificate(
      std::string(reinterpret_cast<char*>(der), length)));
  OPENSSL_free(der);
  return leaf;
}

bool OpensslSays(X509* leaf, const std::string& host) {
  return X509_check_host(leaf, host.data(), host.size(), 0, nullptr) == 1;
}

TEST(CertificateNameTest, AgreesWithOpensslOnHostedProviderCertificates) {
  auto factory = testing::CertFactory::Create(testing::MakeTempDirectory("tlsweep-cert-name"));
  ASSERT_TRUE(factory.ok()) << factory.status();
  const std::vector<std::vector<std::string>> certificates = {
      {"*.mail.protection.hosted.test"},
      {"mx.hosted.test", "*.hosted.test"},
      {"c1.sni.test"},
      {"*.test"},
      {"mx*.partial.test", "*x.partial.test"},
      {"xn--*.idna.test", "*.idna.test"},
  };
  const std::vector<std::string> hosts = {
      "a.mail.protection.hosted.test",
      "A.MAIL.protection.hosted.test",
      "mail.protection.hosted.test",
      "x.y.mail.protection.hosted.test",
      "mx.hosted.test",
      "mx0a-1234.hosted.test",
      "hosted.test",
      "c1.sni.test",
      "c2.sni.test",
      "example.test",
      "other.example",
      "c1.sni.test.",
  };
  int index = 0;
  for (const std::vector<std::string>& names : certificates) {
    auto issued =
        factory->Issue("leaf" + std::to_string(index++), names, testing::KeyKind::kEcdsaP256);
    ASSERT_TRUE(issued.ok()) << issued.status();
    const Leaf leaf = LoadLeaf(issued->chain_file);
    for (const std::string& host : hosts) {
      std::string openssl_host = host;
      if (openssl_host.back() == '.') openssl_host.pop_back();  // MTAs strip the root dot.
      EXPECT_EQ(CertificateNamesHost(leaf.summary, host),
                OpensslSays(leaf.x509.get(), openssl_host))
          << host << " against " << names.front();
    }
  }
}

TEST(CertificateNameTest, CommonNameCountsOnlyWithoutDnsNames) {
  v1::CertificateSummary leaf;
  leaf.set_subject("CN=mx.legacy.test,O=Legacy");
  EXPECT_TRUE(CertificateNamesHost(leaf, "mx.legacy.test"));
  EXPECT_FALSE(CertificateNamesHost(leaf, "mx2.legacy.test"));
  leaf.add_dns_names("mx2.legacy.test");
  EXPECT_FALSE(CertificateNamesHost(leaf, "mx.legacy.test"));
  EXPECT_TRUE(CertificateNamesHost(leaf, "mx2.legacy.test"));
}

TEST(CertificateNameTest, AddressesMatchOnlyIpEntries) {
  v1::CertificateSummary leaf;
  leaf.add_dns_names("192.0.2.7");
  EXPECT_FALSE(CertificateNamesHost(leaf, "192.0.2.7"));
  leaf.add_ip_addresses("192.0.2.7");
  EXPECT_TRUE(CertificateNamesHost(leaf, "192.0.2.7"));
}

TEST(CertificateNameTest, RecheckSetsTheNameAndItsMatch) {
  v1::TlsHandshake handshake;
  handshake.add_peer_chain()->add_dns_names("c1.hosted.test");
  handshake.mutable_verification()->set_performed(true);
  handshake.mutable_verification()->set_verified_name("c1.hosted.test");
  handshake.mutable_verification()->set_hostname_match(true);
  RecheckHostname(handshake, "c2.hosted.test");
  EXPECT_EQ(handshake.verification().verified_name(), "c2.hosted.test");
  EXPECT_FALSE(handshake.verification().hostname_match());
  RecheckHostname(handshake, "c1.hosted.test");
  EXPECT_TRUE(handshake.verification().hostname_match());
}

}  // namespace
}  // namespace tlsweep::backends
