#include "backends/rawhello/server_answer.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/cipher_suite_table.h"
#include "backends/handshake_outcome.h"
#include "backends/rawhello/byte_reader.h"
#include "backends/tls_record.h"

namespace tlsweep::backends::rawhello {
namespace {

constexpr uint8_t kContentChangeCipherSpec = 20;
constexpr uint8_t kContentAlert = 21;
constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kContentApplicationData = 23;
constexpr uint8_t kContentHeartbeat = 24;
// RFC 5246 6.2.3: a TLSCiphertext may exceed 2^14 by up to 2048 bytes; nothing larger is TLS.
constexpr size_t kMaxRecordPayload = 16384 + 2048;

constexpr uint8_t kHelloRequest = 0;
constexpr uint8_t kServerHello = 2;
constexpr uint8_t kCertificate = 11;
constexpr uint8_t kServerKeyExchange = 12;
constexpr uint8_t kCertificateRequest = 13;
constexpr uint8_t kServerHelloDone = 14;
constexpr uint8_t kCertificateStatus = 22;

constexpr uint16_t kExtSupportedVersions = 43;
constexpr uint16_t kExtKeyShare = 51;
constexpr uint16_t kTls13 = 0x0304;
constexpr uint16_t kTls12 = 0x0303;

constexpr uint8_t kSslv2Error = 0;
constexpr uint8_t kSslv2ServerHello = 4;

// SHA-256("HelloRetryRequest"), the ServerHello.random that marks an HRR (RFC 8446 4.1.3).
constexpr std::array<uint8_t, 32> kHelloRetryRandom = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

ServerAnswer Make(ServerAnswer::Kind kind, std::string detail) {
  ServerAnswer answer;
  answer.kind = kind;
  answer.detail = std::move(detail);
  return answer;
}

// The bit length of a big-endian unsigned integer.
uint32_t BitLength(absl::string_view number) {
  size_t at = 0;
  while (at < number.size() && number[at] == '\0') ++at;
  if (at == number.size()) return 0;
  uint32_t bits = static_cast<uint32_t>(number.size() - at - 1) * 8;
  for (auto top = static_cast<uint8_t>(number[at]); top != 0; top >>= 1) ++bits;
  return bits;
}

bool ParseServerHello(absl::string_view body, ParsedServerHello& hello) {
  ByteReader reader(body);
  absl::string_view random, session_id, extensions;
  if (!reader.U16(hello.legacy_version) || !reader.Bytes(32, random) ||
      !reader.Vector8(session_id) || session_id.size() > 32 || !reader.U16(hello.cipher_suite) ||
      !reader.U8(hello.compression)) {
    return false;
  }
  hello.random = std::string(random);
  hello.hello_retry_request =
      random == absl::string_view(reinterpret_cast<const char*>(kHelloRetryRandom.data()), 32);
  if (reader.empty()) return true;  // SSLv3 and early TLS servers may send no extensions.
  if (!reader.Vector16(extensions) || !reader.empty()) return false;
  ByteReader ext_reader(extensions);
  while (!ext_reader.empty()) {
    uint16_t type;
    absl::string_view data;
    if (!ext_reader.U16(type) || !ext_reader.Vector16(data)) return false;
    hello.extensions.push_back(type);
    ByteReader ext(data);
    if (type == kExtSupportedVersions) {
      if (!ext.U16(hello.selected_version) || !ext.empty()) return false;
    } else if (type == kExtKeyShare) {
      // A HelloRetryRequest names a group; a ServerHello names its group and key.
      if (!ext.U16(hello.key_share_group)) return false;
      absl::string_view key;
      if (!hello.hello_retry_request && (!ext.Vector16(key) || key.empty())) return false;
      if (!ext.empty()) return false;
    }
  }
  return true;
}

bool ParseCertificate(absl::string_view body, std::vector<std::string>& certificates) {
  ByteReader reader(body);
  absl::string_view list;
  if (!reader.Vector24(list) || !reader.empty()) return false;
  ByteReader items(list);
  while (!items.empty()) {
    absl::string_view der;
    if (!items.Vector24(der) || der.empty()) return false;
    certificates.emplace_back(der);
  }
  return true;
}

bool ReadDhParams(ByteReader& reader, ServerKeyExchangeFacts& facts) {
  absl::string_view p, g, ys;
  if (!reader.Vector16(p) || !reader.Vector16(g) || !reader.Vector16(ys)) return false;
  facts.dh_prime_bits = BitLength(p);
  return !p.empty() && !g.empty() && !ys.empty();
}

// Explicit curves carry their whole definition; only named curves are read further.
bool ReadEcParams(ByteReader& reader, ServerKeyExchangeFacts& facts, bool& readable) {
  if (!reader.U8(facts.curve_type)) return false;
  if (facts.curve_type != 3) {
    readable = false;
    return true;
  }
  absl::string_view point;
  return reader.U16(facts.named_group) && reader.Vector8(point) && !point.empty();
}

// The layout of the parameters depends on the key exchange of the suite the server chose.
bool ParseServerKeyExchange(absl::string_view body, uint16_t version, uint16_t suite_code,
                            ServerKeyExchangeFacts& facts) {
  facts.present = true;
  const CipherSuiteInfo* suite = FindCipherSuite(suite_code);
  if (suite == nullptr) return true;  // Unknown layout: present, nothing more to say.
  const absl::string_view kx = suite->key_exchange;
  ByteReader reader(body);
  bool readable = true;
  bool signable = true;
  absl::string_view hint;
  if (kx == "ECDH") {
    if (!ReadEcParams(reader, facts, readable)) return false;
  } else if (kx == "DH" || kx == "DH(512)" || kx == "DH(1024)") {
    if (!ReadDhParams(reader, facts)) return false;
  } else if (kx == "RSA(512)" || kx == "RSA(1024)") {
    absl::string_view modulus, exponent;
    if (!reader.Vector16(modulus) || !reader.Vector16(exponent)) return false;
    facts.rsa_modulus_bits = BitLength(modulus);
  } else if (kx == "SRP") {
    absl::string_view n, g, s, b;
    if (!reader.Vector16(n) || !reader.Vector16(g) || !reader.Vector8(s) || !reader.Vector16(b)) {
      return false;
    }
  } else if (kx == "DHEPSK") {
    if (!reader.Vector16(hint) || !ReadDhParams(reader, facts)) return false;
    signable = false;
  } else if (kx == "ECDHEPSK") {
    if (!reader.Vector16(hint) || !ReadEcParams(reader, facts, readable)) return false;
    signable = false;
  } else if (kx == "PSK" || kx == "RSAPSK") {
    return reader.Vector16(hint) && reader.empty();
  } else {
    return true;  // GOST, KRB5, CECPQ1...: present, not read.
  }
  if (!readable) return true;
  const absl::string_view auth = suite->authentication;
  if (!signable || !(auth == "RSA" || auth == "DSS" || auth == "ECDSA")) return reader.empty();
  facts.signed_params = true;
  if (version >= kTls12 && !reader.U16(facts.signature_scheme)) return false;
  absl::string_view signature;
  return reader.Vector16(signature) && reader.empty();
}

// An SSLv2 record with a 2-byte header (high bit set). 3-byte headers carry padding for block
// ciphers, which a SERVER-HELLO never needs.
ServerAnswer ReadSslv2(absl::string_view received, bool eof) {
  if (received.size() < 2) {
    return eof ? Make(ServerAnswer::Kind::kClosed, "end of stream inside an SSLv2 header")
               : ServerAnswer{};
  }
  const size_t length = (static_cast<size_t>(static_cast<uint8_t>(received[0]) & 0x7F) << 8) |
                        static_cast<uint8_t>(received[1]);
  if (received.size() < 2 + length) {
    return eof ? Make(ServerAnswer::Kind::kClosed, "end of stream inside an SSLv2 record")
               : ServerAnswer{};
  }
  ByteReader reader(received.substr(2, length));
  uint8_t type;
  if (!reader.U8(type)) return Make(ServerAnswer::Kind::kNotTls, "empty SSLv2 record");
  if (type == kSslv2Error) {
    ServerAnswer answer = Make(ServerAnswer::Kind::kSslv2Error, "");
    if (!reader.U16(answer.sslv2_error)) {
      return Make(ServerAnswer::Kind::kNotTls, "short SSLv2 ERROR message");
    }
    answer.detail = absl::StrCat("SSLv2 error ", answer.sslv2_error);
    return answer;
  }
  if (type != kSslv2ServerHello) {
    return Make(ServerAnswer::Kind::kNotTls,
                absl::StrCat("SSLv2 message type ", type, " where SERVER-HELLO was expected"));
  }
  ServerAnswer answer = Make(ServerAnswer::Kind::kChosen, "");
  Sslv2ServerHello& hello = answer.sslv2_hello;
  uint8_t hit;
  uint16_t certificate_length, specs_length, connection_id_length;
  absl::string_view certificate, specs, connection_id;
  if (!reader.U8(hit) || !reader.U8(hello.certificate_type) || !reader.U16(hello.version) ||
      !reader.U16(certificate_length) || !reader.U16(specs_length) ||
      !reader.U16(connection_id_length) || !reader.Bytes(certificate_length, certificate) ||
      !reader.Bytes(specs_length, specs) || !reader.Bytes(connection_id_length, connection_id) ||
      specs_length % 3 != 0) {
    return Make(ServerAnswer::Kind::kNotTls, "malformed SSLv2 SERVER-HELLO");
  }
  hello.session_id_hit = hit != 0;
  hello.certificate = std::string(certificate);
  for (ByteReader items(specs); !items.empty();) {
    uint8_t high;
    uint16_t low;
    if (!items.U8(high) || !items.U16(low)) break;
    hello.cipher_specs.push_back(static_cast<uint32_t>(high) << 16 | low);
  }
  answer.sslv2 = true;
  answer.flight_complete = true;
  return answer;
}

}  // namespace

ServerAnswer ServerAnswerReader::Read(absl::string_view received, bool eof) {
  if (decided_.has_value()) return *decided_;
  if (received.empty()) {
    if (!eof) return ServerAnswer{};
    return Decide(Make(ServerAnswer::Kind::kClosed, "the server closed the connection"));
  }
  if (records_end_ == 0) {
    // An SSLv2 answer is one record, read whole when it is all there: no state to keep.
    if ((static_cast<uint8_t>(received[0]) & 0x80) != 0) {
      ServerAnswer answer = ReadSslv2(received, eof);
      return answer.kind == ServerAnswer::Kind::kNeedMore ? answer : Decide(std::move(answer));
    }
    if (!MayBeTlsRecord(received)) {
      return Decide(Make(ServerAnswer::Kind::kNotTls, "the server's answer is not TLS"));
    }
  }
  ServerAnswer answer = ReadTls(received, eof);
  return answer.kind == ServerAnswer::Kind::kNeedMore ? answer : Decide(std::move(answer));
}

ServerAnswer ServerAnswerReader::Decide(ServerAnswer answer) {
  decided_ = answer;
  return answer;
}

// Reads the TLS records not read yet, in order; returns at the first decisive point.
ServerAnswer ServerAnswerReader::ReadTls(absl::string_view received, bool eof) {
  absl::string_view rest = received.substr(std::min(records_end_, received.size()));
  while (rest.size() >= 5) {
    const auto type = static_cast<uint8_t>(rest[0]);
    const size_t length =
        static_cast<size_t>(static_cast<uint8_t>(rest[3])) << 8 | static_cast<uint8_t>(rest[4]);
    if (static_cast<uint8_t>(rest[1]) != 3 || type < kContentChangeCipherSpec ||
        type > kContentHeartbeat) {
      return Broken(ServerAnswer::Kind::kNotTls, "bytes that are not a TLS record");
    }
    if (length > kMaxRecordPayload) {
      return Broken(ServerAnswer::Kind::kMalformed, absl::StrCat("record of ", length, " bytes"));
    }
    if (rest.size() < 5 + length) break;
    const absl::string_view payload = rest.substr(5, length);
    rest.remove_prefix(5 + length);
    records_end_ += 5 + length;
    if (std::optional<ServerAnswer> decided = Record(type, payload); decided.has_value()) {
      return *std::move(decided);
    }
  }
  if (!eof) return ServerAnswer{};
  if (hello_seen_) return Cut("the server closed the connection");
  return Make(ServerAnswer::Kind::kClosed, rest.empty()
                                               ? "the server closed the connection"
                                               : "the server closed the connection mid-record");
}

std::optional<ServerAnswer> ServerAnswerReader::Record(uint8_t type, absl::string_view payload) {
  switch (type) {
    case kContentHandshake:
      handshake_.append(payload.data(), payload.size());
      return Messages();
    case kContentAlert:
      return Alerts(payload);
    case kContentChangeCipherSpec:
    case kContentHeartbeat:
      if (hello_seen_) return std::nullopt;
      return Broken(ServerAnswer::Kind::kMalformed,
                    absl::StrCat("record type ", type, " before the ServerHello"));
    case kContentApplicationData:
    default:
      return Broken(ServerAnswer::Kind::kMalformed,
                    absl::StrCat("record type ", type,
                                 hello_seen_ ? " in the first flight" : " before the ServerHello"));
  }
}

std::optional<ServerAnswer> ServerAnswerReader::Alerts(absl::string_view payload) {
  if (payload.empty() || payload.size() % 2 != 0) {
    return Broken(ServerAnswer::Kind::kMalformed, "malformed alert record");
  }
  for (size_t at = 0; at < payload.size(); at += 2) {
    const auto level = static_cast<uint8_t>(payload[at]);
    const auto code = static_cast<uint8_t>(payload[at + 1]);
    // Warnings (unrecognized_name from an SNI-aware server...) do not end the handshake;
    // close_notify does, whatever its level.
    if (level != 2 && code != 0) continue;
    if (hello_seen_) {
      answer_.late_alert = code;
      return Cut(absl::StrCat("alert ", AlertName(code), " after the ServerHello"));
    }
    if (code == 0) return Make(ServerAnswer::Kind::kClosed, "close_notify before ServerHello");
    ServerAnswer answer = Make(ServerAnswer::Kind::kAlert, absl::StrCat("alert ", AlertName(code)));
    answer.alert_code = code;
    return answer;
  }
  return std::nullopt;
}

std::optional<ServerAnswer> ServerAnswerReader::Messages() {
  while (handshake_.size() - messages_end_ >= 4) {
    const absl::string_view header = absl::string_view(handshake_).substr(messages_end_, 4);
    const size_t length = static_cast<size_t>(static_cast<uint8_t>(header[1])) << 16 |
                          static_cast<size_t>(static_cast<uint8_t>(header[2])) << 8 |
                          static_cast<uint8_t>(header[3]);
    if (handshake_.size() - messages_end_ - 4 < length) return std::nullopt;
    const auto type = static_cast<uint8_t>(header[0]);
    const absl::string_view body = absl::string_view(handshake_).substr(messages_end_ + 4, length);
    messages_end_ += 4 + length;
    if (std::optional<ServerAnswer> decided = Message(type, body); decided.has_value()) {
      return decided;
    }
  }
  return std::nullopt;
}

std::optional<ServerAnswer> ServerAnswerReader::Message(uint8_t type, absl::string_view body) {
  if (type == kHelloRequest) return std::nullopt;  // Meaningless here (RFC 5246 7.4.1.1).
  if (!hello_seen_) {
    if (type != kServerHello) {
      return Broken(ServerAnswer::Kind::kMalformed,
                    absl::StrCat("handshake message ", type, " where ServerHello was expected"));
    }
    if (!ParseServerHello(body, answer_.hello)) {
      return Broken(ServerAnswer::Kind::kMalformed, "malformed ServerHello");
    }
    hello_seen_ = true;
    answer_.kind = ServerAnswer::Kind::kChosen;
    // TLS 1.3: what follows is encrypted; an HRR ends the server's turn.
    if (answer_.hello.version() == kTls13 || answer_.hello.hello_retry_request) return Done();
    return std::nullopt;
  }
  switch (type) {
    case kCertificate:
      if (!answer_.certificates.empty() || !ParseCertificate(body, answer_.certificates)) {
        return Cut("malformed or repeated Certificate");
      }
      return std::nullopt;
    case kCertificateStatus:
      return std::nullopt;
    case kServerKeyExchange:
      if (answer_.key_exchange.present ||
          !ParseServerKeyExchange(body, answer_.hello.version(), answer_.hello.cipher_suite,
                                  answer_.key_exchange)) {
        return Cut("malformed or repeated ServerKeyExchange");
      }
      return std::nullopt;
    case kCertificateRequest:
      answer_.certificate_request = true;
      return std::nullopt;
    case kServerHelloDone:
      return Done();
    default:
      return Cut(absl::StrCat("unexpected handshake message ", type, " after the ServerHello"));
  }
}

ServerAnswer ServerAnswerReader::Done() {
  answer_.flight_complete = true;
  return answer_;
}

// The server chose, but the rest of its flight did not arrive whole.
ServerAnswer ServerAnswerReader::Cut(std::string problem) {
  answer_.flight_complete = false;
  answer_.flight_problem = std::move(problem);
  return answer_;
}

// A failure before the choice, or a record layer that stopped being TLS.
ServerAnswer ServerAnswerReader::Broken(ServerAnswer::Kind kind, std::string detail) {
  if (hello_seen_) return Cut(std::move(detail));
  return Make(kind, std::move(detail));
}

ServerAnswer ReadServerAnswer(absl::string_view received, bool eof) {
  return ServerAnswerReader().Read(received, eof);
}

}  // namespace tlsweep::backends::rawhello
