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

bool DnsNameMatches(absl::string_view pattern_in, const std::string& host) {
  const std::string pattern = Normalise(pattern_in);
  if (pattern.empty() || host.empty()) return false;
  if (!absl::StartsWith(pattern, "*.")) return pattern == host;
  // The wildcard stands for exactly one non-empty label, and the rest must have two labels
  // at least (no "*.com").
  const absl::string_view suffix = absl::string_view(pattern).substr(1);  // ".example.com"
  if (absl::string_view(suffix).substr(1).find('.') == absl::string_view::npos) return false;
  if (!absl::EndsWith(host, suffix)) return false;
  const absl::string_view label = absl::string_view(host).substr(0, host.size() - suffix.size());
  return !label.empty() && label.find('.') == absl::string_view::npos;
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
