// Reading c-ares answers: status codes to DnsFailure, MX and A/AAAA records out of DNS messages
// (CNAME records before them are followed by c-ares' parsers). Internal to agent/dns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "agent/dns/ares_channel.h"
#include "agent/dns/dns_failure.h"
#include "asio/ip/address.hpp"

namespace tlsweep::agent::dns_internal {

// Lower case, without the trailing dot of an absolute name ("" for the root).
std::string NormalizeDnsName(absl::string_view name);

// The failure for a c-ares status; ARES_SUCCESS is kNone and ARES_ENODATA kNoAddress.
DnsFailure FailureFromAresStatus(int status);

struct MxRecord {
  std::string exchange;  // Normalised; "" is the root (the null MX of RFC 7505).
  uint16_t preference = 0;
};

struct MxAnswer {
  DnsFailure failure = DnsFailure::kNone;  // kNone also for NODATA (records then empty).
  std::string detail;
  std::vector<MxRecord> records;  // In answer order.
};
MxAnswer ParseMxAnswer(const DnsAnswer& answer);

struct AddressAnswer {
  DnsFailure failure = DnsFailure::kNone;  // kNoAddress for NODATA.
  std::string detail;
  std::vector<asio::ip::address> addresses;  // At most max_addresses.
};
// `dns_type` is ns_t_a or ns_t_aaaa.
AddressAnswer ParseAddressAnswer(const DnsAnswer& answer, int dns_type, size_t max_addresses);

}  // namespace tlsweep::agent::dns_internal
