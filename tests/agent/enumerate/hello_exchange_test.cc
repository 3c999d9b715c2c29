// Reading the server's first answer to a ClientHello: a ServerHello (or HelloRetryRequest), an
// alert, a closed connection, or something that is not TLS.
#include "agent/enumerate/hello_exchange.h"

#include <gtest/gtest.h>

#include <string>

#include "agent/enumerate/offer_plan.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::agent {
namespace {

using ::tlsweep::testing::GetBackend;
using ::tlsweep::testing::MakeServerConfig;
using ::tlsweep::testing::SharedPki;
using Kind = ServerAnswer::Kind;

backends::CipherSpec OpensslSpec(const std::string& ciphers) {
  backends::CipherSpec spec;
  spec.openssl_ciphers = ciphers;
  return spec;
}

// The bytes a real server engine answers to `client` (and whether it failed).
std::string ServerAnswerBytes(const backends::ClientConfig& client,
                              const backends::CipherSpec& server_spec, bool& failed) {
  absl::StatusOr<PreparedHello> hello = PrepareHello(GetBackend("openssl"), client);
  EXPECT_TRUE(hello.ok()) << hello.status();
  if (!hello.ok()) return "";
  auto server =
      GetBackend("openssl").NewServer(MakeServerConfig("openssl", SharedPki().rsa, server_spec));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return "";
  (*server)->ReceiveBytes(hello->records);
  failed = (*server)->Advance() == backends::HandshakeState::kFailed;
  return (*server)->TakeOutput();
}

TEST(ClassifyServerBytesTest, WholeServerHelloNamesTheSuite) {
  backends::ClientConfig client;
  client.max_version = backends::TlsVersion::kTls1_2;
  client.ciphers.openssl_ciphers = "AES256-SHA:AES128-SHA";
  bool failed = true;
  const std::string bytes = ServerAnswerBytes(client, OpensslSpec("AES128-SHA"), failed);
  ASSERT_FALSE(failed);
  const ServerAnswer answer = ClassifyServerBytes(bytes, false);
  ASSERT_EQ(answer.kind, Kind::kServerHello) << answer.detail;
  EXPECT_EQ(answer.hello.version, backends::TlsVersion::kTls1_2);
  EXPECT_EQ(answer.hello.cipher_suite, 0x002F);
  // Any prefix is not yet decisive; with EOF it is a closed connection.
  for (size_t cut : {size_t{1}, size_t{5}, size_t{40}}) {
    EXPECT_EQ(ClassifyServerBytes(bytes.substr(0, cut), false).kind, Kind::kNeedMore) << cut;
    EXPECT_EQ(ClassifyServerBytes(bytes.substr(0, cut), true).kind, Kind::kClosed) << cut;
  }
}

TEST(ClassifyServerBytesTest, HelloRetryRequestNamesSuiteAndGroup) {
  backends::ClientConfig client;
  client.min_version = backends::TlsVersion::kTls1_3;
  client.groups = {29, 23};  // Key share for x25519 only.
  backends::CipherSpec spec;
  spec.openssl_ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  absl::StatusOr<PreparedHello> hello = PrepareHello(GetBackend("openssl"), client);
  ASSERT_TRUE(hello.ok()) << hello.status();
  backends::ServerConfig server_config = MakeServerConfig("openssl", SharedPki().rsa, spec);
  server_config.groups = {23};
  auto server = GetBackend("openssl").NewServer(server_config);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->ReceiveBytes(hello->records);
  ASSERT_EQ((*server)->Advance(), backends::HandshakeState::kInProgress);
  const ServerAnswer answer = ClassifyServerBytes((*server)->TakeOutput(), false);
  ASSERT_EQ(answer.kind, Kind::kServerHello) << answer.detail;
  EXPECT_TRUE(answer.hello.hello_retry_request);
  EXPECT_EQ(answer.hello.version, backends::TlsVersion::kTls1_3);
  EXPECT_EQ(answer.hello.cipher_suite, 0x1303);
  EXPECT_EQ(answer.hello.key_share_group, 23);
}

TEST(ClassifyServerBytesTest, RefusalIsAnAlert) {
  backends::ClientConfig client;
  client.max_version = backends::TlsVersion::kTls1_2;
  client.ciphers.openssl_ciphers = "AES256-SHA";
  bool failed = false;
  const std::string bytes = ServerAnswerBytes(client, OpensslSpec("AES128-SHA"), failed);
  ASSERT_TRUE(failed);
  const ServerAnswer answer = ClassifyServerBytes(bytes, true);
  ASSERT_EQ(answer.kind, Kind::kAlert) << answer.detail;
  EXPECT_EQ(answer.alert_code, 40);
  EXPECT_EQ(answer.detail, "alert handshake_failure");
}

TEST(ClassifyServerBytesTest, SmtpTextAndEofAreNotServerHellos) {
  EXPECT_EQ(ClassifyServerBytes("454 4.7.0 TLS not available\r\n", false).kind, Kind::kNotTls);
  EXPECT_EQ(ClassifyServerBytes("", false).kind, Kind::kNeedMore);
  EXPECT_EQ(ClassifyServerBytes("", true).kind, Kind::kClosed);
  // An application-data record where a ServerHello belongs.
  EXPECT_EQ(ClassifyServerBytes(std::string("\x17\x03\x03\x00\x01\x00", 6), false).kind,
            Kind::kNotTls);
}

}  // namespace
}  // namespace tlsweep::agent
