// What a user may ask tlsweep to scan, parsed from one line of a target list or the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asio/ip/address.hpp"

namespace tlsweep::backends {

// The largest weight a line may carry.
inline constexpr double kMaxWeight = 1e12;

// Accepted spellings (surrounding whitespace ignored, any of them may end in ",weight"):
//
//   example.com              kDomain: a mail domain, delivered to via its MX records.
//   mx.example.com:2525      kHost: that host itself (A/AAAA, no MX lookup), on that port.
//   [mx.example.com]         kHost on the default port; Postfix's "no MX lookup" brackets.
//   [mx.example.com]:587     kHost on port 587.
//   192.0.2.1, 2001:db8::1   kAddress on the default port (a bare IPv6 address is always the
//                            whole address: write [2001:db8::1]:587 to give a port).
//   192.0.2.1:465, [192.0.2.1]:25, [2001:db8::1]:587   kAddress with a port.
//   example.com,1234.5       any of the above with a weight (mail volume, finite, 0 to
//                            kMaxWeight).
//
// A bare name is therefore always a mail domain; a name with a port or in brackets is a host.
struct Target {
  enum class Kind { kDomain, kHost, kAddress };

  Kind kind = Kind::kDomain;
  std::string input;  // as written, whitespace trimmed
  // Lower-case A-label without trailing dot (see NormalizeHostName); for kAddress the
  // address's canonical text ("2001:db8::1", not "2001:0db8::0001").
  std::string name;
  std::optional<asio::ip::address> address;  // set exactly for kAddress
  uint16_t port = 25;
  double weight = 1;
};

// Parses one target; InvalidArgument with a short reason ("empty label", "port out of range",
// "weight is not a number", ...) when `text` is not a target. `default_port` applies to every
// form written without a port.
absl::StatusOr<Target> ParseTarget(absl::string_view text, uint16_t default_port = 25);

// "domain", "host" or "address".
absl::string_view TargetKindName(Target::Kind kind);

// The identity used to find duplicates: kind, name and port ("host mx.example.com:25").
// Weight and spelling do not count.
std::string TargetKey(const Target& target);

}  // namespace tlsweep::backends
