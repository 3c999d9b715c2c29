// One table of IANA cipher suites, so that OpenSSL and GnuTLS results compare by code point.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "absl/strings/string_view.h"
#include "backends/tls_version.h"

namespace tlsweep::backends {

struct CipherSuiteInfo {
  uint16_t code_point;
  absl::string_view iana_name;     // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".
  absl::string_view openssl_name;  // "ECDHE-RSA-AES128-GCM-SHA256"; empty if OpenSSL has none.
  TlsVersion min_version;          // The oldest version the suite is defined for.
  absl::string_view key_exchange;  // "ECDH", "RSA", "DH", "any" (TLS 1.3)...
  absl::string_view authentication;
  absl::string_view encryption;  // "AESGCM(128)", "3DES(168)", "RC4(128)"...
  absl::string_view mac;
};

std::span<const CipherSuiteInfo> AllCipherSuites();

// nullptr when the code point is not in the table.
const CipherSuiteInfo* FindCipherSuite(uint16_t code_point);
const CipherSuiteInfo* FindCipherSuiteByIanaName(absl::string_view iana_name);

// The IANA name, or "0xNNNN" for a code point outside the table.
std::string CipherSuiteName(uint16_t code_point);

// TLS 1.3 suites (0x13xx) are negotiated only in TLS 1.3 and never below it.
inline bool IsTls13Suite(uint16_t code_point) { return (code_point >> 8) == 0x13; }

}  // namespace tlsweep::backends
