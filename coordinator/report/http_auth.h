// Who may read the report pages: the API's bearer token, sent either as
// `Authorization: Bearer TOKEN` (scripts, curl) or, for a browser, as a session: POST /login
// checks the token once (from the form body) and hands out a random session id in a cookie.
// The token never travels in a URL (URLs end up in proxy and access logs, browser history and
// Referer headers), and never in a cookie (cookies go to every port of the host name).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tlsweep::coordinator::report {

inline constexpr absl::string_view kSessionCookie = "tlsweep_session";

// Sessions of signed-in browsers, in memory: a coordinator restart signs everyone out.
class BrowserSessions {
 public:
  explicit BrowserSessions(absl::Duration lifetime = absl::Hours(12), size_t max_sessions = 10000)
      : lifetime_(lifetime), max_sessions_(max_sessions) {}

  // A new session id (256 random bits, hex).
  std::string Open();
  bool Valid(absl::string_view id);
  void Close(absl::string_view id);
  absl::Duration lifetime() const { return lifetime_; }

 private:
  const absl::Duration lifetime_;
  const size_t max_sessions_;
  std::mutex mutex_;
  absl::flat_hash_map<std::string, absl::Time> expiry_;
};

// Set-Cookie values: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
// it), for the whole server, gone after `lifetime`; and the one that forgets it.
std::string SessionCookieHeader(absl::string_view session_id, absl::Duration lifetime);
std::string ClearedSessionCookieHeader();

// The session id in a Cookie request header, if any.
std::optional<std::string> SessionFromCookies(absl::string_view cookie_header);

// The value of `name` in an application/x-www-form-urlencoded body (or a query string).
std::optional<std::string> FormValue(absl::string_view form, absl::string_view name);

// True when the request target ("/path?a=1&token=x") has a query parameter `name`.
bool QueryHasParameter(absl::string_view target, absl::string_view name);

}  // namespace tlsweep::coordinator::report
