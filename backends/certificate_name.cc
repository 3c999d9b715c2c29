#include "backends/certificate_name.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "asio/ip/address.hpp"

namespace tlsweep::backends {
namespace {

std::string Normalise(absl::string_view name) {
  if (absl::EndsWith(name, ".")) name.remove_suffix(1);
  return absl::AsciiStrToLower(name);
}

bool WildcardCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
}

// As OpenSSL's X509_check_host with no flags, which MTAs use: one '*' in the left-most label,
// whole ("*.example.com", matching one or more characters) or partial ("mx*.example.com"),
// with at least two labels after it; what it stands for is letters, digits and hyphens within
// one label; a partial wildcard never matches an IDNA ("xn--") label.
bool DnsNameMatches(absl::string_view pattern_in, const std::string& host) {
  const std::string pattern = Normalise(pattern_in);
  if (pattern.empty() || host.empty()) return false;
  const size_t star = pattern.find('*');
  const size_t first_dot = pattern.find('.');
  const bool valid_star =
      star != std::string::npos && pattern.find('*', star + 1) == std::string::npos &&
      first_dot != std::string::npos && star < first_dot &&
      pattern.find('.', first_dot + 1) != std::string::npos && !absl::StartsWith(pattern, "xn--");
  if (!valid_star) return pattern == host;
  const absl::string_view prefix = absl::string_view(pattern).substr(0, star);
  const absl::string_view suffix = absl::string_view(pattern).substr(star + 1);
  if (host.size() < prefix.size() + suffix.size()) return false;
  if (!absl::StartsWith(host, prefix) || !absl::EndsWith(host, suffix)) return false;
  const absl::string_view matched =
      absl::string_view(host).substr(prefix.size(), host.size() - prefix.size() - suffix.size());
  const bool whole_label = prefix.empty() && absl::StartsWith(suffix, ".");
  if (whole_label && matched.empty()) return false;
  if (!whole_label && absl::StartsWith(host, "xn--")) return false;
  if (matched == "*") return true;
  for (char c : matched) {
    if (!WildcardCharacter(c)) return false;
  }
  return true;
}

// The CN of an RFC 2253 subject ("CN=mx.example.com,O=Example"); empty when there is none.
std::string CommonName(absl::string_view subject) {
  for (absl::string_view part : absl::StrSplit(subject, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::StartsWithIgnoreCase(part, "CN=")) return std::string(part.substr(3));
  }
  return "";
}

}  // namespace

bool CertificateNamesHost(const v1::CertificateSummary& leaf, absl::string_view host_in) {
  asio::error_code error;
  const asio::ip::address ip = asio::ip::make_address(std::string(host_in), error);
  if (!error) {
    for (const std::string& entry : leaf.ip_addresses()) {
      asio::error_code entry_error;
      const asio::ip::address listed = asio::ip::make_address(entry, entry_error);
      if (!entry_error && listed == ip) return true;
    }
    return false;
  }
  const std::string host = Normalise(host_in);
  for (const std::string& name : leaf.dns_names()) {
    if (DnsNameMatches(name, host)) return true;
  }
  if (leaf.dns_names_size() > 0) return false;
  const std::string common_name = CommonName(leaf.subject());
  return !common_name.empty() && DnsNameMatches(common_name, host);
}

void RecheckHostname(v1::TlsHandshake& handshake, absl::string_view host) {
  if (handshake.peer_chain_size() == 0) return;
  v1::CertificateVerification& verification = *handshake.mutable_verification();
  if (verification.verified_name().empty() || verification.verified_name() == host) return;
  verification.set_hostname_match(CertificateNamesHost(handshake.peer_chain(0), host));
  verification.set_verified_name(std::string(host));
}

}  // namespace tlsweep::backends
