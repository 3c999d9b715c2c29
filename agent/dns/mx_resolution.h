// What MX resolution found for one domain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/dns/dns_failure.h"
#include "asio/ip/address.hpp"

namespace tlsweep::agent {

// The A/AAAA addresses of one host name.
struct HostAddresses {
  std::vector<asio::ip::address> addresses;  // IPv4 first, then IPv6; no duplicates.
  DnsFailure failure = DnsFailure::kNone;    // kNone iff addresses is not empty.
  std::string detail;                        // Human-readable reason when failure != kNone.
};

struct MxHost {
  std::string name;  // Lower case, no trailing dot.
  uint16_t preference = 0;
  HostAddresses addresses;
};

struct MxResolution {
  std::string domain;                      // Normalised: lower case, no trailing dot.
  DnsFailure failure = DnsFailure::kNone;  // For the domain as a whole.
  std::string detail;                      // Human-readable reason when failure != kNone.
  bool implicit_mx = false;                // RFC 5321 5.1: no MX, the domain itself at pref. 0.
  std::vector<MxHost> hosts;               // By preference, then name; no duplicate names.
};

}  // namespace tlsweep::agent
