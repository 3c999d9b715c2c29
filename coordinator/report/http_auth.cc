#include "coordinator/report/http_auth.h"

#include <httplib.h>
#include <sys/random.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tlsweep::coordinator::report {

std::string BrowserSessions::Open() {
  unsigned char bytes[32];
  size_t filled = 0;
  while (filled < sizeof(bytes)) {
    const ssize_t got = getrandom(bytes + filled, sizeof(bytes) - filled, 0);
    if (got > 0) filled += static_cast<size_t>(got);
  }
  std::string id = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (expiry_.size() >= max_sessions_) {
    absl::erase_if(expiry_, [now](const auto& entry) { return entry.second <= now; });
    if (expiry_.size() >= max_sessions_) expiry_.erase(expiry_.begin());
  }
  expiry_[id] = now + lifetime_;
  return id;
}

bool BrowserSessions::Valid(absl::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = expiry_.find(id);
  if (it == expiry_.end()) return false;
  if (it->second <= absl::Now()) {
    expiry_.erase(it);
    return false;
  }
  return true;
}

void BrowserSessions::Close(absl::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  expiry_.erase(id);
}

std::string SessionCookieHeader(absl::string_view session_id, absl::Duration lifetime) {
  return absl::StrCat(kSessionCookie, "=", session_id, "; Path=/; HttpOnly; SameSite=Strict; ",
                      "Max-Age=", absl::ToInt64Seconds(lifetime));
}

std::string ClearedSessionCookieHeader() {
  return absl::StrCat(kSessionCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

std::optional<std::string> SessionFromCookies(absl::string_view cookie_header) {
  for (absl::string_view cookie : absl::StrSplit(cookie_header, ';')) {
    cookie = absl::StripAsciiWhitespace(cookie);
    if (absl::ConsumePrefix(&cookie, kSessionCookie) && absl::ConsumePrefix(&cookie, "=") &&
        !cookie.empty()) {
      return std::string(cookie);
    }
  }
  return std::nullopt;
}

// cpp-httplib's own parser (the one that fills Request::params), so that the check sees a
// parameter exactly when a handler would.
std::optional<std::string> FormValue(absl::string_view form, absl::string_view name) {
  httplib::Params params;
  httplib::detail::parse_query_text(std::string(form), params);
  auto it = params.find(std::string(name));
  if (it == params.end()) return std::nullopt;
  return it->second;
}

bool QueryHasParameter(absl::string_view target, absl::string_view name) {
  const size_t question = target.find('?');
  if (question == absl::string_view::npos) return false;
  absl::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  return FormValue(query, name).has_value();
}

}  // namespace tlsweep::coordinator::report
