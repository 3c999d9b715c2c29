// How weak a cipher suite is, in the classes deliverability teams ask about when they plan to
// drop legacy ciphers: "which domains can still only negotiate 3DES or RC4?". Ordered weakest
// first, so that the strongest class a server accepts is the largest value it accepts.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tlsweep::backends {

enum class SuiteClass {
  kExport = 0,           // 40/56-bit export suites (and their 512/1024-bit key exchange).
  kNullOrAnonymous = 1,  // No encryption, or no server authentication (aNULL).
  kLow = 2,              // Single DES, RC2, IDEA-40...: broken by brute force.
  kRc4 = 3,
  k3des = 4,
  kCbcSha1 = 5,  // CBC with a SHA-1 or MD5 MAC (AES-SHA, CAMELLIA-SHA...): the TLS 1.0 generation.
  kStrong = 6,   // AEAD, or CBC with a SHA-2 MAC; every TLS 1.3 suite.
};

// The class of a suite of backends/cipher_suite_table.h; kStrong for a code point the table
// does not know (nothing is claimed about it).
SuiteClass SuiteClassOf(uint16_t code_point);

// "EXPORT", "NULL/anonymous", "LOW (DES)", "RC4", "3DES", "CBC-SHA1", "strong".
absl::string_view SuiteClassName(SuiteClass suite_class);

}  // namespace tlsweep::backends
