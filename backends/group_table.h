// Key-exchange groups by IANA "TLS Supported Groups" id, the common language of both backends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends {

struct GroupInfo {
  uint16_t id;
  absl::string_view iana_name;  // "x25519", "secp256r1", "ffdhe2048"...
};

const std::vector<GroupInfo>& AllGroups();

// The IANA name, or "group(0xNNNN)" for an id outside the table.
std::string GroupName(uint16_t id);

// Accepts IANA names and the usual aliases (OpenSSL "P-256", "prime256v1"; GnuTLS
// "SECP256R1", "GROUP-X25519"), case-insensitively.
absl::StatusOr<uint16_t> ParseGroup(absl::string_view name);

// A colon- or comma-separated list of groups.
absl::StatusOr<std::vector<uint16_t>> ParseGroupList(absl::string_view list);

}  // namespace tlsweep::backends
