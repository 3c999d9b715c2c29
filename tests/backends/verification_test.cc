// Certificate verification is recorded next to a successful handshake, never instead of it.
#include <gtest/gtest.h>

#include "backends/memory_pump.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends {
namespace {

using ::tlsweep::testing::BuiltBackendNames;
using ::tlsweep::testing::CertFactory;
using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::IssuedCertificate;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;

class VerificationTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Handshakes against an OpenSSL server presenting `certificate`; returns the client outcome.
  HandshakeOutcome Run(const IssuedCertificate& certificate, const std::string& ca_file,
                       const std::string& name) {
    ClientConfig config;
    config.ca_file = ca_file;
    config.sni = "mx.example.test";
    config.verify_name = name;
    auto client = GetBackend(GetParam()).NewClient(config);
    auto server = GetBackend("openssl").NewServer(MakeServerConfig("openssl", certificate));
    EXPECT_TRUE(client.ok()) << client.status();
    EXPECT_TRUE(server.ok()) << server.status();
    const PumpResult result = PumpHandshake(**client, **server);
    EXPECT_EQ(result.client, HandshakeState::kComplete) << (*client)->Outcome().library_error;
    return (*client)->Outcome();
  }
};

TEST_P(VerificationTest, ChainFromTheBundleWithTheRightNameIsTrusted) {
  const HandshakeOutcome outcome =
      Run(SharedPki().rsa, SharedPki().factory.ca_file(), "mx.example.test");
  EXPECT_TRUE(outcome.verification.performed);
  EXPECT_TRUE(outcome.verification.trusted) << outcome.verification.error;
  EXPECT_TRUE(outcome.verification.hostname_match);
  EXPECT_FALSE(outcome.verification.expired);
}

TEST_P(VerificationTest, UnknownCaIsUntrustedButTheHandshakeSucceeds) {
  absl::StatusOr<CertFactory> other =
      CertFactory::Create(SharedPki().directory + "/other-ca-" + GetParam());
  ASSERT_TRUE(other.ok());
  const HandshakeOutcome outcome = Run(SharedPki().rsa, other->ca_file(), "mx.example.test");
  EXPECT_TRUE(outcome.success);
  EXPECT_TRUE(outcome.verification.performed);
  EXPECT_FALSE(outcome.verification.trusted);
  EXPECT_FALSE(outcome.verification.error.empty());
}

TEST_P(VerificationTest, WrongNameIsAHostnameMismatchOnATrustedChain) {
  const HandshakeOutcome outcome =
      Run(SharedPki().rsa, SharedPki().factory.ca_file(), "mx.other.test");
  EXPECT_TRUE(outcome.verification.trusted) << outcome.verification.error;
  EXPECT_FALSE(outcome.verification.hostname_match);
}

TEST_P(VerificationTest, ExpiredLeafIsExpiredAndUntrusted) {
  const HandshakeOutcome outcome =
      Run(SharedPki().expired, SharedPki().factory.ca_file(), "mx.example.test");
  EXPECT_TRUE(outcome.verification.expired);
  EXPECT_FALSE(outcome.verification.trusted);
  EXPECT_TRUE(outcome.verification.hostname_match);
}

TEST_P(VerificationTest, NoBundleMeansNotPerformed) {
  const HandshakeOutcome outcome = Run(SharedPki().rsa, "", "mx.example.test");
  EXPECT_FALSE(outcome.verification.performed);
  EXPECT_EQ(outcome.peer_chain.size(), 2u);  // Leaf and CA, as the server sent them.
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, VerificationTest, ::testing::ValuesIn(BuiltBackendNames()));

}  // namespace
}  // namespace tlsweep::backends
