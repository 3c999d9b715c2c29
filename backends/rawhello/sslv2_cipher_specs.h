// SSL 2.0 cipher specs: three bytes each, a space of their own that the IANA TLS table does not
// hold (in an SSLv2-format hello a TLS suite is written 0x00XXYY; a true SSLv2 spec has a
// non-zero first byte). Used only to write SSLv2 CLIENT-HELLOs and to name what an SSLv2 server
// answers.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello {

struct Sslv2CipherSpec {
  uint32_t code;                   // 0x010080.
  absl::string_view name;          // "SSL_CK_RC4_128_WITH_MD5" (the SSLv2 draft's names).
  absl::string_view openssl_name;  // "RC4-MD5", as OpenSSL 0.9.8 called the SSLv2 spec.
};

// The seven specs of the SSL 2.0 draft and SSLeay's RC4-64, in the order a 1990s client
// preferred them (strongest first).
std::span<const Sslv2CipherSpec> AllSslv2CipherSpecs();

// nullptr for a code outside the table.
const Sslv2CipherSpec* FindSslv2CipherSpec(uint32_t code);
// By SSL_CK_ name, case-insensitively; nullptr when unknown.
const Sslv2CipherSpec* FindSslv2CipherSpecByName(absl::string_view name);

// The SSL_CK_ name, or "0xNNNNNN" for a code outside the table.
std::string Sslv2CipherSpecName(uint32_t code);

}  // namespace tlsweep::backends::rawhello
