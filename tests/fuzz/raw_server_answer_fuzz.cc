// A server's answer to a raw ClientHello (backends/rawhello/server_answer): TLS records up to
// ServerHelloDone (ServerHello, Certificate, ServerKeyExchange with every key-exchange layout the
// suite table names), SSLv2 SERVER-HELLO and ERROR, alerts, and anything else a hostile server
// sends. The whole input is what the server sent (seeds are real OpenSSL and GnuTLS flights and
// scripted SSLv2/SSLv3 answers); the read size varies with its length.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "backends/rawhello/server_answer.h"
#include "tests/fuzz/fuzz_check.h"

using tlsweep::backends::rawhello::ReadServerAnswer;
using tlsweep::backends::rawhello::ServerAnswer;
using tlsweep::backends::rawhello::ServerAnswerReader;

namespace {

void CheckAnswer(const ServerAnswer& answer, absl::string_view received) {
  size_t certificate_bytes = 0;
  switch (answer.kind) {
    case ServerAnswer::Kind::kChosen:
      if (answer.sslv2) {
        FUZZ_CHECK(answer.flight_complete);
        FUZZ_CHECK(answer.sslv2_hello.certificate.size() <= received.size());
        FUZZ_CHECK(answer.sslv2_hello.cipher_specs.size() * 3 <= received.size());
        break;
      }
      FUZZ_CHECK(answer.hello.random.size() == 32);
      FUZZ_CHECK(answer.flight_complete == answer.flight_problem.empty());
      FUZZ_CHECK(answer.late_alert >= -1 && answer.late_alert <= 255);
      for (const std::string& der : answer.certificates) {
        FUZZ_CHECK(!der.empty());
        certificate_bytes += der.size();
      }
      FUZZ_CHECK(certificate_bytes <= received.size());
      if (answer.key_exchange.named_group != 0) FUZZ_CHECK(answer.key_exchange.curve_type == 3);
      FUZZ_CHECK(answer.key_exchange.dh_prime_bits <= 8 * received.size());
      break;
    case ServerAnswer::Kind::kAlert:
      FUZZ_CHECK(answer.alert_code >= 0 && answer.alert_code <= 255);
      break;
    case ServerAnswer::Kind::kNotTls:
    case ServerAnswer::Kind::kMalformed:
    case ServerAnswer::Kind::kClosed:
      FUZZ_CHECK(!answer.detail.empty());
      break;
    case ServerAnswer::Kind::kSslv2Error:
    case ServerAnswer::Kind::kNeedMore:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t step = size % 61 + 1;
  const absl::string_view received(reinterpret_cast<const char*>(data), size);

  // As the bytes arrive: once decided, more bytes never change the decision, and a reader that
  // resumes where it stopped (as the engine's does) agrees with one that reads them all at once.
  ServerAnswer decided;
  size_t decided_at = 0;
  ServerAnswerReader resuming;
  for (size_t end = 0; end <= received.size(); end += step) {
    const ServerAnswer answer = ReadServerAnswer(received.substr(0, end), false);
    CheckAnswer(answer, received);
    const ServerAnswer resumed = resuming.Read(received.substr(0, end), false);
    FUZZ_CHECK(resumed.kind == answer.kind);
    FUZZ_CHECK(resumed.hello.cipher_suite == answer.hello.cipher_suite);
    FUZZ_CHECK(resumed.certificates == answer.certificates);
    if (answer.kind != ServerAnswer::Kind::kNeedMore) {
      decided = answer;
      decided_at = end;
      break;
    }
  }
  const ServerAnswer last = ReadServerAnswer(received, true);
  CheckAnswer(last, received);
  FUZZ_CHECK(last.kind != ServerAnswer::Kind::kNeedMore);
  if (decided.kind != ServerAnswer::Kind::kNeedMore) {
    FUZZ_CHECK(last.kind == decided.kind);
    FUZZ_CHECK(last.sslv2 == decided.sslv2);
    FUZZ_CHECK(last.hello.cipher_suite == decided.hello.cipher_suite);
    FUZZ_CHECK(last.hello.version() == decided.hello.version());
    FUZZ_CHECK(last.flight_complete == decided.flight_complete);
    FUZZ_CHECK(last.certificates == decided.certificates);
    FUZZ_CHECK(last.alert_code == decided.alert_code);
    FUZZ_CHECK(decided_at <= received.size());
  }
  return 0;
}
