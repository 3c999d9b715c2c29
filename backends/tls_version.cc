#include "backends/tls_version.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

const std::vector<TlsVersion>& AllTlsVersions() {
  static const std::vector<TlsVersion> kAll = {TlsVersion::kSsl3, TlsVersion::kTls1_0,
                                               TlsVersion::kTls1_1, TlsVersion::kTls1_2,
                                               TlsVersion::kTls1_3};
  return kAll;
}

absl::string_view TlsVersionName(TlsVersion version) {
  switch (version) {
    case TlsVersion::kSsl3:
      return "SSLv3";
    case TlsVersion::kTls1_0:
      return "TLSv1";
    case TlsVersion::kTls1_1:
      return "TLSv1.1";
    case TlsVersion::kTls1_2:
      return "TLSv1.2";
    case TlsVersion::kTls1_3:
      return "TLSv1.3";
    case TlsVersion::kUnknown:
      break;
  }
  return "unknown";
}

absl::StatusOr<TlsVersion> ParseTlsVersion(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower.rfind("tlsv", 0) == 0) {
    lower = lower.substr(4);
  } else if (lower.rfind("tls", 0) == 0) {
    lower = lower.substr(3);
  }
  if (lower == "sslv3" || lower == "ssl3") return TlsVersion::kSsl3;
  if (lower == "1" || lower == "1.0") return TlsVersion::kTls1_0;
  if (lower == "1.1") return TlsVersion::kTls1_1;
  if (lower == "1.2") return TlsVersion::kTls1_2;
  if (lower == "1.3") return TlsVersion::kTls1_3;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown TLS version '", text, "' (expected TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 or 1.0-1.3)"));
}

}  // namespace tlsweep::backends
