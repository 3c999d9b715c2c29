// What one ClientHello of the rawhello backend will say, decided from a ClientConfig before any
// byte is written: the record format, the versions, the suites in wire order, the groups and the
// extensions. Expand reports a plan; the engine writes one. Pure: no randomness, no keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/tls_config.h"
#include "backends/tls_version.h"

namespace tlsweep::backends::rawhello {

// The SSL 2.0 protocol version on the wire. TlsVersion has no value for it.
inline constexpr uint16_t kSsl2WireVersion = 0x0002;

enum class HelloFormat {
  kTls,    // A TLS handshake record (SSLv3 and TLS 1.0-1.3).
  kSslv2,  // An SSLv2 CLIENT-HELLO record: pure SSLv2 (version 0x0002) or SSLv2-compatible.
};

struct HelloPlan {
  HelloFormat format = HelloFormat::kTls;
  // The TLS versions offered, oldest first; empty for a pure SSLv2 hello.
  std::vector<TlsVersion> versions;
  uint16_t client_version = 0;  // ClientHello.client_version (legacy_version in TLS 1.3).
  uint16_t record_version = 0;  // The record layer's version (TLS format only).
  // TLS code points in wire order, SCSVs included. In an SSLv2-format hello each is written as
  // 0x00XXYY after the SSLv2 specs.
  std::vector<uint16_t> suites;
  std::vector<uint32_t> sslv2_specs;
  std::string sni;  // Empty: no server_name extension.
  // Extensions (TLS format, client_version >= TLS 1.0 only). Empty lists: extension not sent.
  std::vector<uint16_t> supported_groups;
  bool ec_point_formats = false;
  std::vector<uint16_t> signature_schemes;
  // TLS 1.3: supported_versions, psk_key_exchange_modes, key_share with a key for each of
  // these groups (possibly none: the server then asks with a HelloRetryRequest), and a 32-byte
  // legacy_session_id (middlebox compatibility, as OpenSSL sends it).
  bool tls13 = false;
  std::vector<uint16_t> key_share_groups;

  bool Offers(TlsVersion version) const;
  bool has_extensions() const;
};

// Versions the backend can write hellos for (SSLv2 has no TlsVersion; see README.md).
const std::vector<TlsVersion>& RawSpeakableVersions();

// The groups sent when ClientConfig::groups is empty: OpenSSL 3.0's default list.
const std::vector<uint16_t>& DefaultGroups();

// True for the groups the backend can make a real key-share key for (via libcrypto).
bool CanMakeKeyShare(uint16_t group);

// InvalidArgument for a config that cannot be written: a GnuTLS-only CipherSpec, an unknown
// suite name, no suite left for the versions asked for, a version range that is empty.
absl::StatusOr<HelloPlan> PlanHello(const ClientConfig& config);

// What the plan offers per version, in the Backend::Expand sense: versions that have at least
// one suite, and at each the suites defined for it (backends/cipher_suite_table.h; code points
// outside the table at every version of their kind), SCSVs and GREASE left out. A pure SSLv2
// plan offers nothing expressible (TlsVersion has no SSLv2).
Offer OfferOf(const HelloPlan& plan);

}  // namespace tlsweep::backends::rawhello
