// The cipher-selection language of the rawhello backend. It reads the OpenSSL fields of
// CipherSpec (tls_config.h), but as explicit lists, never as OpenSSL's rule language: the point
// of a raw backend is to put on the wire exactly the code points asked for, in the order asked
// for, whatever any library still implements.
//
// A list is tokens separated by ':', ',' or white space, each one of:
//   TLS_RSA_WITH_RC4_128_SHA   an IANA name from backends/cipher_suite_table.h
//   RC4-SHA                    the OpenSSL name of a suite in that table (also the names
//                              OpenSSL 3 has dropped: EXP-RC4-MD5, DES-CBC3-SHA, ...)
//   0x0005                     any 16-bit code point, in the table or not (4 hex digits)
//   SSL_CK_RC4_128_WITH_MD5    an SSLv2 cipher spec (sslv2_cipher_specs.h), or 0x010080 (6 hex
//                              digits); any SSLv2 spec makes the hello an SSLv2-format one
//   ALL                        every suite of the table for that field (see below), table order
//   SSLv2                      every SSLv2 cipher spec
//   TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV   the signalling values, where written
// Names and keywords are case-insensitive. Rule syntax (!x, -x, +x, @STRENGTH, HIGH, DEFAULT,
// COMPLEMENTOFALL...) is refused with an error that says so. A code point listed twice keeps its
// first place.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello {

// Which CipherSpec field a list comes from: `ALL` means every TLS <= 1.2 suite of the table in
// openssl_ciphers (TLS_NULL_WITH_NULL_NULL excepted), every TLS 1.3 suite in
// openssl_ciphersuites. Otherwise both fields take the same tokens.
enum class CipherField { kCiphers, kCiphersuites };

struct CipherList {
  std::vector<uint16_t> suites;       // TLS code points (SCSVs included where written).
  std::vector<uint32_t> sslv2_specs;  // SSLv2 cipher specs.
};

absl::StatusOr<CipherList> ParseCipherList(absl::string_view text, CipherField field);

// Used when openssl_ciphersuites is empty: OpenSSL 3.0's default order, then the two CCM suites
// it leaves out by default.
const std::vector<uint16_t>& DefaultTls13Suites();

inline constexpr uint16_t kRenegotiationScsv = 0x00FF;
inline constexpr uint16_t kFallbackScsv = 0x5600;
inline bool IsScsv(uint16_t code) { return code == kRenegotiationScsv || code == kFallbackScsv; }

}  // namespace tlsweep::backends::rawhello
