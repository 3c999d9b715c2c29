// What a TLS engine is asked to offer (client) or accept (server). Plain data: it crosses the
// plugin boundary, so it holds no library types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/tls_version.h"

namespace tlsweep::backends {

// Cipher selection in each library's own language. A backend reads only its own fields and
// rejects a config that sets only the other library's (a GnuTLS engine given an OpenSSL cipher
// string is a mistake, not a request for the default).
struct CipherSpec {
  std::string openssl_ciphers;       // TLS <= 1.2 cipher string; empty: the library default.
  std::string openssl_ciphersuites;  // TLS 1.3 suites; empty: the library default.
  std::string gnutls_priority;       // GnuTLS priority string; empty: "NORMAL".
};

struct ClientConfig {
  CipherSpec ciphers;
  std::optional<TlsVersion> min_version;
  std::optional<TlsVersion> max_version;
  // Key-exchange groups by IANA id (see group_table.h), in preference order; empty: default.
  std::vector<uint16_t> groups;
  std::string sni;          // Server name indication; empty: none is sent.
  std::string ca_file;      // PEM bundle for chain verification; empty: not verified.
  std::string verify_name;  // Name checked against the peer certificate; empty: `sni`.
  // Allow everything the linked library can still negotiate: OpenSSL drops to security level 0
  // and loads the legacy provider (TLS 1.0/1.1, SHA-1 signatures, SEED...); GnuTLS adds
  // TLS 1.0/1.1, 3DES, RC4 and SHA-1. Legacy never widens an explicit cipher string or
  // priority string: it only lifts the library's floor. Anonymous suites must still be asked
  // for (aNULL, +ANON-ECDH).
  bool legacy = false;
};

struct ServerConfig {
  std::string certificate_chain_file;  // PEM, leaf first.
  std::string private_key_file;        // PEM.
  CipherSpec ciphers;
  std::optional<TlsVersion> min_version;
  std::optional<TlsVersion> max_version;
  std::vector<uint16_t> groups;
  bool prefer_server_ciphers = true;
  bool legacy = false;
};

}  // namespace tlsweep::backends
