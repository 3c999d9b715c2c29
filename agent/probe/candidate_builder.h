// Turns a TLS client description (the TlsClientSettings message: what profiles, the CLI and
// the coordinator speak) into a TlsCandidate bound to a loaded backend.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "agent/probe/probe_types.h"
#include "backends/plugin_loader.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::agent {

// The CA bundle used when none is given: Debian's ca-certificates bundle, if installed.
inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// InvalidArgument/NotFound with the reason (unknown backend, bad group, bad cipher string: the
// backend's Expand is asked once so that a config that cannot work fails here, not per probe).
absl::StatusOr<TlsCandidate> BuildCandidate(const tlsweep::v1::TlsClientSettings& settings,
                                            const backends::BackendRegistry& registry,
                                            const std::string& ca_file);

}  // namespace tlsweep::agent
