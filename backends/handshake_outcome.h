// The structured result of one handshake, as a plugin reports it. Names for code points (IANA
// suite and group names) are added by the host from the shared tables; each plugin reads the
// peer's certificates with its own library (the host links no TLS library) and spells what they
// say the same way, so that both backends' results compare directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "backends/tls_version.h"

namespace tlsweep::backends {

// Why a handshake failed. Classes describe what was seen on the wire, the same way for every
// backend; the library's own words go to HandshakeOutcome::library_error.
enum class FailureClass {
  kNone = 0,         // The handshake completed.
  kAlertReceived,    // The peer sent a fatal alert not covered by a class below.
  kAlertSent,        // This side aborted and told the peer so (bad certificate, bad message...).
  kNoSharedCipher,   // No suite (or group) in common: handshake_failure before ServerHello.
  kProtocolVersion,  // No protocol version in common, whichever side noticed.
  kUnexpectedEof,    // The transport closed before the handshake completed.
  kNotTls,           // The peer's bytes are not TLS records at all.
  kTimeout,          // Set by the caller that owns the timers; engines never report it.
  kInternalError,    // The library failed for a local reason (configuration, memory...).
};

absl::string_view FailureClassName(FailureClass failure);

struct Verification {
  bool performed = false;       // A CA bundle was configured.
  bool trusted = false;         // The chain leads to the bundle and every certificate is valid.
  bool hostname_match = false;  // The leaf names the verify name (RFC 6125 rules).
  bool expired = false;         // The leaf's notAfter is in the past.
  std::string error;            // The library's reason when not trusted.
};

// One certificate as the peer sent it, and what it says. Names are RFC 4514 strings, IP
// addresses text (inet_ntop), the signature algorithm OpenSSL's long name for its OID
// (signature_algorithm_names.h), the key type "RSA", "RSA-PSS", "EC", "DSA", "ED25519" or
// "ED448".
struct CertificateFacts {
  std::string der;
  bool parsed = false;  // False: not valid DER, only `der` is set.
  std::string subject;
  std::string issuer;
  int64_t not_before_unix = 0;
  int64_t not_after_unix = 0;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::string key_type;
  uint32_t key_bits = 0;
  std::string signature_algorithm;
  std::string sha256_hex;  // Of `der`, lower-case hex.
};

struct HandshakeOutcome {
  bool success = false;
  TlsVersion version = TlsVersion::kUnknown;
  uint16_t suite_code = 0;         // IANA code point, e.g. 0x1301.
  std::string library_suite_name;  // The library's own name, e.g. "TLS_AES_128_GCM_SHA256".
  uint16_t group = 0;              // IANA supported-group id; 0 when none was used (RSA kx).
  // Client side, TLS <= 1.2 finite-field DHE: the bits of the server's prime; 0 otherwise.
  uint32_t dh_bits = 0;
  std::vector<CertificateFacts> peer_chain;  // As sent by the peer, leaf first.
  Verification verification;

  FailureClass failure = FailureClass::kNone;
  int alert_code = -1;  // The fatal alert received or sent, if any (RFC 8446 codes).
  bool alert_sent = false;
  std::string library_error;
};

// RFC 8446 / RFC 5246 alert description names ("handshake_failure"); "unknown(N)" otherwise.
std::string AlertName(int code);

}  // namespace tlsweep::backends
