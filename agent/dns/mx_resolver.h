// Finds the mail hosts of a domain and their addresses, asynchronously, following RFC 5321
// section 5.1 (implicit MX) and RFC 7505 (null MX).
//
// One resolver belongs to one executor (one per event-loop thread). It is not thread-safe: its
// executor must not run handlers concurrently (an io_context run by a single thread, or a
// strand). Destroying it while lookups are pending is allowed: they complete with kError.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/dns/dns_failure.h"
#include "agent/dns/mx_resolution.h"
#include "agent/dns/resolver_options.h"
#include "asio/any_io_executor.hpp"
#include "asio/awaitable.hpp"

namespace tlsweep::agent {

namespace dns_internal {
class AresChannel;
}  // namespace dns_internal

class MxResolver {
 public:
  // InvalidArgument for a bad server address or out-of-range option.
  static absl::StatusOr<std::unique_ptr<MxResolver>> Create(asio::any_io_executor executor,
                                                            const ResolverOptions& options);
  ~MxResolver();
  MxResolver(const MxResolver&) = delete;
  MxResolver& operator=(const MxResolver&) = delete;

  // The MX records of `domain`, then the A/AAAA records of every host (all concurrently).
  // Failures are reported in the result, never thrown.
  asio::awaitable<MxResolution> ResolveMx(std::string domain);

  // The A and/or AAAA records of `host` (per options), looked up concurrently.
  asio::awaitable<HostAddresses> ResolveHost(std::string host);

 private:
  MxResolver(std::shared_ptr<dns_internal::AresChannel> channel, const ResolverOptions& options);

  std::shared_ptr<dns_internal::AresChannel> channel_;
  ResolverOptions options_;
};

}  // namespace tlsweep::agent
