#include "agent/dns/dns_reply.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tlsweep::agent::dns_internal {
namespace {

std::string DescribeStatus(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
      return "NXDOMAIN";
    case ARES_ENODATA:
      return "no record of that type (NODATA)";
    case ARES_ESERVFAIL:
      return "SERVFAIL";
    case ARES_EREFUSED:
      return "REFUSED";
    case ARES_ETIMEOUT:
      return "timed out";
    default:
      return ares_strerror(status);
  }
}

}  // namespace

std::string NormalizeDnsName(absl::string_view name) {
  absl::ConsumeSuffix(&name, ".");
  return absl::AsciiStrToLower(name);
}

DnsFailure FailureFromAresStatus(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return DnsFailure::kNone;
    case ARES_ENODATA:
      return DnsFailure::kNoAddress;
    case ARES_ENOTFOUND:
      return DnsFailure::kNxdomain;
    case ARES_ESERVFAIL:
      return DnsFailure::kServfail;
    case ARES_EREFUSED:
      return DnsFailure::kRefused;
    case ARES_ETIMEOUT:
      return DnsFailure::kTimeout;
    default:
      return DnsFailure::kError;
  }
}

MxAnswer ParseMxAnswer(const DnsAnswer& answer) {
  MxAnswer result;
  if (answer.status == ARES_ENODATA) return result;
  if (answer.status != ARES_SUCCESS) {
    result.failure = FailureFromAresStatus(answer.status);
    result.detail = absl::StrCat("MX query: ", DescribeStatus(answer.status));
    return result;
  }
  ares_mx_reply* replies = nullptr;
  const int status =
      ares_parse_mx_reply(answer.message.data(), static_cast<int>(answer.message.size()), &replies);
  // An answer holding only a CNAME (alias to a name without MX) is NODATA too.
  if (status == ARES_ENODATA) return result;
  if (status != ARES_SUCCESS) {
    result.failure = DnsFailure::kError;
    result.detail = absl::StrCat("MX answer: ", ares_strerror(status));
    return result;
  }
  for (const ares_mx_reply* reply = replies; reply != nullptr; reply = reply->next) {
    result.records.push_back({NormalizeDnsName(reply->host), reply->priority});
  }
  ares_free_data(replies);
  return result;
}

AddressAnswer ParseAddressAnswer(const DnsAnswer& answer, int dns_type, size_t max_addresses) {
  AddressAnswer result;
  const char* type_name = dns_type == ns_t_a ? "A" : "AAAA";
  int status = answer.status;
  if (status == ARES_SUCCESS) {
    const auto* message = answer.message.data();
    const int length = static_cast<int>(answer.message.size());
    int count = static_cast<int>(max_addresses);
    if (dns_type == ns_t_a) {
      std::vector<ares_addrttl> records(max_addresses);
      status = ares_parse_a_reply(message, length, nullptr, records.data(), &count);
      for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
        result.addresses.push_back(asio::ip::address_v4(ntohl(records[i].ipaddr.s_addr)));
      }
    } else {
      std::vector<ares_addr6ttl> records(max_addresses);
      status = ares_parse_aaaa_reply(message, length, nullptr, records.data(), &count);
      for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
        asio::ip::address_v6::bytes_type bytes;
        std::memcpy(bytes.data(), &records[i].ip6addr, bytes.size());
        result.addresses.push_back(asio::ip::address_v6(bytes));
      }
    }
  }
  if (!result.addresses.empty()) return result;
  if (status == ARES_SUCCESS) status = ARES_ENODATA;  // E.g. a CNAME and nothing after it.
  result.failure = FailureFromAresStatus(status);
  result.detail = absl::StrCat(type_name, " query: ", DescribeStatus(status));
  return result;
}

}  // namespace tlsweep::agent::dns_internal
