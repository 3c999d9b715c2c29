#include "agent/dns/dns_failure.h"

namespace tlsweep::agent {

absl::string_view DnsFailureName(DnsFailure failure) {
  switch (failure) {
    case DnsFailure::kNone:
      return "none";
    case DnsFailure::kNxdomain:
      return "dns_nxdomain";
    case DnsFailure::kNoAddress:
      return "dns_no_address";
    case DnsFailure::kNullMx:
      return "null_mx";
    case DnsFailure::kTimeout:
      return "dns_timeout";
    case DnsFailure::kServfail:
      return "dns_servfail";
    case DnsFailure::kRefused:
      return "dns_refused";
    case DnsFailure::kError:
      return "dns_error";
  }
  return "dns_error";
}

}  // namespace tlsweep::agent
