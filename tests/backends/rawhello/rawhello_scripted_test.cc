// The rawhello engine (through the built plugin) against a minimal scripted responder: answers no
// Debian 12 server can give any more (SSLv2, SSLv3 with EXPORT) and answers a client must refuse
// (a version or suite it did not offer, a downgrade sentinel), to prove the classification.
// Everything a real server can answer is in rawhello_handshake_test.cc.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "backends/rawhello/rawhello_engine.h"
#include "tests/backends/rawhello/raw_test_support.h"
#include "tests/testing/backend_fixture.h"

namespace tlsweep::backends::rawhello {
namespace {

namespace t = ::tlsweep::backends::rawhello::testing;
using ::tlsweep::testing::GetBackend;

struct Scripted {
  std::unique_ptr<TlsEngine> engine;
  std::string hello;  // What the engine sent.
  HandshakeState state = HandshakeState::kInProgress;
  std::string reply;  // What it sent after the server's answer (an alert, or nothing).
};

// Sends the hello, then delivers `answer` (and end of stream if `eof`).
Scripted Script(const ClientConfig& config, const std::string& answer, bool eof = false) {
  Scripted run;
  absl::StatusOr<std::unique_ptr<TlsEngine>> engine = GetBackend("rawhello").NewClient(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return run;
  run.engine = *std::move(engine);
  EXPECT_EQ(run.engine->Advance(), HandshakeState::kInProgress);
  run.hello = run.engine->TakeOutput();
  run.engine->ReceiveBytes(answer);
  if (eof) run.engine->ReceiveEof();
  run.state = run.engine->Advance();
  run.reply = run.engine->TakeOutput();
  return run;
}

ClientConfig Tls12(const std::string& ciphers) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = ciphers;
  config.min_version = TlsVersion::kTls1_2;
  config.max_version = TlsVersion::kTls1_2;
  return config;
}

std::string Tls12Flight(uint16_t version, uint16_t suite, const std::string& random) {
  t::ServerHelloSpec hello;
  hello.legacy_version = version;
  hello.suite = suite;
  hello.random = random;
  return t::Record(22, t::Handshake(2, t::ServerHelloBody(hello)) + t::ServerHelloDone(), version);
}

TEST(RawHelloScriptedTest, AnAcceptedChoiceIsSuccessMarkedServerHelloOnly) {
  Scripted run = Script(Tls12("AES128-SHA"), Tls12Flight(0x0303, 0x002F, std::string(32, 'r')));
  ASSERT_EQ(run.state, HandshakeState::kComplete) << run.engine->Outcome().library_error;
  const HandshakeOutcome& outcome = run.engine->Outcome();
  EXPECT_TRUE(outcome.success);
  EXPECT_EQ(outcome.version, TlsVersion::kTls1_2);
  EXPECT_EQ(outcome.suite_code, 0x002F);
  EXPECT_EQ(outcome.library_suite_name, "TLS_RSA_WITH_AES_128_CBC_SHA");
  EXPECT_EQ(outcome.library_error, kServerHelloOnly);
  EXPECT_TRUE(run.reply.empty()) << "nothing is sent after the choice";
  // The engine is finished: more bytes and more calls change nothing.
  run.engine->ReceiveBytes("more");
  EXPECT_EQ(run.engine->Advance(), HandshakeState::kComplete);
  EXPECT_TRUE(absl::IsFailedPrecondition(run.engine->WriteApplicationData("QUIT\r\n")));
  EXPECT_TRUE(absl::IsFailedPrecondition(run.engine->ReadApplicationData().status()));
}

TEST(RawHelloScriptedTest, AVersionOutsideTheOfferIsRefusedWithProtocolVersion) {
  Scripted run = Script(Tls12("AES128-SHA"), Tls12Flight(0x0301, 0x002F, std::string(32, 'r')));
  ASSERT_EQ(run.state, HandshakeState::kFailed);
  const HandshakeOutcome& outcome = run.engine->Outcome();
  EXPECT_EQ(outcome.failure, FailureClass::kProtocolVersion) << outcome.library_error;
  EXPECT_EQ(outcome.alert_code, 70);
  EXPECT_TRUE(outcome.alert_sent);
  // In the record version of the hello: no version was agreed.
  EXPECT_EQ(run.reply, std::string("\x15\x03\x01\x00\x02\x02\x46", 7)) << "a fatal alert record";
}

TEST(RawHelloScriptedTest, ASuiteThatWasNotOfferedIsRefusedWithIllegalParameter) {
  Scripted run = Script(Tls12("AES128-SHA"), Tls12Flight(0x0303, 0x0035, std::string(32, 'r')));
  ASSERT_EQ(run.state, HandshakeState::kFailed);
  EXPECT_EQ(run.engine->Outcome().failure, FailureClass::kAlertSent);
  EXPECT_EQ(run.engine->Outcome().alert_code, 47);
  EXPECT_TRUE(absl::StrContains(run.engine->Outcome().library_error, "not offered"));
}

TEST(RawHelloScriptedTest, TheTls13DowngradeSentinelIsRefused) {
  ClientConfig config;  // Offers TLS 1.0-1.3.
  const std::string random = std::string(24, 'r') + std::string("DOWNGRD\x01", 8);
  Scripted run = Script(config, Tls12Flight(0x0303, 0xC02F, random));
  ASSERT_EQ(run.state, HandshakeState::kFailed);
  EXPECT_EQ(run.engine->Outcome().alert_code, 47);
  EXPECT_TRUE(absl::StrContains(run.engine->Outcome().library_error, "downgrade"));
}

TEST(RawHelloScriptedTest, Tls13GroupsMustMatchTheKeyShareOrItsRetry) {
  ClientConfig config;
  config.min_version = TlsVersion::kTls1_3;
  config.groups = {29, 23};  // Key share for x25519 only.
  t::ServerHelloSpec hello;
  hello.suite = 0x1301;
  hello.supported_version = 0x0304;

  hello.key_share_group = 23;  // No key was sent for secp256r1.
  Scripted wrong_share = Script(config, t::ServerHelloRecord(hello));
  EXPECT_EQ(wrong_share.engine->Outcome().failure, FailureClass::kAlertSent);

  hello.hello_retry_request = true;  // Asking for secp256r1 is right.
  Scripted retry = Script(config, t::ServerHelloRecord(hello));
  ASSERT_EQ(retry.state, HandshakeState::kComplete) << retry.engine->Outcome().library_error;
  EXPECT_EQ(retry.engine->Outcome().group, 23);
  EXPECT_EQ(retry.engine->Outcome().library_error, "serverhello-only; hrr");

  hello.key_share_group = 29;  // Asking again for the group it has a key for is not.
  Scripted pointless_retry = Script(config, t::ServerHelloRecord(hello));
  EXPECT_EQ(pointless_retry.engine->Outcome().failure, FailureClass::kAlertSent);
}

TEST(RawHelloScriptedTest, Ssl3ExportAnswerIsReadWithItsTemporaryKey) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "EXP-RC4-MD5:EXP-DES-CBC-SHA";
  config.min_version = TlsVersion::kSsl3;
  config.max_version = TlsVersion::kSsl3;
  t::ServerHelloSpec hello;
  hello.legacy_version = 0x0300;
  hello.suite = 0x0003;
  hello.extensions = false;
  std::string key_exchange = std::string("\x00\x40", 2) + "\x80" + std::string(63, '\x01') +
                             std::string("\x00\x03\x01\x00\x01\x00\x02sg", 9);
  Scripted run = Script(config, t::Record(22,
                                          t::Handshake(2, t::ServerHelloBody(hello)) +
                                              t::Handshake(12, key_exchange) + t::ServerHelloDone(),
                                          0x0300));
  EXPECT_EQ(run.hello.substr(0, 3), std::string("\x16\x03\x00", 3));
  ASSERT_EQ(run.state, HandshakeState::kComplete) << run.engine->Outcome().library_error;
  EXPECT_EQ(run.engine->Outcome().version, TlsVersion::kSsl3);
  EXPECT_EQ(run.engine->Outcome().suite_code, 0x0003);
  EXPECT_EQ(run.engine->Outcome().library_error, "serverhello-only; rsa_export_bits=512");
}

TEST(RawHelloScriptedTest, Sslv2ServerHelloIsTheServersChoiceOfSpecs) {
  ClientConfig config;
  config.ciphers.openssl_ciphers = "SSLv2";
  Scripted run = Script(config, t::Sslv2ServerHello({0x010080, 0x0700C0}, "not-der"));
  EXPECT_EQ(static_cast<uint8_t>(run.hello[0]) & 0x80, 0x80) << "an SSLv2 record";
  ASSERT_EQ(run.state, HandshakeState::kComplete) << run.engine->Outcome().library_error;
  const HandshakeOutcome& outcome = run.engine->Outcome();
  EXPECT_EQ(static_cast<uint16_t>(outcome.version), 0x0002);
  EXPECT_EQ(outcome.suite_code, 0);
  // Our order prefers 3DES; the server lists both.
  EXPECT_EQ(outcome.library_suite_name, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
  EXPECT_EQ(outcome.library_error,
            "serverhello-only; sslv2; sslv2_cipher_specs=SSL_CK_RC4_128_WITH_MD5,"
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
  ASSERT_EQ(outcome.peer_chain.size(), 1u);
  EXPECT_FALSE(outcome.peer_chain[0].parsed);

  Scripted refused = Script(config, t::Sslv2Error(1));
  EXPECT_EQ(refused.engine->Outcome().failure, FailureClass::kNoSharedCipher);
  EXPECT_TRUE(refused.reply.empty());

  Scripted to_tls = Script(Tls12("AES128-SHA"), t::Sslv2ServerHello({0x010080}, "der"));
  EXPECT_EQ(to_tls.engine->Outcome().failure, FailureClass::kNotTls);
}

TEST(RawHelloScriptedTest, EndOfStreamPlainTextAndAlertsAreClassified) {
  Scripted eof = Script(Tls12("AES128-SHA"), "", true);
  EXPECT_EQ(eof.engine->Outcome().failure, FailureClass::kUnexpectedEof);

  Scripted smtp =
      Script(Tls12("AES128-SHA"), "454 4.7.0 TLS not available due to local problem\r\n");
  EXPECT_EQ(smtp.engine->Outcome().failure, FailureClass::kNotTls);

  Scripted refusal = Script(Tls12("AES128-SHA"), t::AlertRecord(2, 40));
  EXPECT_EQ(refusal.engine->Outcome().failure, FailureClass::kNoSharedCipher);
  EXPECT_EQ(refusal.engine->Outcome().alert_code, 40);
  EXPECT_FALSE(refusal.engine->Outcome().alert_sent);

  Scripted version = Script(Tls12("AES128-SHA"), t::AlertRecord(2, 70));
  EXPECT_EQ(version.engine->Outcome().failure, FailureClass::kProtocolVersion);

  Scripted other = Script(Tls12("AES128-SHA"), t::AlertRecord(2, 80));
  EXPECT_EQ(other.engine->Outcome().failure, FailureClass::kAlertReceived);

  Scripted garbled = Script(Tls12("AES128-SHA"), t::Record(22, t::Handshake(2, "xx")));
  EXPECT_EQ(garbled.engine->Outcome().failure, FailureClass::kAlertSent);
  EXPECT_EQ(garbled.engine->Outcome().alert_code, 50);
}

TEST(RawHelloScriptedTest, AFlightCutShortStillReportsTheChoice) {
  t::ServerHelloSpec hello;
  hello.suite = 0x002F;
  Scripted run = Script(Tls12("AES128-SHA"), t::ServerHelloRecord(hello) + t::AlertRecord(2, 80));
  ASSERT_EQ(run.state, HandshakeState::kComplete);
  EXPECT_EQ(run.engine->Outcome().suite_code, 0x002F);
  EXPECT_EQ(run.engine->Outcome().library_error,
            "serverhello-only; flight=alert internal_error after the ServerHello");
}

TEST(RawHelloScriptedTest, BufferingStopsAtTheCap) {
  // A flood of warnings never reaches a ServerHello: refused at the cap, not buffered.
  std::string flood;
  while (flood.size() <= kMaxAnswerBytes) flood += t::AlertRecord(1, 112);
  Scripted warnings = Script(Tls12("AES128-SHA"), flood);
  ASSERT_EQ(warnings.state, HandshakeState::kFailed);
  EXPECT_EQ(warnings.engine->Outcome().failure, FailureClass::kAlertSent);
  EXPECT_EQ(warnings.engine->Outcome().alert_code, 10);

  // A certificate chain past the cap: the choice stands, the flight is marked.
  t::ServerHelloSpec hello;
  hello.suite = 0x002F;
  std::string chain;
  std::vector<std::string> certificates(20, std::string(16000, 'c'));
  const std::string certificate = t::Handshake(11, t::CertificateBody(certificates));
  for (size_t at = 0; at < certificate.size(); at += 16000) {
    chain += t::Record(22, certificate.substr(at, 16000));
  }
  Scripted big = Script(Tls12("AES128-SHA"), t::ServerHelloRecord(hello) + chain);
  ASSERT_EQ(big.state, HandshakeState::kComplete) << big.engine->Outcome().library_error;
  EXPECT_TRUE(absl::StrContains(big.engine->Outcome().library_error, "flight=longer than"))
      << big.engine->Outcome().library_error;
}

}  // namespace
}  // namespace tlsweep::backends::rawhello
