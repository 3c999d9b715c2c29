// Who may read the report pages: the API's bearer token, sent either as
// `Authorization: Bearer TOKEN` (scripts, curl) or, for a browser, as a session cookie that
// POST /login sets from a form. The token never travels in a URL: URLs end up in proxy and
// access logs, browser history and Referer headers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::coordinator::report {

inline constexpr absl::string_view kSessionCookie = "tlsweep_session";

// The Set-Cookie value that lets a browser present `token`: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), for the whole server.
std::string SessionCookieHeader(absl::string_view token);
// The Set-Cookie value that forgets it.
std::string ClearedSessionCookieHeader();

// The token carried by the session cookie in a Cookie request header, if any.
std::optional<std::string> TokenFromCookies(absl::string_view cookie_header);

}  // namespace tlsweep::coordinator::report
