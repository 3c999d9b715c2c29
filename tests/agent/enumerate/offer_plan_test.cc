// The offer plan: what each backend really puts in a ClientHello at each version, and how a
// subset of it is offered again.
#include "agent/enumerate/offer_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "backends/cipher_suite_table.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::agent {
namespace {

using backends::TlsVersion;
using ::tlsweep::testing::GetBackend;

const OfferPlan& Plan() {
  static const OfferPlan* plan = [] {
    std::vector<backends::Backend*> backends = {&GetBackend("gnutls"), &GetBackend("openssl")};
    absl::StatusOr<OfferPlan> built = BuildOfferPlan(backends);
    EXPECT_TRUE(built.ok()) << built.status();
    return new OfferPlan(built.ok() ? *std::move(built) : OfferPlan{});
  }();
  return *plan;
}

const VersionPlan& At(TlsVersion version) {
  for (const VersionPlan& plan : Plan().versions) {
    if (plan.version == version) return plan;
  }
  static const VersionPlan kNone;
  return kNone;
}

const BackendOffer* OfferOf(TlsVersion version, absl::string_view backend) {
  for (const BackendOffer& offer : At(version).offers) {
    if (offer.backend->Name() == backend) return &offer;
  }
  return nullptr;
}

std::set<uint16_t> Codes(const std::vector<backends::OfferedSuite>& suites) {
  std::set<uint16_t> codes;
  for (const auto& suite : suites) codes.insert(suite.code_point);
  return codes;
}

std::vector<uint16_t> Offered(const PreparedHello& hello, TlsVersion version) {
  std::vector<uint16_t> codes;
  for (uint16_t code : hello.parsed.cipher_suites) {
    if (DefinedAt(code, version)) codes.push_back(code);
  }
  return codes;
}

TEST(OfferPlanTest, ExactBackendComesFirstAndSslv3IsNotTested) {
  ASSERT_EQ(Plan().versions.size(), 5u);
  EXPECT_EQ(Plan().backends, (std::vector<std::string>{"openssl", "gnutls"}));
  const VersionPlan& ssl3 = At(TlsVersion::kSsl3);
  EXPECT_TRUE(ssl3.offers.empty());
  EXPECT_FALSE(ssl3.untested_suites.empty());
  for (TlsVersion version :
       {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2, TlsVersion::kTls1_3}) {
    const VersionPlan& plan = At(version);
    ASSERT_EQ(plan.offers.size(), 2u) << backends::TlsVersionName(version);
    EXPECT_EQ(plan.offers[0].backend->Name(), "openssl");
    EXPECT_EQ(plan.offers[0].language, OfferLanguage::kOpenssl);
    EXPECT_EQ(plan.offers[1].language, OfferLanguage::kGnutls);
  }
}

TEST(OfferPlanTest, OpensslOffersAnonymousAndNullSuitesButNo3desOrRc4) {
  const BackendOffer* openssl = OfferOf(TlsVersion::kTls1_2, "openssl");
  ASSERT_NE(openssl, nullptr);
  EXPECT_TRUE(openssl->Offers(0x0034));   // TLS_DH_anon_WITH_AES_128_CBC_SHA.
  EXPECT_TRUE(openssl->Offers(0xC018));   // TLS_ECDH_anon_WITH_AES_128_CBC_SHA.
  EXPECT_TRUE(openssl->Offers(0x0002));   // TLS_RSA_WITH_NULL_SHA.
  EXPECT_TRUE(openssl->Offers(0xC0A0));   // TLS_RSA_WITH_AES_128_CCM_8.
  EXPECT_FALSE(openssl->Offers(0x000A));  // 3DES: not in Debian's OpenSSL at all.
  EXPECT_FALSE(openssl->Offers(0x0005));  // RC4.
  EXPECT_FALSE(openssl->Offers(0x00A8));  // PSK needs credentials.
  EXPECT_EQ(openssl->LibraryName(0xC02F), "ECDHE-RSA-AES128-GCM-SHA256");
  // TLS 1.2-only suites are not offered at TLS 1.0.
  EXPECT_FALSE(OfferOf(TlsVersion::kTls1_0, "openssl")->Offers(0xC02F));
  EXPECT_EQ(Codes(OfferOf(TlsVersion::kTls1_3, "openssl")->suites),
            (std::set<uint16_t>{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}));
}

TEST(OfferPlanTest, GnutlsAdds3desRc4AndCamelliaGcm) {
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2}) {
    const BackendOffer* gnutls = OfferOf(version, "gnutls");
    ASSERT_NE(gnutls, nullptr);
    EXPECT_TRUE(gnutls->Offers(0x000A)) << backends::TlsVersionName(version);  // RSA 3DES.
    EXPECT_TRUE(gnutls->Offers(0x0005)) << backends::TlsVersionName(version);  // RSA RC4-SHA.
    EXPECT_TRUE(gnutls->Offers(0xC012)) << backends::TlsVersionName(version);  // ECDHE 3DES.
    EXPECT_TRUE(gnutls->Offers(0x0018)) << backends::TlsVersionName(version);  // ADH RC4-MD5.
  }
  EXPECT_TRUE(OfferOf(TlsVersion::kTls1_2, "gnutls")->Offers(0xC07C));  // DHE CAMELLIA-GCM.
  // Untested: defined at the version, offered by neither backend.
  const std::vector<uint16_t>& untested = At(TlsVersion::kTls1_2).untested_suites;
  EXPECT_NE(std::find(untested.begin(), untested.end(), 0x00A8), untested.end());  // PSK.
  EXPECT_EQ(std::find(untested.begin(), untested.end(), 0x000A), untested.end());
  EXPECT_EQ(std::find(untested.begin(), untested.end(), 0x0034), untested.end());
}

// The GnuTLS plan comes from the real ClientHello; Expand must agree with it, or the token
// products would be planned on a wrong picture.
TEST(OfferPlanTest, GnutlsExpandMatchesItsClientHello) {
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_2, TlsVersion::kTls1_3}) {
    const BackendOffer* gnutls = OfferOf(version, "gnutls");
    ASSERT_NE(gnutls, nullptr);
    std::vector<uint16_t> all;
    for (const auto& suite : gnutls->suites) all.push_back(suite.code_point);
    absl::StatusOr<backends::ClientConfig> config = ConfigFor(*gnutls, version, all, {});
    ASSERT_TRUE(config.ok()) << config.status();
    absl::StatusOr<backends::Offer> expanded = gnutls->backend->Expand(*config);
    ASSERT_TRUE(expanded.ok()) << expanded.status();
    std::set<uint16_t> expanded_codes;
    for (const auto& suite : expanded->suites) {
      if (suite.version == version) expanded_codes.insert(suite.code_point);
    }
    EXPECT_EQ(expanded_codes, Codes(gnutls->suites)) << backends::TlsVersionName(version);
  }
}

TEST(OfferPlanTest, OpensslConfigOffersExactlyTheSubsetInOrder) {
  const BackendOffer* openssl = OfferOf(TlsVersion::kTls1_2, "openssl");
  ASSERT_NE(openssl, nullptr);
  const std::vector<uint16_t> wanted = {0x0034, 0x0002, 0xC030, 0x002F};
  absl::StatusOr<backends::ClientConfig> config =
      ConfigFor(*openssl, TlsVersion::kTls1_2, wanted, {});
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<PreparedHello> hello = PrepareHello(*openssl->backend, *config);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(Offered(*hello, TlsVersion::kTls1_2), wanted);
  EXPECT_EQ(hello->parsed.supported_versions.size(), 0u);  // A plain TLS 1.2 hello.

  const BackendOffer* tls13 = OfferOf(TlsVersion::kTls1_3, "openssl");
  ASSERT_NE(tls13, nullptr);
  config = ConfigFor(*tls13, TlsVersion::kTls1_3, {0x1303, 0x1301}, {23, 29});
  ASSERT_TRUE(config.ok()) << config.status();
  hello = PrepareHello(*tls13->backend, *config);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(Offered(*hello, TlsVersion::kTls1_3), (std::vector<uint16_t>{0x1303, 0x1301}));
  EXPECT_EQ(hello->parsed.supported_groups, (std::vector<uint16_t>{23, 29}));
  EXPECT_EQ(hello->parsed.key_share_groups, (std::vector<uint16_t>{23}));
}

TEST(OfferPlanTest, GnutlsProductOfTheGnutlsOnlySuitesHoldsNothingElse) {
  for (TlsVersion version : {TlsVersion::kTls1_0, TlsVersion::kTls1_2}) {
    const BackendOffer* openssl = OfferOf(version, "openssl");
    const BackendOffer* gnutls = OfferOf(version, "gnutls");
    ASSERT_NE(openssl, nullptr);
    ASSERT_NE(gnutls, nullptr);
    std::vector<uint16_t> only;
    for (const auto& suite : gnutls->suites) {
      if (!openssl->Offers(suite.code_point)) only.push_back(suite.code_point);
    }
    ASSERT_FALSE(only.empty());
    absl::StatusOr<backends::ClientConfig> config = ConfigFor(*gnutls, version, only, {});
    ASSERT_TRUE(config.ok()) << config.status();
    absl::StatusOr<PreparedHello> hello = PrepareHello(*gnutls->backend, *config);
    ASSERT_TRUE(hello.ok()) << hello.status() << " " << config->ciphers.gnutls_priority;
    const std::vector<uint16_t> offered = Offered(*hello, version);
    EXPECT_EQ(std::set<uint16_t>(offered.begin(), offered.end()),
              std::set<uint16_t>(only.begin(), only.end()))
        << config->ciphers.gnutls_priority;
  }
}

TEST(OfferPlanTest, SplitAroundSeparatesASuiteFromItsFamily) {
  const BackendOffer* gnutls = OfferOf(TlsVersion::kTls1_2, "gnutls");
  ASSERT_NE(gnutls, nullptr);
  // RSA 3DES, ECDHE-RSA 3DES and RSA RC4-MD5, split around RSA RC4-SHA (already accepted).
  const std::vector<uint16_t> family = {0x000A, 0xC012, 0x0004};
  std::vector<uint16_t> inseparable;
  const std::vector<std::vector<uint16_t>> parts =
      SplitAround(*gnutls, family, 0x0005, inseparable);
  EXPECT_TRUE(inseparable.empty());
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], (std::vector<uint16_t>{0xC012}));  // Other key exchange.
  EXPECT_EQ(parts[1], (std::vector<uint16_t>{0x000A}));  // RSA, other cipher.
  EXPECT_EQ(parts[2], (std::vector<uint16_t>{0x0004}));  // RSA RC4, other MAC.
  for (const std::vector<uint16_t>& part : parts) {
    absl::StatusOr<backends::ClientConfig> config =
        ConfigFor(*gnutls, TlsVersion::kTls1_2, part, {});
    ASSERT_TRUE(config.ok()) << config.status();
    absl::StatusOr<PreparedHello> hello = PrepareHello(*gnutls->backend, *config);
    ASSERT_TRUE(hello.ok()) << hello.status();
    const std::vector<uint16_t> offered = Offered(*hello, TlsVersion::kTls1_2);
    EXPECT_EQ(std::find(offered.begin(), offered.end(), 0x0005), offered.end())
        << config->ciphers.gnutls_priority;
  }
}

// With the raw backend loaded, nothing of the IANA table is left untested at SSLv3 to TLS 1.2:
// it comes last and offers what the libraries cannot, by code point.
TEST(OfferPlanTest, RawBackendComesLastAndLeavesNothingUntested) {
  std::vector<backends::Backend*> backends = {&GetBackend("rawhello"), &GetBackend("gnutls"),
                                              &GetBackend("openssl")};
  absl::StatusOr<OfferPlan> plan = BuildOfferPlan(backends);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->backends, (std::vector<std::string>{"openssl", "gnutls", "rawhello"}));
  for (const VersionPlan& version : plan->versions) {
    const std::string name(backends::TlsVersionName(version.version));
    ASSERT_FALSE(version.offers.empty()) << name;
    const BackendOffer& raw = version.offers.back();
    EXPECT_EQ(raw.backend->Name(), "rawhello") << name;
    EXPECT_EQ(raw.language, OfferLanguage::kRawHello) << name;
    if (version.version != TlsVersion::kTls1_3) {
      EXPECT_TRUE(version.untested_suites.empty())
          << name << ": " << version.untested_suites.size() << " untested";
    }
    if (version.version == TlsVersion::kSsl3) {
      EXPECT_EQ(version.offers.size(), 1u) << "no library speaks SSLv3";
      EXPECT_TRUE(raw.Offers(0x0003));  // TLS_RSA_EXPORT_WITH_RC4_40_MD5.
    }
  }
  // A subset goes on the wire exactly, in order, whether or not any library has the suites.
  const VersionPlan& tls10 = plan->versions[1];
  ASSERT_EQ(tls10.version, TlsVersion::kTls1_0);
  const std::vector<uint16_t> subset = {0x0014, 0x0003, 0x0009, 0x0005};  // EXPORT, DES, RC4.
  absl::StatusOr<backends::ClientConfig> config =
      ConfigFor(tls10.offers.back(), TlsVersion::kTls1_0, subset, {});
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<PreparedHello> hello = PrepareHello(*tls10.offers.back().backend, *config);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(Offered(*hello, TlsVersion::kTls1_0), subset);
}

}  // namespace
}  // namespace tlsweep::agent
