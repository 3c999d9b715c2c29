// Writes the ClientHello of a HelloPlan as the records to send. Deterministic: the random parts
// (client random, session id, key-share keys) come in HelloSecrets, so tests can pin them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/rawhello/hello_plan.h"

namespace tlsweep::backends::rawhello {

struct KeyShareEntry {
  uint16_t group = 0;
  std::string public_key;
};

struct HelloSecrets {
  std::string random;      // 32 bytes: ClientHello.random (an SSLv2 hello's challenge).
  std::string session_id;  // Empty or 32 bytes; a TLS 1.3 offer sends one (middlebox compat).
  std::vector<KeyShareEntry> key_shares;  // One per plan.key_share_groups, in that order.
};

// The hello as TLS handshake records (split at 2^14 bytes), or as one SSLv2 record. An SSLv2
// hello's challenge is 16 bytes for pure SSLv2 (as SSL 2.0 clients sent it) and 32 for the
// SSLv2-compatible form (it becomes the TLS client random, RFC 5246 E.2).
absl::StatusOr<std::string> WriteClientHello(const HelloPlan& plan, const HelloSecrets& secrets);

}  // namespace tlsweep::backends::rawhello
