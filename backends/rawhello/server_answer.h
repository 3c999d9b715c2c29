// Reads a server's answer to a raw ClientHello, up to the point where the server has chosen:
// for TLS 1.3 the ServerHello (or HelloRetryRequest); for SSLv3 to TLS 1.2 the whole first flight
// up to ServerHelloDone, so that Certificate and ServerKeyExchange (the curve, the DH prime, the
// signature scheme) are read too; for SSLv2 the SERVER-HELLO. A decision never depends on how the
// bytes were cut into reads (the fuzz target checks this). Nothing here decrypts, verifies a
// signature or computes a key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello {

struct ParsedServerHello {
  uint16_t legacy_version = 0;
  uint16_t selected_version = 0;  // supported_versions; 0 when absent.
  std::string random;             // 32 bytes.
  uint16_t cipher_suite = 0;
  uint8_t compression = 0;
  bool hello_retry_request = false;
  uint16_t key_share_group = 0;  // ServerHello key_share, or a HelloRetryRequest's selected_group.
  std::vector<uint16_t> extensions;  // Extension types, in the server's order.

  // The version the server chose: supported_versions wins over legacy_version.
  uint16_t version() const { return selected_version != 0 ? selected_version : legacy_version; }
};

// What a TLS <= 1.2 ServerKeyExchange says, as far as the chosen suite's key exchange lets it be
// read.
struct ServerKeyExchangeFacts {
  bool present = false;
  uint8_t curve_type = 0;         // ECDHE: 3 named_curve; 1 and 2 explicit curves.
  uint16_t named_group = 0;       // ECDHE with a named curve.
  uint32_t dh_prime_bits = 0;     // DHE: the size of p.
  uint32_t rsa_modulus_bits = 0;  // RSA_EXPORT: the temporary key.
  uint16_t signature_scheme = 0;  // TLS 1.2 signed parameters; 0 below TLS 1.2 or unsigned.
  bool signed_params = false;
};

struct Sslv2ServerHello {
  bool session_id_hit = false;
  uint8_t certificate_type = 0;        // 1: X.509.
  uint16_t version = 0;                // 0x0002.
  std::string certificate;             // DER.
  std::vector<uint32_t> cipher_specs;  // The server's list; in SSLv2 the client picks.
};

struct ServerAnswer {
  enum class Kind {
    kNeedMore,    // Nothing decisive yet.
    kChosen,      // The server chose: `hello` (TLS) or `sslv2_hello`.
    kAlert,       // A fatal alert before the ServerHello: `alert_code`.
    kSslv2Error,  // An SSLv2 ERROR message: `sslv2_error`.
    kClosed,      // The stream ended (or close_notify) before the ServerHello.
    kNotTls,      // Neither TLS records nor an SSLv2 answer: `detail`.
    kMalformed,   // TLS records whose content breaks the protocol before the choice: `detail`.
  };
  Kind kind = Kind::kNeedMore;
  std::string detail;

  // kChosen.
  bool sslv2 = false;
  ParsedServerHello hello;
  Sslv2ServerHello sslv2_hello;
  // TLS 1.3, a HelloRetryRequest, SSLv2, or ServerHelloDone seen. False: the flight after the
  // ServerHello was cut short (end of stream, an alert, a malformed or unexpected message);
  // `flight_problem` says how, and what came before it is kept.
  bool flight_complete = false;
  std::string flight_problem;
  int late_alert = -1;                    // A fatal alert after the ServerHello.
  std::vector<std::string> certificates;  // Certificate message, DER, leaf first.
  ServerKeyExchangeFacts key_exchange;
  bool certificate_request = false;

  int alert_code = -1;       // kAlert.
  uint16_t sslv2_error = 0;  // kSslv2Error.
};

// Reads the answer as it arrives. Each call gets every byte received so far (what the previous
// call got, and then some) and resumes where that call stopped, so a server that sends its flight
// a byte at a time costs linear time, not quadratic. `eof`: nothing more will come. Once an
// answer is decisive (not kNeedMore) it never changes; it is never kNeedMore when `eof`.
class ServerAnswerReader {
 public:
  ServerAnswer Read(absl::string_view received, bool eof);

 private:
  ServerAnswer Decide(ServerAnswer answer);
  ServerAnswer ReadTls(absl::string_view received, bool eof);
  std::optional<ServerAnswer> Record(uint8_t type, absl::string_view payload);
  std::optional<ServerAnswer> Alerts(absl::string_view payload);
  std::optional<ServerAnswer> Messages();
  std::optional<ServerAnswer> Message(uint8_t type, absl::string_view body);
  ServerAnswer Done();
  ServerAnswer Cut(std::string problem);
  ServerAnswer Broken(ServerAnswer::Kind kind, std::string detail);

  size_t records_end_ = 0;   // Bytes of `received` read as whole TLS records.
  std::string handshake_;    // Handshake-record payloads, concatenated.
  size_t messages_end_ = 0;  // Bytes of `handshake_` read as whole messages.
  bool hello_seen_ = false;
  ServerAnswer answer_;  // Built up once the ServerHello is in.
  std::optional<ServerAnswer> decided_;
};

// The one-shot form, for tests and fuzzing: ServerAnswerReader().Read(received, eof).
ServerAnswer ReadServerAnswer(absl::string_view received, bool eof);

}  // namespace tlsweep::backends::rawhello
