// TLS 1.2/1.3 signature schemes (RFC 8446 4.2.3; TLS 1.2 hash/signature pairs share the space):
// the list the rawhello backend offers, and names for what a server's ServerKeyExchange used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tlsweep::backends::rawhello {

// What OpenSSL 3.0 offers at security level 0, in its order: the modern schemes, then the
// SHA-224 and DSA pairs and SHA-1 last, so that a server that can sign only the old way still
// finds something it can use (a scanner wants the server's answer, not a refusal).
const std::vector<uint16_t>& DefaultSignatureSchemes();

// "rsa_pss_rsae_sha256", "ecdsa_sha1", ...; "0xNNNN" for a value outside the table.
std::string SignatureSchemeName(uint16_t scheme);

}  // namespace tlsweep::backends::rawhello
