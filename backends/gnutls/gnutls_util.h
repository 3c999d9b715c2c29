// GnuTLS helpers shared by the engine and the backend: priority strings, and the translation of
// GnuTLS enums into the IANA code points the rest of tlsweep speaks. Private to this plugin.
#pragma once

#include <gnutls/gnutls.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/tls_config.h"
#include "backends/tls_version.h"

namespace tlsweep::backends::gnutls_backend {

struct PriorityDeleter {
  void operator()(gnutls_priority_st* priority) const { gnutls_priority_deinit(priority); }
};
using PriorityPtr = std::unique_ptr<gnutls_priority_st, PriorityDeleter>;

// The GnuTLS priority string for a config: the caller's priority (default "NORMAL") with the
// legacy tokens inserted after its initial keyword, then the version range, then the group list,
// then %SERVER_PRECEDENCE. What comes later wins, so min/max and groups override both.
// Rejects a config that sets only OpenSSL cipher strings, SSLv3 and an empty version range.
absl::StatusOr<std::string> BuildPriorityString(const CipherSpec& ciphers,
                                                std::optional<TlsVersion> min_version,
                                                std::optional<TlsVersion> max_version,
                                                const std::vector<uint16_t>& groups, bool legacy,
                                                bool server_precedence);

// gnutls_priority_init2, with the error position of a bad string in the message.
absl::StatusOr<PriorityPtr> InitPriority(const std::string& priority);

// "The error text (GNUTLS_E_NAME)".
std::string GnutlsErrorText(int error);

TlsVersion FromGnutlsProtocol(gnutls_protocol_t protocol);
std::optional<gnutls_protocol_t> ToGnutlsProtocol(TlsVersion version);

// IANA supported-group ids; 0 / nullopt outside the table.
uint16_t IanaGroupId(gnutls_group_t group);
std::optional<gnutls_group_t> GnutlsGroup(uint16_t iana_id);

// One row of GnuTLS's cipher suite table (gnutls_cipher_suite_info).
struct GnutlsSuite {
  uint16_t code_point = 0;
  std::string name;  // GnuTLS's own name, e.g. "TLS_ECDHE_RSA_AES_128_GCM_SHA256".
  gnutls_kx_algorithm_t kx = GNUTLS_KX_UNKNOWN;  // GNUTLS_KX_UNKNOWN for TLS 1.3 suites.
  gnutls_cipher_algorithm_t cipher = GNUTLS_CIPHER_UNKNOWN;
  gnutls_mac_algorithm_t mac = GNUTLS_MAC_UNKNOWN;
  gnutls_protocol_t min_version = GNUTLS_VERSION_UNKNOWN;
};
std::optional<GnutlsSuite> SuiteByIndex(size_t index);

// The suite negotiated on an established session.
std::optional<GnutlsSuite> NegotiatedSuite(gnutls_session_t session);

// Key exchanges a client offers with the credentials NewClient sets up (certificate, and
// anonymous when the priority enables an ANON kx). PSK and SRP need secrets we do not have.
bool ClientCanOfferKx(gnutls_kx_algorithm_t kx);

// True when the priority enables ANON-DH or ANON-ECDH.
bool PriorityHasAnonKx(gnutls_priority_t priority);

}  // namespace tlsweep::backends::gnutls_backend
