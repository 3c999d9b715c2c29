// In-memory handshakes for every (client backend, server backend) pairing: what is negotiated
// must be what both sides' configurations allow, and both sides must report it alike.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>

#include "backends/cipher_suite_table.h"
#include "backends/memory_pump.h"
#include "backends/outcome_proto.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;

struct Handshake {
  std::unique_ptr<TlsEngine> client;
  std::unique_ptr<TlsEngine> server;
  PumpResult result;
};

class EngineHandshakeTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  const std::string& client_backend() const { return std::get<0>(GetParam()); }
  const std::string& server_backend() const { return std::get<1>(GetParam()); }

  Handshake Run(const ClientConfig& client_config, const ServerConfig& server_config) {
    Handshake handshake;
    auto client = GetBackend(client_backend()).NewClient(client_config);
    auto server = GetBackend(server_backend()).NewServer(server_config);
    EXPECT_TRUE(client.ok()) << client.status();
    EXPECT_TRUE(server.ok()) << server.status();
    if (!client.ok() || !server.ok()) return handshake;
    handshake.client = *std::move(client);
    handshake.server = *std::move(server);
    handshake.result = PumpHandshake(*handshake.client, *handshake.server);
    return handshake;
  }

  static void ExpectBothComplete(const Handshake& handshake) {
    ASSERT_NE(handshake.client, nullptr);
    EXPECT_EQ(handshake.result.client, HandshakeState::kComplete)
        << handshake.client->Outcome().library_error;
    EXPECT_EQ(handshake.result.server, HandshakeState::kComplete)
        << handshake.server->Outcome().library_error;
    const HandshakeOutcome& client = handshake.client->Outcome();
    const HandshakeOutcome& server = handshake.server->Outcome();
    EXPECT_TRUE(client.success);
    EXPECT_EQ(client.version, server.version);
    EXPECT_EQ(client.suite_code, server.suite_code);
    EXPECT_EQ(client.failure, FailureClass::kNone);
  }
};

TEST_P(EngineHandshakeTest, DefaultsNegotiateTls13WithRsaCertificate) {
  Handshake handshake = Run({}, MakeServerConfig(server_backend(), SharedPki().rsa));
  ExpectBothComplete(handshake);
  const HandshakeOutcome& client = handshake.client->Outcome();
  EXPECT_EQ(client.version, TlsVersion::kTls1_3);
  EXPECT_TRUE(IsTls13Suite(client.suite_code)) << CipherSuiteName(client.suite_code);
  EXPECT_NE(client.group, 0);
  EXPECT_FALSE(client.library_suite_name.empty());
  // The peer chain arrives leaf first and parses into the shared summary.
  ASSERT_GE(client.peer_chain.size(), 1u);
  const tlsweep::v1::TlsHandshake proto = HandshakeToProto(client, client_backend(), "");
  EXPECT_NE(proto.peer_chain(0).subject().find("CN=mx.example.test"), std::string::npos);
  EXPECT_EQ(proto.peer_chain(0).key_type(), "RSA");
  EXPECT_EQ(proto.peer_chain(0).key_bits(), 2048u);
  EXPECT_EQ(proto.peer_chain(0).dns_names(0), "mx.example.test");
  EXPECT_EQ(proto.suite().iana_name(), CipherSuiteName(client.suite_code));
}

TEST_P(EngineHandshakeTest, Tls12WithEcdsaCertificateUsesAnEcdheEcdsaSuite) {
  ClientConfig client_config;
  client_config.max_version = TlsVersion::kTls1_2;
  Handshake handshake = Run(client_config, MakeServerConfig(server_backend(), SharedPki().ecdsa));
  ExpectBothComplete(handshake);
  const HandshakeOutcome& client = handshake.client->Outcome();
  EXPECT_EQ(client.version, TlsVersion::kTls1_2);
  const CipherSuiteInfo* suite = FindCipherSuite(client.suite_code);
  ASSERT_NE(suite, nullptr) << client.suite_code;
  EXPECT_EQ(suite->authentication, "ECDSA") << suite->iana_name;
  const tlsweep::v1::TlsHandshake proto = HandshakeToProto(client, client_backend(), "");
  EXPECT_EQ(proto.peer_chain(0).key_type(), "EC");
  EXPECT_EQ(proto.peer_chain(0).key_bits(), 256u);
}

TEST_P(EngineHandshakeTest, Tls12ServerLimitedToOneSuiteGetsExactlyThatSuite) {
  CipherSpec spec;
  spec.openssl_ciphers = "ECDHE-RSA-AES256-GCM-SHA384";
  spec.gnutls_priority =
      "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-KX-ALL:+ECDHE-RSA";
  ServerConfig server_config = MakeServerConfig(server_backend(), SharedPki().rsa, spec);
  server_config.max_version = TlsVersion::kTls1_2;
  Handshake handshake = Run({}, server_config);
  ExpectBothComplete(handshake);
  EXPECT_EQ(handshake.client->Outcome().version, TlsVersion::kTls1_2);
  EXPECT_EQ(handshake.client->Outcome().suite_code, 0xC030);
}

TEST_P(EngineHandshakeTest, Tls13ServerLimitedToChachaGetsChacha) {
  CipherSpec spec;
  spec.openssl_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  spec.gnutls_priority = "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305";
  Handshake handshake = Run({}, MakeServerConfig(server_backend(), SharedPki().ecdsa, spec));
  ExpectBothComplete(handshake);
  EXPECT_EQ(handshake.client->Outcome().version, TlsVersion::kTls1_3);
  EXPECT_EQ(handshake.client->Outcome().suite_code, 0x1303);
}

TEST_P(EngineHandshakeTest, ClientGroupChoiceIsReported) {
  ClientConfig client_config;
  client_config.groups = {24};  // secp384r1 only.
  Handshake handshake = Run(client_config, MakeServerConfig(server_backend(), SharedPki().rsa));
  ExpectBothComplete(handshake);
  EXPECT_EQ(handshake.client->Outcome().group, 24);
  EXPECT_EQ(handshake.server->Outcome().group, 24);
}

TEST_P(EngineHandshakeTest, ApplicationDataFlowsAfterTheHandshake) {
  Handshake handshake = Run({}, MakeServerConfig(server_backend(), SharedPki().rsa));
  ExpectBothComplete(handshake);
  ASSERT_TRUE(handshake.client->WriteApplicationData("QUIT\r\n").ok());
  handshake.server->ReceiveBytes(handshake.client->TakeOutput());
  absl::StatusOr<std::string> received = handshake.server->ReadApplicationData();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, "QUIT\r\n");
}

std::string PairingName(
    const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
  return std::get<0>(info.param) + "_to_" + std::get<1>(info.param);
}

INSTANTIATE_TEST_SUITE_P(
    AllPairings, EngineHandshakeTest,
    ::testing::Combine(::testing::ValuesIn(::tlsweep::testing::BuiltBackendNames()),
                       ::testing::ValuesIn(::tlsweep::testing::BuiltBackendNames())),
    PairingName);

}  // namespace
}  // namespace tlsweep::backends
