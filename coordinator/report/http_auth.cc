#include "coordinator/report/http_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tlsweep::coordinator::report {

// Hex keeps any token byte inside the cookie-octet set.
std::string SessionCookieHeader(absl::string_view token) {
  return absl::StrCat(kSessionCookie, "=", absl::BytesToHexString(token),
                      "; Path=/; HttpOnly; SameSite=Strict");
}

std::string ClearedSessionCookieHeader() {
  return absl::StrCat(kSessionCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

std::optional<std::string> TokenFromCookies(absl::string_view cookie_header) {
  for (absl::string_view cookie : absl::StrSplit(cookie_header, ';')) {
    cookie = absl::StripAsciiWhitespace(cookie);
    if (!absl::ConsumePrefix(&cookie, kSessionCookie) || !absl::ConsumePrefix(&cookie, "=")) {
      continue;
    }
    if (cookie.empty() || cookie.size() % 2 != 0) return std::nullopt;
    for (char c : cookie) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    return absl::HexStringToBytes(cookie);
  }
  return std::nullopt;
}

}  // namespace tlsweep::coordinator::report
