// A candidate: a TLS client description (the TlsClientSettings message that profiles, flags,
// MTA config files and the coordinator all produce) bound to a loaded backend, with what that
// backend would offer. Built once per candidate and process; everything that needs the offer
// (probe, sweep, enumeration, what-if, reports) reads `offer` rather than expanding again.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/plugin_loader.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// The CA bundle used when none is given: Debian's ca-certificates bundle, if installed.
inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

struct TlsCandidate {
  std::string name = "default";
  Backend* backend = nullptr;
  ClientConfig config;                      // SNI and verify name are filled in per endpoint.
  tlsweep::v1::TlsClientSettings settings;  // The same, as reported in results.
  Offer offer;                              // backend->Expand(config), computed once.
};

// The library-neutral client configuration the settings describe (InvalidArgument for an
// unknown group). `ca_file` empty: kSystemCaBundle when it exists.
absl::StatusOr<ClientConfig> ClientConfigFromSettings(
    const tlsweep::v1::TlsClientSettings& settings, const std::string& ca_file);

// InvalidArgument/NotFound with the reason (unknown backend, bad group, bad cipher string, a
// configuration that offers no suite), so that a config that cannot work fails here, not per
// probe.
absl::StatusOr<TlsCandidate> BuildCandidate(const tlsweep::v1::TlsClientSettings& settings,
                                            const BackendRegistry& registry,
                                            const std::string& ca_file);

}  // namespace tlsweep::backends
