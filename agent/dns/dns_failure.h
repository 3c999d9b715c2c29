// Why a DNS lookup produced no usable answer. These are outcomes (data), not errors.
#pragma once

#include "absl/strings/string_view.h"

namespace tlsweep::agent {

enum class DnsFailure {
  kNone,       // Usable answer.
  kNxdomain,   // The name does not exist.
  kNoAddress,  // The name exists but has no A/AAAA record (or no MX host has one).
  kNullMx,     // RFC 7505 "MX 0 .": the domain accepts no mail.
  kTimeout,    // No answer from any server within timeout x tries.
  kServfail,   // The server answered SERVFAIL.
  kRefused,    // The server answered REFUSED.
  kError,      // Anything else (malformed answer, bad name, no server reachable...).
};

// Stable names used in reports: "dns_nxdomain", "dns_no_address", "null_mx", "dns_timeout",
// "dns_servfail", "dns_refused", "dns_error"; kNone is "none".
absl::string_view DnsFailureName(DnsFailure failure);

}  // namespace tlsweep::agent
