// Failures every backend must classify the same way, whichever library sits on either side.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>

#include "backends/memory_pump.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::testing::BuiltBackendNames;
using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;

// --- Against a real server engine, for every pairing. ---

class PairedFailureTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  const std::string& client_backend() const { return std::get<0>(GetParam()); }
  const std::string& server_backend() const { return std::get<1>(GetParam()); }

  // Runs the handshake and returns {client outcome, server outcome}.
  std::pair<HandshakeOutcome, HandshakeOutcome> Run(const ClientConfig& client_config,
                                                    const ServerConfig& server_config) {
    auto client = GetBackend(client_backend()).NewClient(client_config);
    auto server = GetBackend(server_backend()).NewServer(server_config);
    EXPECT_TRUE(client.ok()) << client.status();
    EXPECT_TRUE(server.ok()) << server.status();
    if (!client.ok() || !server.ok()) return {};
    const PumpResult result = PumpHandshake(**client, **server);
    EXPECT_EQ(result.client, HandshakeState::kFailed);
    EXPECT_EQ(result.server, HandshakeState::kFailed);
    return {(*client)->Outcome(), (*server)->Outcome()};
  }
};

TEST_P(PairedFailureTest, NoCommonSuiteIsNoSharedCipherOnBothSides) {
  ClientConfig client_config;
  client_config.max_version = TlsVersion::kTls1_2;
  if (client_backend() == "gnutls") {
    client_config.ciphers.gnutls_priority =
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1:-KX-ALL:+RSA";
  } else {
    client_config.ciphers.openssl_ciphers = "AES128-SHA";
  }
  CipherSpec spec;
  spec.openssl_ciphers = "ECDHE-RSA-AES256-GCM-SHA384";
  spec.gnutls_priority =
      "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-KX-ALL:+ECDHE-RSA";
  ServerConfig server_config = MakeServerConfig(server_backend(), SharedPki().rsa, spec);
  server_config.max_version = TlsVersion::kTls1_2;

  auto [client, server] = Run(client_config, server_config);
  EXPECT_EQ(client.failure, FailureClass::kNoSharedCipher) << client.library_error;
  EXPECT_EQ(client.alert_code, 40);
  EXPECT_FALSE(client.alert_sent);
  EXPECT_EQ(server.failure, FailureClass::kNoSharedCipher) << server.library_error;
  EXPECT_FALSE(client.library_error.empty());
}

TEST_P(PairedFailureTest, Tls13OnlyClientAgainstTls12OnlyServerIsProtocolVersion) {
  ClientConfig client_config;
  client_config.min_version = TlsVersion::kTls1_3;
  ServerConfig server_config = MakeServerConfig(server_backend(), SharedPki().rsa);
  server_config.max_version = TlsVersion::kTls1_2;
  auto [client, server] = Run(client_config, server_config);
  EXPECT_EQ(client.failure, FailureClass::kProtocolVersion) << client.library_error;
  EXPECT_EQ(server.failure, FailureClass::kProtocolVersion) << server.library_error;
}

TEST_P(PairedFailureTest, Tls12OnlyClientAgainstTls13OnlyServerIsProtocolVersion) {
  ClientConfig client_config;
  client_config.max_version = TlsVersion::kTls1_2;
  ServerConfig server_config = MakeServerConfig(server_backend(), SharedPki().rsa);
  server_config.min_version = TlsVersion::kTls1_3;
  auto [client, server] = Run(client_config, server_config);
  EXPECT_EQ(client.failure, FailureClass::kProtocolVersion) << client.library_error;
  EXPECT_EQ(client.alert_code, 70);
  EXPECT_EQ(server.failure, FailureClass::kProtocolVersion) << server.library_error;
}

std::string PairingName(
    const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
  return std::get<0>(info.param) + "_to_" + std::get<1>(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllPairings, PairedFailureTest,
                         ::testing::Combine(::testing::ValuesIn(BuiltBackendNames()),
                                            ::testing::ValuesIn(BuiltBackendNames())),
                         PairingName);

// --- Against a scripted peer, for behaviours no TLS library shows on purpose. ---

class ScriptedPeerTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A client engine that has sent its ClientHello.
  std::unique_ptr<TlsEngine> ClientAfterHello() {
    auto client = GetBackend(GetParam()).NewClient({});
    EXPECT_TRUE(client.ok()) << client.status();
    EXPECT_EQ((*client)->Advance(), HandshakeState::kInProgress);
    EXPECT_FALSE((*client)->TakeOutput().empty());
    return *std::move(client);
  }
};

TEST_P(ScriptedPeerTest, FatalAlertFromPeerIsAlertReceivedWithItsCode) {
  std::unique_ptr<TlsEngine> client = ClientAfterHello();
  client->ReceiveBytes(std::string("\x15\x03\x03\x00\x02\x02\x50", 7));  // internal_error
  EXPECT_EQ(client->Advance(), HandshakeState::kFailed);
  EXPECT_EQ(client->Outcome().failure, FailureClass::kAlertReceived);
  EXPECT_EQ(client->Outcome().alert_code, 80);
  EXPECT_FALSE(client->Outcome().alert_sent);
}

TEST_P(ScriptedPeerTest, HandshakeFailureAlertBeforeServerHelloIsNoSharedCipher) {
  std::unique_ptr<TlsEngine> client = ClientAfterHello();
  client->ReceiveBytes(std::string("\x15\x03\x01\x00\x02\x02\x28", 7));
  EXPECT_EQ(client->Advance(), HandshakeState::kFailed);
  EXPECT_EQ(client->Outcome().failure, FailureClass::kNoSharedCipher);
  EXPECT_EQ(client->Outcome().alert_code, 40);
}

TEST_P(ScriptedPeerTest, PeerClosingAfterClientHelloIsUnexpectedEof) {
  std::unique_ptr<TlsEngine> client = ClientAfterHello();
  client->ReceiveEof();
  EXPECT_EQ(client->Advance(), HandshakeState::kFailed);
  EXPECT_EQ(client->Outcome().failure, FailureClass::kUnexpectedEof)
      << client->Outcome().library_error;
}

TEST_P(ScriptedPeerTest, PeerClosingInsideARecordIsUnexpectedEof) {
  std::unique_ptr<TlsEngine> client = ClientAfterHello();
  client->ReceiveBytes(std::string("\x16\x03\x03\x00\x40\x02\x00", 7));  // Half a ServerHello.
  EXPECT_EQ(client->Advance(), HandshakeState::kInProgress);
  client->ReceiveEof();
  EXPECT_EQ(client->Advance(), HandshakeState::kFailed);
  EXPECT_EQ(client->Outcome().failure, FailureClass::kUnexpectedEof)
      << client->Outcome().library_error;
}

TEST_P(ScriptedPeerTest, PlainTextReplyIsNotTls) {
  std::unique_ptr<TlsEngine> client = ClientAfterHello();
  client->ReceiveBytes("454 4.7.0 TLS not available due to local problem\r\n");
  EXPECT_EQ(client->Advance(), HandshakeState::kFailed);
  EXPECT_EQ(client->Outcome().failure, FailureClass::kNotTls);
}

TEST_P(ScriptedPeerTest, ServerGivenPlainTextIsNotTls) {
  auto server = GetBackend(GetParam()).NewServer(MakeServerConfig(GetParam(), SharedPki().rsa));
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->ReceiveBytes("EHLO scanner.example\r\n");
  EXPECT_EQ((*server)->Advance(), HandshakeState::kFailed);
  EXPECT_EQ((*server)->Outcome().failure, FailureClass::kNotTls);
}

TEST_P(ScriptedPeerTest, ConfigForTheOtherLibraryIsAClearError) {
  ClientConfig config;
  if (GetParam() == "gnutls") {
    config.ciphers.openssl_ciphers = "HIGH";
  } else {
    config.ciphers.gnutls_priority = "NORMAL";
  }
  auto client = GetBackend(GetParam()).NewClient(config);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(client.status()));
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, ScriptedPeerTest, ::testing::ValuesIn(BuiltBackendNames()));

}  // namespace
}  // namespace tlsweep::backends
