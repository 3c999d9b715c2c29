#include "coordinator/report/http_auth.h"

#include <sys/random.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tlsweep::coordinator::report {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string FormDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

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

std::optional<std::string> FormValue(absl::string_view form, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(form, '&')) {
    absl::string_view key = pair.substr(0, pair.find('='));
    if (FormDecode(key) != name) continue;
    return pair.size() > key.size() ? FormDecode(pair.substr(key.size() + 1)) : std::string();
  }
  return std::nullopt;
}

bool QueryHasParameter(absl::string_view target, absl::string_view name) {
  const size_t question = target.find('?');
  if (question == absl::string_view::npos) return false;
  absl::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  return FormValue(query, name).has_value();
}

}  // namespace tlsweep::coordinator::report
