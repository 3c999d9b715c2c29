#include "backends/rawhello/rawhello_engine.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/cipher_suite_table.h"
#include "backends/failure_rules.h"
#include "backends/group_table.h"
#include "backends/openssl/openssl_certificate.h"
#include "backends/rawhello/cipher_list.h"
#include "backends/rawhello/signature_schemes.h"
#include "backends/rawhello/sslv2_cipher_specs.h"

namespace tlsweep::backends::rawhello {
namespace {

constexpr int kAlertUnexpectedMessage = 10;
constexpr int kAlertIllegalParameter = 47;
constexpr int kAlertDecodeError = 50;
constexpr uint16_t kSslv2NoCipherError = 1;

// RFC 8446 4.1.3: a TLS 1.3 server that negotiates an older version says so in the last eight
// bytes of its random; a client that offered more must refuse.
constexpr absl::string_view kDowngradeTls12("DOWNGRD\x01", 8);
constexpr absl::string_view kDowngradeTls11("DOWNGRD\x00", 8);

std::string VersionText(uint16_t version) {
  const absl::string_view name = TlsVersionName(static_cast<TlsVersion>(version));
  return name == "unknown" ? absl::StrCat("0x", absl::Hex(version, absl::kZeroPad4))
                           : std::string(name);
}

}  // namespace

RawHelloEngine::RawHelloEngine(HelloPlan plan, std::string hello,
                               std::shared_ptr<const TrustStore> trust, std::string verify_name)
    : plan_(std::move(plan)),
      hello_(std::move(hello)),
      trust_(std::move(trust)),
      verify_name_(std::move(verify_name)) {}

void RawHelloEngine::ReceiveBytes(absl::string_view bytes) {
  if (state_ != HandshakeState::kInProgress || overflow_) return;
  const size_t room = kMaxAnswerBytes - received_.size();
  if (bytes.size() > room) {
    bytes = bytes.substr(0, room);
    overflow_ = true;
  }
  received_.append(bytes.data(), bytes.size());
}

void RawHelloEngine::ReceiveEof() { eof_ = true; }

HandshakeState RawHelloEngine::Advance() {
  if (state_ != HandshakeState::kInProgress) return state_;
  if (!hello_sent_) {
    output_ += hello_;
    hello_sent_ = true;
  }
  // Past the cap, decide on what arrived as if the stream had ended there.
  const ServerAnswer answer = reader_.Read(received_, eof_ || overflow_);
  if (answer.kind == ServerAnswer::Kind::kNeedMore) return state_;
  Decide(answer);
  return state_;
}

std::string RawHelloEngine::TakeOutput() { return std::exchange(output_, std::string()); }

absl::Status RawHelloEngine::WriteApplicationData(absl::string_view) {
  return absl::FailedPreconditionError(
      "the rawhello backend stops once the server has chosen: there is no application data");
}

absl::StatusOr<std::string> RawHelloEngine::ReadApplicationData() {
  return absl::FailedPreconditionError(
      "the rawhello backend stops once the server has chosen: there is no application data");
}

void RawHelloEngine::Decide(const ServerAnswer& answer) {
  switch (answer.kind) {
    case ServerAnswer::Kind::kChosen:
      if (answer.sslv2) {
        ChosenSslv2(answer);
      } else {
        Chosen(answer);
      }
      return;
    case ServerAnswer::Kind::kAlert:
      outcome_.alert_code = answer.alert_code;
      outcome_.alert_sent = false;
      Fail(ClassifyReceivedAlert(answer.alert_code),
           absl::StrCat("the server sent the fatal alert ", AlertName(answer.alert_code),
                        " before choosing"));
      return;
    case ServerAnswer::Kind::kSslv2Error:
      Fail(answer.sslv2_error == kSslv2NoCipherError ? FailureClass::kNoSharedCipher
                                                     : FailureClass::kAlertReceived,
           absl::StrCat("the server sent SSLv2 ERROR ", answer.sslv2_error,
                        answer.sslv2_error == kSslv2NoCipherError ? " (NO-CIPHER-ERROR)" : ""));
      return;
    case ServerAnswer::Kind::kClosed:
      if (overflow_) {
        // Only a flood of warning alerts gets here; OpenSSL gives up on those too.
        FailWithAlert(FailureClass::kAlertSent, kAlertUnexpectedMessage,
                      absl::StrCat("no ServerHello in the first ", kMaxAnswerBytes, " bytes"));
        return;
      }
      Fail(FailureClass::kUnexpectedEof, answer.detail);
      return;
    case ServerAnswer::Kind::kNotTls:
      Fail(FailureClass::kNotTls, answer.detail);
      return;
    case ServerAnswer::Kind::kMalformed:
      FailWithAlert(FailureClass::kAlertSent, kAlertDecodeError, answer.detail);
      return;
    case ServerAnswer::Kind::kNeedMore:
      return;
  }
}

std::string RawHelloEngine::RefuseChoice(const ParsedServerHello& hello, int& alert) const {
  const uint16_t version = hello.version();
  if (!plan_.Offers(static_cast<TlsVersion>(version))) {
    alert = kAlertProtocolVersion;
    const std::string offered = plan_.versions.empty()
                                    ? std::string("SSLv2")
                                    : absl::StrCat(TlsVersionName(plan_.versions.front()), "..",
                                                   TlsVersionName(plan_.versions.back()));
    return absl::StrCat("the server chose ", VersionText(version), ", outside the offered ",
                        offered);
  }
  alert = kAlertIllegalParameter;
  if (IsScsv(hello.cipher_suite) || std::find(plan_.suites.begin(), plan_.suites.end(),
                                              hello.cipher_suite) == plan_.suites.end()) {
    return absl::StrCat("the server chose ", CipherSuiteName(hello.cipher_suite),
                        ", which was not offered");
  }
  const bool tls13 = version == static_cast<uint16_t>(TlsVersion::kTls1_3);
  if (IsTls13Suite(hello.cipher_suite) != tls13) {
    return absl::StrCat("the server chose ", CipherSuiteName(hello.cipher_suite), " with ",
                        VersionText(version));
  }
  if (hello.compression != 0) {
    return absl::StrCat("the server chose compression method ", hello.compression);
  }
  if (tls13) {
    const auto& shared = plan_.key_share_groups;
    const bool shared_group =
        std::find(shared.begin(), shared.end(), hello.key_share_group) != shared.end();
    const auto& supported = plan_.supported_groups;
    const bool supported_group =
        std::find(supported.begin(), supported.end(), hello.key_share_group) != supported.end();
    // An HRR must ask for a group the client supports but sent no key for (RFC 8446 4.2.8).
    if (hello.hello_retry_request ? (!supported_group || shared_group) : !shared_group) {
      return absl::StrCat("the server chose group ", GroupName(hello.key_share_group),
                          hello.hello_retry_request ? " in a HelloRetryRequest" : "",
                          ", which the offer does not allow there");
    }
    return "";
  }
  if (hello.random.size() == 32) {
    const absl::string_view tail = absl::string_view(hello.random).substr(24);
    const bool offered_more =
        plan_.tls13 ||
        (version < static_cast<uint16_t>(TlsVersion::kTls1_2) && plan_.Offers(TlsVersion::kTls1_2));
    if (offered_more && (tail == kDowngradeTls12 || tail == kDowngradeTls11)) {
      return "the server's random carries the TLS 1.3 downgrade sentinel";
    }
  }
  return "";
}

void RawHelloEngine::Chosen(const ServerAnswer& answer) {
  const ParsedServerHello& hello = answer.hello;
  int alert = kAlertIllegalParameter;
  if (std::string refusal = RefuseChoice(hello, alert); !refusal.empty()) {
    FailWithAlert(
        alert == kAlertProtocolVersion ? FailureClass::kProtocolVersion : FailureClass::kAlertSent,
        alert, std::move(refusal));
    return;
  }
  outcome_.version = static_cast<TlsVersion>(hello.version());
  outcome_.suite_code = hello.cipher_suite;
  outcome_.library_suite_name = CipherSuiteName(hello.cipher_suite);
  std::vector<std::string> details;
  if (outcome_.version == TlsVersion::kTls1_3) {
    outcome_.group = hello.key_share_group;
    if (hello.hello_retry_request) details.push_back("hrr");
  } else {
    const ServerKeyExchangeFacts& kx = answer.key_exchange;
    if (kx.curve_type == 3) outcome_.group = kx.named_group;
    if (kx.curve_type != 0 && kx.curve_type != 3) {
      details.push_back(absl::StrCat("explicit_curve=", kx.curve_type));
    }
    outcome_.dh_bits = kx.dh_prime_bits;
    if (kx.rsa_modulus_bits != 0) {
      details.push_back(absl::StrCat("rsa_export_bits=", kx.rsa_modulus_bits));
    }
    if (kx.signature_scheme != 0) {
      details.push_back(absl::StrCat("sigalg=", SignatureSchemeName(kx.signature_scheme)));
    }
    if (answer.certificate_request) details.push_back("certificate_request");
    for (const std::string& der : answer.certificates) {
      outcome_.peer_chain.push_back(DescribeCertificateWithOpenssl(der));
    }
    if (trust_ != nullptr) {
      outcome_.verification = trust_->Verify(answer.certificates, verify_name_);
    }
  }
  if (!answer.flight_complete) {
    details.push_back(
        absl::StrCat("flight=", overflow_ ? absl::StrCat("longer than ", kMaxAnswerBytes, " bytes")
                                          : answer.flight_problem));
  }
  Succeed(absl::StrJoin(details, "; "));
}

void RawHelloEngine::ChosenSslv2(const ServerAnswer& answer) {
  if (plan_.format != HelloFormat::kSslv2) {
    Fail(FailureClass::kNotTls, "the server answered a TLS hello in SSLv2");
    return;
  }
  const Sslv2ServerHello& hello = answer.sslv2_hello;
  // In SSLv2 the server lists what it has and the client picks: our first spec it lists.
  uint32_t picked = 0;
  for (uint32_t spec : plan_.sslv2_specs) {
    if (std::find(hello.cipher_specs.begin(), hello.cipher_specs.end(), spec) !=
        hello.cipher_specs.end()) {
      picked = spec;
      break;
    }
  }
  if (picked == 0) {
    Fail(FailureClass::kNoSharedCipher, "the SSLv2 server lists no cipher spec that was offered");
    return;
  }
  outcome_.version = static_cast<TlsVersion>(kSsl2WireVersion);
  outcome_.suite_code = 0;  // SSLv2 specs are three bytes: see library_suite_name.
  outcome_.library_suite_name = Sslv2CipherSpecName(picked);
  if (hello.certificate_type == 1 && !hello.certificate.empty()) {
    outcome_.peer_chain.push_back(DescribeCertificateWithOpenssl(hello.certificate));
    if (trust_ != nullptr)
      outcome_.verification = trust_->Verify({hello.certificate}, verify_name_);
  }
  std::vector<std::string> names;
  for (uint32_t spec : hello.cipher_specs) names.push_back(Sslv2CipherSpecName(spec));
  Succeed(absl::StrCat("sslv2; sslv2_cipher_specs=", absl::StrJoin(names, ",")));
}

void RawHelloEngine::Succeed(std::string details) {
  state_ = HandshakeState::kComplete;
  outcome_.success = true;
  outcome_.failure = FailureClass::kNone;
  outcome_.library_error = kServerHelloOnly;
  if (!details.empty()) absl::StrAppend(&outcome_.library_error, "; ", details);
}

void RawHelloEngine::Fail(FailureClass failure, std::string error) {
  state_ = HandshakeState::kFailed;
  outcome_.success = false;
  outcome_.failure = failure;
  outcome_.library_error = std::move(error);
}

void RawHelloEngine::FailWithAlert(FailureClass failure, int alert, std::string error) {
  outcome_.alert_code = alert;
  outcome_.alert_sent = true;
  Fail(failure, std::move(error));
  if (plan_.format == HelloFormat::kSslv2 && plan_.versions.empty()) return;  // No TLS to speak.
  const uint16_t record_version =
      plan_.record_version != 0 ? plan_.record_version : static_cast<uint16_t>(TlsVersion::kTls1_0);
  const char record[] = {21,
                         static_cast<char>(record_version >> 8),
                         static_cast<char>(record_version & 0xff),
                         0,
                         2,
                         2,  // fatal
                         static_cast<char>(alert)};
  output_.append(record, sizeof(record));
}

}  // namespace tlsweep::backends::rawhello
