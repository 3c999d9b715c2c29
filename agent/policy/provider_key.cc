#include "agent/policy/provider_key.h"

#include <libpsl.h>

#include <optional>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "asio/ip/address.hpp"

namespace tlsweep::agent {
namespace {

struct PublicSuffixList {
  const psl_ctx_t* context = nullptr;
  std::string source;
};

// Loaded once and never freed: the context is read-only after loading (libpsl's lookups are
// then safe from any thread), and freeing it at exit could race with threads still scanning.
const PublicSuffixList& List() {
  static const PublicSuffixList* const list = [] {
    auto* loaded = new PublicSuffixList;
    // psl_latest(NULL) picks the newer of the distribution file and the built-in data.
    psl_ctx_t* latest = psl_latest(nullptr);
    if (latest != nullptr) {
      loaded->context = latest;
      const char* dist_file = psl_dist_filename();
      loaded->source = dist_file != nullptr && *dist_file != '\0'
                           ? absl::StrCat("latest of ", dist_file, " and built-in")
                           : "built-in";
    } else if (const psl_ctx_t* builtin = psl_builtin(); builtin != nullptr) {
      loaded->context = builtin;
      loaded->source = "built-in";
    } else {
      loaded->source = "none";
    }
    return loaded;
  }();
  return *list;
}

std::optional<std::string> LiteralAddress(absl::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::error_code error;
  const asio::ip::address address = asio::ip::make_address(std::string(host), error);
  if (error) return std::nullopt;
  return address.to_string();
}

bool IsIcannSuffix(const psl_ctx_t* context, const std::string& suffix) {
  return psl_is_public_suffix2(context, suffix.c_str(), PSL_TYPE_ICANN) != 0;
}

}  // namespace

std::string ProviderKey(absl::string_view host) {
  host = absl::StripAsciiWhitespace(host);
  if (std::optional<std::string> literal = LiteralAddress(host)) return *literal;
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::string name = absl::AsciiStrToLower(host);
  if (name.empty()) return name;

  const psl_ctx_t* context = List().context;
  // Walk from the full name towards the root; the first (longest) suffix that is public makes
  // the registrable domain one label longer. libpsl's implicit "*" rule makes any unknown TLD
  // a public suffix, so the walk ends by the last label at the latest.
  size_t previous_start = std::string::npos;
  size_t start = 0;
  while (true) {
    const std::string suffix = name.substr(start);
    const bool is_public = context != nullptr
                               ? IsIcannSuffix(context, suffix)
                               : suffix.find('.') == std::string::npos;  // last label
    if (is_public) {
      return previous_start == std::string::npos ? name : name.substr(previous_start);
    }
    const size_t dot = name.find('.', start);
    if (dot == std::string::npos) return name;
    previous_start = start;
    start = dot + 1;
  }
}

std::string PublicSuffixListSource() { return List().source; }

}  // namespace tlsweep::agent
