// A TLS client given as separate command-line values (tlsweep probe, sweep, scan and expand,
// and tlsweep-agent), turned into the TlsClientSettings that every other source produces.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

struct ClientFlagValues {
  std::string backend = "openssl";
  std::string openssl_ciphers;
  std::string openssl_ciphersuites;
  std::string gnutls_priority;
  std::string min_version;  // "TLSv1.2"; empty: the library's.
  std::string max_version;
  std::string groups;  // Colon- or comma-separated ("x25519:secp256r1").
  bool legacy = false;
};

// InvalidArgument for a version that does not parse; groups are checked when the settings
// become a ClientConfig (ClientConfigFromSettings).
absl::StatusOr<tlsweep::v1::TlsClientSettings> SettingsFromFlagValues(
    const ClientFlagValues& values);

}  // namespace tlsweep::backends
