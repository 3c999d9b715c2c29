// Parses the first handshake message of each side out of raw TLS records: what a ClientHello
// offers, and what a ServerHello picked. Used to read a library's real offer off the wire
// (expand) and, later, to stop an enumeration handshake as soon as the server has chosen.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/tls_version.h"

namespace tlsweep::backends {

struct ClientHello {
  TlsVersion legacy_version = TlsVersion::kUnknown;
  std::vector<uint16_t> cipher_suites;         // SCSVs and GREASE values removed.
  std::vector<TlsVersion> supported_versions;  // From the extension; empty when absent.
  std::vector<uint16_t> supported_groups;      // GREASE values removed.
  std::vector<uint16_t> key_share_groups;
  bool has_server_name = false;
  std::vector<uint16_t> signature_algorithms;  // GREASE values removed.
  std::vector<uint16_t> extensions;            // Types in wire order, GREASE values removed.
};

struct ServerHello {
  TlsVersion version = TlsVersion::kUnknown;  // supported_versions wins over legacy_version.
  uint16_t cipher_suite = 0;
  uint16_t key_share_group = 0;  // TLS 1.3 only; 0 when absent.
  bool hello_retry_request = false;
};

// kUnavailable: the bytes end before the message does (read more and try again).
// kInvalidArgument: the bytes are not a well-formed hello.
absl::StatusOr<ClientHello> ParseClientHello(absl::string_view records);
absl::StatusOr<ServerHello> ParseServerHello(absl::string_view records);

// True for the reserved GREASE code points (RFC 8701): 0x0A0A, 0x1A1A, ... 0xFAFA.
inline bool IsGrease(uint16_t value) {
  return (value & 0x0F0F) == 0x0A0A && (value >> 8) == (value & 0xFF);
}

}  // namespace tlsweep::backends
