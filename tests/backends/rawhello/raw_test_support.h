// A minimal scripted responder for the rawhello tests: builders for the server messages that no
// Debian 12 server can still send (SSLv2 SERVER-HELLO, SSLv3 and EXPORT answers) and for hostile
// or broken answers (wrong version, unoffered suite, downgrade sentinel, floods). Real servers
// (the OpenSSL and GnuTLS engines) answer everything else; these only prove the reader and the
// classification.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello::testing {

std::string Record(uint8_t content_type, absl::string_view payload, uint16_t version = 0x0303);
std::string Handshake(uint8_t message_type, absl::string_view body);
std::string AlertRecord(uint8_t level, uint8_t code);

struct ServerHelloSpec {
  uint16_t legacy_version = 0x0303;
  uint16_t suite = 0xC02F;
  uint16_t supported_version = 0;  // 0: no supported_versions extension.
  uint16_t key_share_group = 0;    // 0: no key_share extension.
  bool hello_retry_request = false;
  bool extensions = true;  // False: an SSLv3-style hello that ends after compression.
  uint8_t compression = 0;
  std::string random = std::string(32, 'r');
};
std::string ServerHelloBody(const ServerHelloSpec& spec);
// A ServerHello handshake record.
std::string ServerHelloRecord(const ServerHelloSpec& spec);

std::string CertificateBody(const std::vector<std::string>& ders);
// ECDHE parameters on a named curve, signed with `scheme` (0: no scheme field, TLS < 1.2).
std::string EcdheKeyExchangeBody(uint16_t group, uint16_t scheme);
// DHE parameters with a prime of `prime_bytes` bytes whose top bit is set.
std::string DheKeyExchangeBody(size_t prime_bytes, uint16_t scheme);
std::string ServerHelloDone();

std::string Sslv2ServerHello(const std::vector<uint32_t>& specs, absl::string_view certificate);
std::string Sslv2Error(uint16_t code);

}  // namespace tlsweep::backends::rawhello::testing
