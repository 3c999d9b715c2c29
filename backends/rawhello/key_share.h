// Real key-share keys for a TLS 1.3 ClientHello. A server computes the shared secret as soon as
// it writes its ServerHello, and checks the client's point or value first, so a key share must be
// a genuine public key of its group even though this backend never finishes the key exchange.
// The private half is dropped at once.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tlsweep::backends::rawhello {

// The key_exchange bytes of a KeyShareEntry for a fresh key pair of `group` (RFC 8446 4.2.8.2:
// raw X25519/X448 keys, uncompressed NIST points, FFDHE values left-padded to the prime's size).
// InvalidArgument for a group CanMakeKeyShare() refuses; Internal if libcrypto fails.
absl::StatusOr<std::string> MakeKeySharePublicKey(uint16_t group);

// `size` bytes from libcrypto's random generator (ClientHello.random, legacy_session_id).
std::string RandomBytes(size_t size);

}  // namespace tlsweep::backends::rawhello
