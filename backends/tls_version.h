// Protocol versions as they appear on the wire, and their names as OpenSSL and Postfix write them.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends {

enum class TlsVersion : uint16_t {
  kUnknown = 0,
  kSsl3 = 0x0300,
  kTls1_0 = 0x0301,
  kTls1_1 = 0x0302,
  kTls1_2 = 0x0303,
  kTls1_3 = 0x0304,
};

// Every version from oldest to newest, kUnknown excluded.
const std::vector<TlsVersion>& AllTlsVersions();

// "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3"; "unknown" otherwise.
absl::string_view TlsVersionName(TlsVersion version);

// Accepts the OpenSSL/Postfix spellings ("TLSv1", "TLSv1.0", "TLSv1.2") and the bare numbers
// ("1.0", "1.2"), case-insensitively.
absl::StatusOr<TlsVersion> ParseTlsVersion(absl::string_view text);

inline bool operator<(TlsVersion a, TlsVersion b) {
  return static_cast<uint16_t>(a) < static_cast<uint16_t>(b);
}
inline bool operator<=(TlsVersion a, TlsVersion b) { return !(b < a); }

}  // namespace tlsweep::backends
