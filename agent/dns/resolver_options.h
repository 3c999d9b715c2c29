// How an MxResolver talks to DNS, and the syntax of a DNS server address.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asio/ip/address.hpp"

namespace tlsweep::agent {

struct ResolverOptions {
  // "IP", "IP:port" (IPv4) or "[IPv6]:port"; empty means the servers of /etc/resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};  // Per try (c-ares doubles it on each retry round).
  int tries = 2;
  bool ipv4 = true;          // Look up A records of mail hosts.
  bool ipv6 = true;          // Look up AAAA records of mail hosts.
  size_t max_mx_hosts = 10;  // Hosts resolved per domain, lowest preferences first.
  size_t max_addresses_per_host = 16;
  // Queries on the wire at once per resolver; the rest wait their turn. An unbounded burst of
  // UDP queries overflows the server's socket buffer, and the drops come back as timeouts.
  size_t max_queries_in_flight = 64;
};

struct DnsServer {
  asio::ip::address address;
  uint16_t port = 53;
};

// Parses one ResolverOptions::servers entry; InvalidArgument if it is not one of the forms.
absl::StatusOr<DnsServer> ParseDnsServer(absl::string_view text);

// InvalidArgument if any field is out of range or any server does not parse.
absl::Status ValidateResolverOptions(const ResolverOptions& options);

}  // namespace tlsweep::agent
