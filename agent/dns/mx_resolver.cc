#include "agent/dns/mx_resolver.h"

#include <arpa/nameser.h>

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/dns/ares_channel.h"
#include "agent/dns/dns_reply.h"
#include "agent/dns/when_all.h"

namespace tlsweep::agent {
namespace {

using dns_internal::AddressAnswer;
using dns_internal::AresChannel;
using dns_internal::DnsAnswer;
using dns_internal::MxAnswer;
using dns_internal::MxRecord;
using dns_internal::NormalizeDnsName;

// When no address was found, the most telling reason wins: NXDOMAIN settles the name; a
// transient failure of one family means it may still have addresses; plain NODATA comes last.
int FailureRank(DnsFailure failure) {
  switch (failure) {
    case DnsFailure::kNxdomain:
      return 0;
    case DnsFailure::kTimeout:
      return 1;
    case DnsFailure::kServfail:
      return 2;
    case DnsFailure::kRefused:
      return 3;
    case DnsFailure::kError:
      return 4;
    default:
      return 5;
  }
}

// Free functions holding the channel by shared_ptr: a suspended lookup never touches the
// MxResolver, which may be gone when it resumes.
asio::awaitable<HostAddresses> LookUpHost(std::shared_ptr<AresChannel> channel,
                                          ResolverOptions options, std::string host) {
  HostAddresses result;
  if (host.empty()) {
    result.failure = DnsFailure::kError;
    result.detail = "empty host name";
    co_return result;
  }
  std::vector<int> types;
  if (options.ipv4) types.push_back(ns_t_a);
  if (options.ipv6) types.push_back(ns_t_aaaa);
  std::vector<asio::awaitable<DnsAnswer>> queries;
  for (int type : types) queries.push_back(channel->Query(host, type));
  std::vector<DnsAnswer> answers = co_await dns_internal::WhenAll(std::move(queries));

  std::vector<AddressAnswer> parsed;
  for (size_t i = 0; i < answers.size(); ++i) {
    parsed.push_back(
        dns_internal::ParseAddressAnswer(answers[i], types[i], options.max_addresses_per_host));
  }
  for (const AddressAnswer& answer : parsed) {
    for (const asio::ip::address& address : answer.addresses) {
      if (result.addresses.size() >= options.max_addresses_per_host) break;
      if (std::find(result.addresses.begin(), result.addresses.end(), address) ==
          result.addresses.end()) {
        result.addresses.push_back(address);
      }
    }
  }
  if (!result.addresses.empty()) co_return result;

  const AddressAnswer* worst = &parsed.front();
  std::vector<std::string> details;
  for (const AddressAnswer& answer : parsed) {
    if (FailureRank(answer.failure) < FailureRank(worst->failure)) worst = &answer;
    details.push_back(answer.detail);
  }
  result.failure = worst->failure;
  result.detail = absl::StrCat(host, ": ", absl::StrJoin(details, "; "));
  co_return result;
}

// Drops null MX entries, sorts by (preference, name), keeps the best preference of a
// duplicated name, and caps the count.
std::vector<MxRecord> UsableExchanges(std::vector<MxRecord> records, size_t max_hosts) {
  std::erase_if(records, [](const MxRecord& record) { return record.exchange.empty(); });
  std::sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
    return std::tie(a.preference, a.exchange) < std::tie(b.preference, b.exchange);
  });
  std::vector<MxRecord> unique;
  for (MxRecord& record : records) {
    const bool seen = std::any_of(unique.begin(), unique.end(), [&](const MxRecord& kept) {
      return kept.exchange == record.exchange;
    });
    if (!seen) unique.push_back(std::move(record));
    if (unique.size() == max_hosts) break;
  }
  return unique;
}

asio::awaitable<MxResolution> LookUpMx(std::shared_ptr<AresChannel> channel,
                                       ResolverOptions options, std::string domain) {
  MxResolution result;
  result.domain = NormalizeDnsName(domain);
  if (result.domain.empty()) {
    result.failure = DnsFailure::kError;
    result.detail = "empty domain name";
    co_return result;
  }

  // Named results, not co_await inside a larger expression: GCC 12 mishandles temporaries
  // there.
  const DnsAnswer mx_answer = co_await channel->Query(result.domain, ns_t_mx);
  const MxAnswer mx = dns_internal::ParseMxAnswer(mx_answer);
  if (mx.failure != DnsFailure::kNone) {
    result.failure = mx.failure;
    result.detail = absl::StrCat(result.domain, ": ", mx.detail);
    co_return result;
  }

  std::vector<MxRecord> exchanges;
  if (mx.records.empty()) {
    // RFC 5321 5.1: without MX records the domain itself is the mail host, preference 0.
    result.implicit_mx = true;
    exchanges.push_back({result.domain, 0});
  } else {
    exchanges = UsableExchanges(mx.records, options.max_mx_hosts);
    if (exchanges.empty()) {
      // RFC 7505: "MX 0 ." says the domain accepts no mail. (A "." beside real exchanges is a
      // misconfiguration; UsableExchanges ignores it.)
      result.failure = DnsFailure::kNullMx;
      result.detail = absl::StrCat(result.domain, ": null MX (RFC 7505)");
      co_return result;
    }
  }

  std::vector<asio::awaitable<HostAddresses>> lookups;
  for (const MxRecord& exchange : exchanges) {
    lookups.push_back(LookUpHost(channel, options, exchange.exchange));
  }
  std::vector<HostAddresses> addresses = co_await dns_internal::WhenAll(std::move(lookups));

  bool any_address = false;
  std::vector<std::string> details;
  for (size_t i = 0; i < exchanges.size(); ++i) {
    MxHost& host = result.hosts.emplace_back();
    host.name = std::move(exchanges[i].exchange);
    host.preference = exchanges[i].preference;
    host.addresses = std::move(addresses[i]);
    if (host.addresses.failure == DnsFailure::kNone) {
      any_address = true;
    } else {
      details.push_back(host.addresses.detail);
    }
  }
  if (!any_address) {
    result.failure = DnsFailure::kNoAddress;
    result.detail = absl::StrCat(
        result.domain,
        result.implicit_mx ? ": no MX and no address (" : ": no MX host has an address (",
        absl::StrJoin(details, "; "), ")");
  }
  co_return result;
}

}  // namespace

MxResolver::MxResolver(std::shared_ptr<dns_internal::AresChannel> channel,
                       const ResolverOptions& options)
    : channel_(std::move(channel)), options_(options) {}

MxResolver::~MxResolver() { channel_->Shutdown(); }

absl::StatusOr<std::unique_ptr<MxResolver>> MxResolver::Create(asio::any_io_executor executor,
                                                               const ResolverOptions& options) {
  if (absl::Status status = ValidateResolverOptions(options); !status.ok()) return status;
  absl::StatusOr<std::shared_ptr<AresChannel>> channel =
      AresChannel::Create(std::move(executor), options);
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<MxResolver>(new MxResolver(*std::move(channel), options));
}

asio::awaitable<MxResolution> MxResolver::ResolveMx(std::string domain) {
  return LookUpMx(channel_, options_, std::move(domain));
}

asio::awaitable<HostAddresses> MxResolver::ResolveHost(std::string host) {
  return LookUpHost(channel_, options_, NormalizeDnsName(host));
}

}  // namespace tlsweep::agent
