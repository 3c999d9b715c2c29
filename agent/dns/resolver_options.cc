#include "agent/dns/resolver_options.h"

#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tlsweep::agent {
namespace {

absl::StatusOr<asio::ip::address> ParseIp(absl::string_view text) {
  asio::error_code error;
  asio::ip::address address = asio::ip::make_address(std::string(text), error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", text));
  return address;
}

absl::StatusOr<uint16_t> ParsePort(absl::string_view text) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("not a port: ", text));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

absl::StatusOr<DnsServer> ParseDnsServer(absl::string_view text) {
  DnsServer server;
  absl::string_view host = text;
  std::optional<absl::string_view> port;
  if (absl::ConsumePrefix(&host, "[")) {
    // "[v6]" or "[v6]:port": brackets are the only way to give an IPv6 address a port.
    const size_t close = host.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unclosed '[' in DNS server: ", text));
    }
    absl::string_view rest = host.substr(close + 1);
    host = host.substr(0, close);
    if (!rest.empty()) {
      if (!absl::ConsumePrefix(&rest, ":")) {
        return absl::InvalidArgumentError(absl::StrCat("bad DNS server: ", text));
      }
      port = rest;
    }
    absl::StatusOr<asio::ip::address> address = ParseIp(host);
    if (!address.ok()) return address.status();
    if (!address->is_v6()) {
      return absl::InvalidArgumentError(absl::StrCat("brackets need an IPv6 address: ", text));
    }
    server.address = *address;
  } else if (const size_t colon = text.find(':');
             colon != absl::string_view::npos &&
             text.find(':', colon + 1) == absl::string_view::npos) {
    // Exactly one colon: IPv4 with a port. Bare IPv6 has at least two.
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    absl::StatusOr<asio::ip::address> address = ParseIp(host);
    if (!address.ok()) return address.status();
    if (!address->is_v4())
      return absl::InvalidArgumentError(absl::StrCat("bad DNS server: ", text));
    server.address = *address;
  } else {
    absl::StatusOr<asio::ip::address> address = ParseIp(text);
    if (!address.ok()) return address.status();
    server.address = *address;
  }
  if (port.has_value()) {
    absl::StatusOr<uint16_t> parsed = ParsePort(*port);
    if (!parsed.ok()) return parsed.status();
    server.port = *parsed;
  }
  return server;
}

absl::Status ValidateResolverOptions(const ResolverOptions& options) {
  for (const std::string& server : options.servers) {
    absl::StatusOr<DnsServer> parsed = ParseDnsServer(server);
    if (!parsed.ok()) return parsed.status();
  }
  if (options.timeout.count() <= 0) return absl::InvalidArgumentError("DNS timeout must be > 0");
  if (options.tries < 1) return absl::InvalidArgumentError("DNS tries must be >= 1");
  if (!options.ipv4 && !options.ipv6) {
    return absl::InvalidArgumentError("at least one of IPv4 and IPv6 must be enabled");
  }
  if (options.max_mx_hosts < 1) return absl::InvalidArgumentError("max_mx_hosts must be >= 1");
  if (options.max_queries_in_flight < 1) {
    return absl::InvalidArgumentError("max_queries_in_flight must be >= 1");
  }
  if (options.max_addresses_per_host < 1) {
    return absl::InvalidArgumentError("max_addresses_per_host must be >= 1");
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::agent
