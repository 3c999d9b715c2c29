// The TLS backend boundary. A backend is a shared object exporting one extern "C" symbol,
// `tlsweep_backend_entry`, that returns a BackendEntry; the host checks its ABI version before it
// calls anything else. Library headers never appear here: a backend's types stay in its folder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/handshake_outcome.h"
#include "backends/tls_config.h"
#include "backends/tls_engine.h"
#include "backends/tls_version.h"

namespace tlsweep::backends {

// Bumped whenever anything in this header, tls_config.h, tls_engine.h or handshake_outcome.h
// changes layout or meaning: plugins are C++ objects shared across the boundary.
// 2: OfferedSuite::completes. 3: certificates read by the plugins (CertificateFacts).
// 4: HandshakeOutcome::dh_bits.
inline constexpr uint32_t kBackendAbiVersion = 4;

// One (version, suite) pair that a client config would offer.
struct OfferedSuite {
  TlsVersion version = TlsVersion::kUnknown;
  uint16_t code_point = 0;
  std::string library_name;
  // False for a suite the client puts in its ClientHello but aborts every handshake on once
  // the server picks it (OpenSSL 3 at security level >= 1, below TLS 1.2, on a suite whose key
  // exchange the server must sign with SHA-1: "legacy sigalg disallowed"). The server may pick
  // it, so the negotiation model needs it; it is not something the config can negotiate.
  bool completes = true;
};

// What a client config would put in its ClientHello, per version.
struct Offer {
  std::vector<TlsVersion> versions;  // Oldest first.
  std::vector<OfferedSuite> suites;  // In the client's preference order, per version.
  std::vector<uint16_t> groups;      // IANA supported-group ids, in preference order.
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual absl::string_view Name() const = 0;                     // "openssl", "gnutls".
  virtual std::string LibraryVersion() const = 0;                 // The linked library at run time.
  virtual std::vector<TlsVersion> SpeakableVersions() const = 0;  // With legacy enabled.

  virtual absl::StatusOr<std::unique_ptr<TlsEngine>> NewClient(const ClientConfig& config) = 0;
  virtual absl::StatusOr<std::unique_ptr<TlsEngine>> NewServer(const ServerConfig& config) = 0;
  // The suites, versions and groups `config` would offer, without any I/O.
  virtual absl::StatusOr<Offer> Expand(const ClientConfig& config) = 0;
  // What a DER certificate says, read by this backend's library (as its engines report it).
  virtual CertificateFacts DescribeCertificate(absl::string_view der) const = 0;
};

}  // namespace tlsweep::backends

extern "C" {
struct TlsweepBackendEntry {
  uint32_t abi_version;  // Must equal tlsweep::backends::kBackendAbiVersion.
  const char* name;
  // A new backend, owned by the caller.
  tlsweep::backends::Backend* (*create)();
};
}

// The one symbol a plugin exports.
inline constexpr const char* kBackendEntrySymbol = "tlsweep_backend_entry";
using TlsweepBackendEntryFn = const TlsweepBackendEntry* (*)();

// Defines the entry point of a plugin; `BackendClass` must be default-constructible.
#define TLSWEEP_DEFINE_BACKEND(backend_name, BackendClass)                     \
  extern "C" __attribute__((visibility("default"))) const TlsweepBackendEntry* \
  tlsweep_backend_entry() {                                                    \
    static const TlsweepBackendEntry entry = {                                 \
        ::tlsweep::backends::kBackendAbiVersion, backend_name,                 \
        []() -> ::tlsweep::backends::Backend* { return new BackendClass(); }}; \
    return &entry;                                                             \
  }
