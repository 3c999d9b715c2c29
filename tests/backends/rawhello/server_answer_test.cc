// The reader of a server's answer, on scripted bytes (raw_test_support.h): every shape a first
// flight can take, how it may be cut into reads, and the ways it can be broken. Real servers'
// answers are read in rawhello_handshake_test.cc.
#include "backends/rawhello/server_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/backends/rawhello/raw_test_support.h"

namespace tlsweep::backends::rawhello {
namespace {

using ::testing::ElementsAre;
using Kind = ServerAnswer::Kind;
namespace t = ::tlsweep::backends::rawhello::testing;

std::string Tls12EcdheFlight() {
  t::ServerHelloSpec hello;
  hello.suite = 0xC02F;  // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  return t::Record(22, t::Handshake(2, t::ServerHelloBody(hello)) +
                           t::Handshake(11, t::CertificateBody({"leaf-der", "ca-der"})) +
                           t::Handshake(12, t::EcdheKeyExchangeBody(29, 0x0804)) +
                           t::ServerHelloDone());
}

TEST(ServerAnswerTest, Tls12FlightGivesSuiteCurveSignatureAndChain) {
  const ServerAnswer answer = ReadServerAnswer(Tls12EcdheFlight(), false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_TRUE(answer.flight_complete);
  EXPECT_EQ(answer.hello.version(), 0x0303);
  EXPECT_EQ(answer.hello.cipher_suite, 0xC02F);
  EXPECT_THAT(answer.hello.extensions, ElementsAre(0xFF01));
  EXPECT_THAT(answer.certificates, ElementsAre("leaf-der", "ca-der"));
  EXPECT_TRUE(answer.key_exchange.present);
  EXPECT_EQ(answer.key_exchange.curve_type, 3);
  EXPECT_EQ(answer.key_exchange.named_group, 29);
  EXPECT_EQ(answer.key_exchange.signature_scheme, 0x0804);
  EXPECT_TRUE(answer.key_exchange.signed_params);
}

TEST(ServerAnswerTest, EveryWayOfCuttingTheBytesGivesTheSameDecision) {
  // The flight split into one record per message, then delivered in every prefix.
  t::ServerHelloSpec hello;
  hello.suite = 0x0033;  // TLS_DHE_RSA_WITH_AES_128_CBC_SHA
  const std::string flight = t::ServerHelloRecord(hello) +
                             t::Record(22, t::Handshake(11, t::CertificateBody({"der"}))) +
                             t::Record(22, t::Handshake(12, t::DheKeyExchangeBody(256, 0x0401))) +
                             t::Record(22, t::ServerHelloDone());
  for (size_t end = 0; end < flight.size(); ++end) {
    EXPECT_EQ(ReadServerAnswer(flight.substr(0, end), false).kind, Kind::kNeedMore) << end;
  }
  const ServerAnswer answer = ReadServerAnswer(flight, false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_EQ(answer.key_exchange.dh_prime_bits, 2048u);
  EXPECT_EQ(answer.key_exchange.signature_scheme, 0x0401);
  // Bytes after the decision change nothing.
  EXPECT_EQ(ReadServerAnswer(flight + "garbage", true).key_exchange.dh_prime_bits, 2048u);
}

TEST(ServerAnswerTest, AResumingReaderAgreesWithReadingAtOnceAtEveryByte) {
  t::ServerHelloSpec hello;
  hello.suite = 0xC02F;
  const std::string warning = t::AlertRecord(1, 112);
  const std::vector<std::string> answers = {
      Tls12EcdheFlight(),          warning + Tls12EcdheFlight(),
      t::ServerHelloRecord(hello), t::Sslv2ServerHello({0x010080}, "der"),
      t::AlertRecord(2, 40),       "220 not tls\r\n"};
  for (const std::string& bytes : answers) {
    ServerAnswerReader reader;
    for (size_t end = 0; end <= bytes.size(); ++end) {
      const bool eof = end == bytes.size();
      const ServerAnswer resumed = reader.Read(absl::string_view(bytes).substr(0, end), eof);
      const ServerAnswer at_once = ReadServerAnswer(absl::string_view(bytes).substr(0, end), eof);
      ASSERT_EQ(resumed.kind, at_once.kind) << end << " of " << bytes.size();
      EXPECT_EQ(resumed.hello.cipher_suite, at_once.hello.cipher_suite);
      EXPECT_EQ(resumed.flight_complete, at_once.flight_complete);
      EXPECT_EQ(resumed.certificates, at_once.certificates);
      if (resumed.kind != Kind::kNeedMore) break;
    }
  }
}

TEST(ServerAnswerTest, AHandshakeMessageMaySpanRecords) {
  const std::string message = t::Handshake(2, t::ServerHelloBody({})) + t::ServerHelloDone();
  const std::string records = t::Record(22, message.substr(0, 10)) +
                              t::Record(22, message.substr(10, 30)) +
                              t::Record(22, message.substr(40));
  const ServerAnswer answer = ReadServerAnswer(records, false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_TRUE(answer.flight_complete);
}

TEST(ServerAnswerTest, Tls13StopsAtTheServerHelloWhateverFollows) {
  t::ServerHelloSpec hello;
  hello.suite = 0x1302;
  hello.supported_version = 0x0304;
  hello.key_share_group = 23;
  const std::string bytes =
      t::ServerHelloRecord(hello) + t::Record(20, "\x01") + t::Record(23, std::string(100, 'e'));
  const ServerAnswer answer = ReadServerAnswer(bytes, false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_TRUE(answer.flight_complete);
  EXPECT_EQ(answer.hello.version(), 0x0304);
  EXPECT_EQ(answer.hello.legacy_version, 0x0303);
  EXPECT_EQ(answer.hello.key_share_group, 23);
  EXPECT_FALSE(answer.hello.hello_retry_request);
}

TEST(ServerAnswerTest, HelloRetryRequestNamesTheGroupTheServerWants) {
  t::ServerHelloSpec hello;
  hello.suite = 0x1301;
  hello.supported_version = 0x0304;
  hello.key_share_group = 24;
  hello.hello_retry_request = true;
  const ServerAnswer answer = ReadServerAnswer(t::ServerHelloRecord(hello), false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_TRUE(answer.hello.hello_retry_request);
  EXPECT_EQ(answer.hello.key_share_group, 24);
}

TEST(ServerAnswerTest, Ssl3ServerHelloWithoutExtensionsAndAnExportKey) {
  t::ServerHelloSpec hello;
  hello.legacy_version = 0x0300;
  hello.suite = 0x0003;  // TLS_RSA_EXPORT_WITH_RC4_40_MD5
  hello.extensions = false;
  // An export server with a 1024-bit certificate signs a temporary 512-bit RSA key.
  std::string key_exchange;
  key_exchange += std::string("\x00\x40", 2) + "\x80" + std::string(63, '\x01');  // modulus
  key_exchange += std::string("\x00\x03\x01\x00\x01", 5);                         // exponent
  key_exchange += std::string("\x00\x04sign", 6);                                 // MD5+SHA-1
  const std::string flight = t::Record(22,
                                       t::Handshake(2, t::ServerHelloBody(hello)) +
                                           t::Handshake(11, t::CertificateBody({"der"})) +
                                           t::Handshake(12, key_exchange) + t::ServerHelloDone(),
                                       0x0300);
  const ServerAnswer answer = ReadServerAnswer(flight, false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_EQ(answer.hello.version(), 0x0300);
  EXPECT_TRUE(answer.hello.extensions.empty());
  EXPECT_EQ(answer.key_exchange.rsa_modulus_bits, 512u);
  EXPECT_EQ(answer.key_exchange.signature_scheme, 0) << "no scheme field before TLS 1.2";
}

TEST(ServerAnswerTest, ExplicitCurvesAreNotedNotRead) {
  t::ServerHelloSpec hello;
  hello.suite = 0xC013;  // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
  const std::string flight =
      t::Record(22, t::Handshake(2, t::ServerHelloBody(hello)) +
                        t::Handshake(12, std::string("\x01\x00\x10", 3) + std::string(16, 'x')) +
                        t::ServerHelloDone());
  const ServerAnswer answer = ReadServerAnswer(flight, false);
  ASSERT_EQ(answer.kind, Kind::kChosen) << answer.detail;
  EXPECT_TRUE(answer.flight_complete);
  EXPECT_EQ(answer.key_exchange.curve_type, 1);
  EXPECT_EQ(answer.key_exchange.named_group, 0);
}

TEST(ServerAnswerTest, WarningsAreSkippedFatalAlertsAndCloseNotifyDecide) {
  const std::string warning = t::AlertRecord(1, 112);  // unrecognized_name
  EXPECT_EQ(ReadServerAnswer(warning, false).kind, Kind::kNeedMore);
  const ServerAnswer after_warning = ReadServerAnswer(
      warning + t::Record(22, t::Handshake(2, t::ServerHelloBody({})) + t::ServerHelloDone()),
      false);
  EXPECT_EQ(after_warning.kind, Kind::kChosen) << after_warning.detail;

  const ServerAnswer fatal = ReadServerAnswer(t::AlertRecord(2, 40), false);
  EXPECT_EQ(fatal.kind, Kind::kAlert);
  EXPECT_EQ(fatal.alert_code, 40);
  EXPECT_EQ(ReadServerAnswer(t::AlertRecord(1, 0), false).kind, Kind::kClosed);
}

TEST(ServerAnswerTest, AFlightCutShortAfterTheServerHelloKeepsTheChoice) {
  const std::string hello = t::Record(22, t::Handshake(2, t::ServerHelloBody({})));
  EXPECT_EQ(ReadServerAnswer(hello, false).kind, Kind::kNeedMore);

  const ServerAnswer closed = ReadServerAnswer(hello, true);
  ASSERT_EQ(closed.kind, Kind::kChosen);
  EXPECT_FALSE(closed.flight_complete);
  EXPECT_TRUE(absl::StrContains(closed.flight_problem, "closed")) << closed.flight_problem;

  const ServerAnswer alert = ReadServerAnswer(hello + t::AlertRecord(2, 80), false);
  ASSERT_EQ(alert.kind, Kind::kChosen);
  EXPECT_FALSE(alert.flight_complete);
  EXPECT_EQ(alert.late_alert, 80);

  const ServerAnswer junk = ReadServerAnswer(hello + t::Record(22, t::Handshake(20, "x")), false);
  ASSERT_EQ(junk.kind, Kind::kChosen);
  EXPECT_FALSE(junk.flight_complete);
  EXPECT_TRUE(absl::StrContains(junk.flight_problem, "unexpected")) << junk.flight_problem;

  const ServerAnswer bad_ske =
      ReadServerAnswer(hello + t::Record(22, t::Handshake(12, "\x03")), false);
  ASSERT_EQ(bad_ske.kind, Kind::kChosen);
  EXPECT_FALSE(bad_ske.flight_complete);
  EXPECT_EQ(bad_ske.hello.cipher_suite, 0xC02F);
}

TEST(ServerAnswerTest, EndOfStreamBeforeTheServerHelloIsClosed) {
  EXPECT_EQ(ReadServerAnswer("", false).kind, Kind::kNeedMore);
  EXPECT_EQ(ReadServerAnswer("", true).kind, Kind::kClosed);
  const std::string partial = t::Record(22, t::Handshake(2, t::ServerHelloBody({}))).substr(0, 20);
  const ServerAnswer mid = ReadServerAnswer(partial, true);
  EXPECT_EQ(mid.kind, Kind::kClosed);
  EXPECT_TRUE(absl::StrContains(mid.detail, "mid-record")) << mid.detail;
}

TEST(ServerAnswerTest, PlainTextAndForeignRecordsAreNotTls) {
  EXPECT_EQ(ReadServerAnswer("220 mx.example.test ESMTP\r\n", false).kind, Kind::kNotTls);
  EXPECT_EQ(ReadServerAnswer("454 4.7.0 TLS not available\r\n", false).kind, Kind::kNotTls);
  EXPECT_EQ(ReadServerAnswer(std::string("\x16\x02\x00\x00\x01", 5), false).kind, Kind::kNotTls);
}

TEST(ServerAnswerTest, BrokenTlsBeforeTheChoiceIsMalformed) {
  EXPECT_EQ(ReadServerAnswer(t::Record(23, "data"), false).kind, Kind::kMalformed);
  EXPECT_EQ(
      ReadServerAnswer(t::Record(22, t::Handshake(11, t::CertificateBody({"d"}))), false).kind,
      Kind::kMalformed);
  EXPECT_EQ(ReadServerAnswer(t::Record(22, t::Handshake(2, "short")), false).kind,
            Kind::kMalformed);
  EXPECT_EQ(ReadServerAnswer(t::Record(21, "\x02"), false).kind, Kind::kMalformed);
  // A record longer than TLS allows is refused at its header, before it arrives.
  EXPECT_EQ(ReadServerAnswer(std::string("\x16\x03\x03\x48\x01", 5), false).kind, Kind::kMalformed);
  // Trailing bytes after the extensions.
  t::ServerHelloSpec hello;
  EXPECT_EQ(
      ReadServerAnswer(t::Record(22, t::Handshake(2, t::ServerHelloBody(hello) + "x")), false).kind,
      Kind::kMalformed);
}

TEST(ServerAnswerTest, Sslv2ServerHelloAndError) {
  const ServerAnswer hello =
      ReadServerAnswer(t::Sslv2ServerHello({0x0700C0, 0x010080}, "cert-der"), false);
  ASSERT_EQ(hello.kind, Kind::kChosen) << hello.detail;
  EXPECT_TRUE(hello.sslv2);
  EXPECT_TRUE(hello.flight_complete);
  EXPECT_EQ(hello.sslv2_hello.version, 0x0002);
  EXPECT_EQ(hello.sslv2_hello.certificate, "cert-der");
  EXPECT_THAT(hello.sslv2_hello.cipher_specs, ElementsAre(0x0700C0, 0x010080));

  const std::string whole = t::Sslv2ServerHello({0x010080}, "cert");
  EXPECT_EQ(ReadServerAnswer(whole.substr(0, whole.size() - 1), false).kind, Kind::kNeedMore);
  EXPECT_EQ(ReadServerAnswer(whole.substr(0, whole.size() - 1), true).kind, Kind::kClosed);

  const ServerAnswer error = ReadServerAnswer(t::Sslv2Error(1), false);
  EXPECT_EQ(error.kind, Kind::kSslv2Error);
  EXPECT_EQ(error.sslv2_error, 1);
  EXPECT_EQ(ReadServerAnswer(std::string("\x80\x02\x07\x00", 4), false).kind, Kind::kNotTls);
}

}  // namespace
}  // namespace tlsweep::backends::rawhello
