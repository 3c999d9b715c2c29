// What one probe is given: the endpoint to contact and the TLS client configuration to offer.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "agent/smtp/reply_parser.h"
#include "asio/ip/address.hpp"
#include "backends/backend.h"
#include "backends/candidate/tls_candidate.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

// One (MX host, address, port) to probe, and where it came from.
struct ProbeEndpoint {
  std::string target;  // As the user wrote it.
  std::string domain;  // Empty for an explicit host or address.
  std::string mx_host;
  uint32_t mx_preference = 0;
  bool implicit_mx = false;
  asio::ip::address address;
  uint16_t port = 25;
  std::string provider;
  uint64_t line_number = 0;
};

struct ProbeOptions {
  std::string ehlo_name;  // Default: this machine's host name.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds banner_timeout{30'000};
  std::chrono::milliseconds command_timeout{30'000};  // EHLO and STARTTLS replies.
  std::chrono::milliseconds handshake_timeout{20'000};
  SmtpReplyLimits reply_limits;
  size_t max_handshake_bytes = 256 * 1024;
  bool send_sni = true;  // SNI = MX host name, as OpenSSL-based MTAs configured for it send.
};

}  // namespace tlsweep::agent
