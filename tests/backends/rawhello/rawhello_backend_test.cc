// The rawhello plugin as the host sees it: loaded from the plugin directory, described for
// `tlsweep backends`, client-only, and its Expand equal to the hello its engine really writes
// (with real key shares of the right sizes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "backends/backend_info.h"
#include "backends/hello_parser.h"
#include "backends/plugin_loader.h"
#include "backends/rawhello/byte_reader.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends {
namespace {

using ::testing::ElementsAre;
using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::SharedPki;

TEST(RawHelloBackendTest, IsListedWithWhatItCanSpeak) {
  absl::StatusOr<BackendRegistry> registry = BackendRegistry::LoadDirectory(REAL_PLUGIN_DIR);
  ASSERT_TRUE(registry.ok()) << registry.status();
  bool found = false;
  for (const tlsweep::v1::BackendInfo& info : DescribeBackends(*registry)) {
    if (info.name() != "rawhello") continue;
    found = true;
    EXPECT_TRUE(absl::StrContains(info.library_version(), "OpenSSL 3")) << info.DebugString();
    EXPECT_TRUE(absl::EndsWith(info.path(), "tlsweep-backend-rawhello.so"));
    EXPECT_THAT(info.speakable_versions(),
                ElementsAre(tlsweep::v1::SSLV3, tlsweep::v1::TLSV1_0, tlsweep::v1::TLSV1_1,
                            tlsweep::v1::TLSV1_2, tlsweep::v1::TLSV1_3));
  }
  EXPECT_TRUE(found);
}

TEST(RawHelloBackendTest, HasNoServerSide) {
  ServerConfig config;
  config.certificate_chain_file = SharedPki().rsa.chain_file;
  config.private_key_file = SharedPki().rsa.key_file;
  EXPECT_TRUE(absl::IsUnimplemented(GetBackend("rawhello").NewServer(config).status()));
}

TEST(RawHelloBackendTest, RefusesWhatItCannotWrite) {
  Backend& raw = GetBackend("rawhello");
  ClientConfig gnutls_only;
  gnutls_only.ciphers.gnutls_priority = "NORMAL";
  EXPECT_TRUE(absl::IsInvalidArgument(raw.Expand(gnutls_only).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(raw.NewClient(gnutls_only).status()));
  ClientConfig rules;
  rules.ciphers.openssl_ciphers = "HIGH:!aNULL";
  EXPECT_TRUE(absl::IsInvalidArgument(raw.Expand(rules).status()));
  ClientConfig bad_bundle;
  bad_bundle.ca_file = "/nonexistent/ca.pem";
  EXPECT_TRUE(absl::IsInvalidArgument(raw.NewClient(bad_bundle).status()));
}

TEST(RawHelloBackendTest, DescribesCertificatesAsTheOpensslPluginDoes) {
  absl::StatusOr<std::string> der = ::tlsweep::testing::ReadLeafDer(SharedPki().ecdsa.chain_file);
  ASSERT_TRUE(der.ok()) << der.status();
  const CertificateFacts raw = GetBackend("rawhello").DescribeCertificate(*der);
  const CertificateFacts openssl = GetBackend("openssl").DescribeCertificate(*der);
  EXPECT_TRUE(raw.parsed);
  EXPECT_EQ(raw.subject, openssl.subject);
  EXPECT_EQ(raw.sha256_hex, openssl.sha256_hex);
  EXPECT_EQ(raw.key_type, openssl.key_type);
  EXPECT_EQ(raw.signature_algorithm, openssl.signature_algorithm);
}

// The key_share entries of a ClientHello: group -> key size.
std::map<uint16_t, size_t> KeyShareSizes(absl::string_view records) {
  std::map<uint16_t, size_t> sizes;
  rawhello::ByteReader reader(records.substr(5 + 4));  // One record; skip the message header.
  uint16_t version;
  absl::string_view skip, extensions;
  if (!reader.U16(version) || !reader.Bytes(32, skip) || !reader.Vector8(skip) ||
      !reader.Vector16(skip) || !reader.Vector8(skip) || !reader.Vector16(extensions)) {
    return sizes;
  }
  for (rawhello::ByteReader items(extensions); !items.empty();) {
    uint16_t type;
    absl::string_view data;
    if (!items.U16(type) || !items.Vector16(data)) break;
    if (type != 51) continue;
    rawhello::ByteReader shares(data);
    absl::string_view list;
    if (!shares.Vector16(list)) break;
    for (rawhello::ByteReader entries(list); !entries.empty();) {
      uint16_t group;
      absl::string_view key;
      if (!entries.U16(group) || !entries.Vector16(key)) break;
      sizes[group] = key.size();
    }
  }
  return sizes;
}

TEST(RawHelloBackendTest, ExpandIsWhatTheEngineWritesWithKeySharesOfTheRightSize) {
  const std::map<uint16_t, size_t> expected = {{29, 32},   {30, 56},   {23, 65},   {24, 97},
                                               {25, 133},  {256, 256}, {257, 384}, {258, 512},
                                               {259, 768}, {260, 1024}};
  for (const auto& [group, size] : expected) {
    ClientConfig config;
    config.groups = {group, 29};
    config.sni = "mx.example.test";
    absl::StatusOr<Offer> offer = GetBackend("rawhello").Expand(config);
    ASSERT_TRUE(offer.ok()) << offer.status();
    auto engine = GetBackend("rawhello").NewClient(config);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_EQ((*engine)->Advance(), HandshakeState::kInProgress);
    const std::string records = (*engine)->TakeOutput();
    absl::StatusOr<ClientHello> hello = ParseClientHello(records);
    ASSERT_TRUE(hello.ok()) << hello.status();
    EXPECT_EQ(hello->supported_groups, offer->groups);
    EXPECT_TRUE(hello->has_server_name);
    size_t offered = 0;
    for (const OfferedSuite& suite : offer->suites) {
      EXPECT_NE(
          std::find(hello->cipher_suites.begin(), hello->cipher_suites.end(), suite.code_point),
          hello->cipher_suites.end());
      offered += suite.version == TlsVersion::kTls1_2 || suite.version == TlsVersion::kTls1_3;
    }
    EXPECT_EQ(offered, hello->cipher_suites.size()) << "every suite, each at TLS 1.2 or 1.3";
    EXPECT_EQ(KeyShareSizes(records), (std::map<uint16_t, size_t>{{group, size}}));
  }
}

}  // namespace
}  // namespace tlsweep::backends
