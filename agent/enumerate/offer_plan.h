// What an enumeration can offer: for each TLS version, the suites and groups each loaded backend
// can put in a ClientHello, read off the wire from the backend's widest client configuration,
// and how to make that backend offer any subset of them.
//
// A backend speaks one of three cipher-selection languages:
// - the OpenSSL language (a cipher string and a TLS 1.3 ciphersuites list) names single suites,
//   so any subset can be offered, in any order;
// - the GnuTLS language (a priority string) selects key exchanges x ciphers x MACs, so a subset
//   is offered as the product of the tokens its suites need. Which token a suite needs is found
//   by asking the backend what disappears when a token is removed (see SuiteTokens);
// - the raw language of backends/rawhello: explicit code points, any suite of the IANA table
//   (EXPORT, DES, RC4, NULL, SSLv3...). That backend writes the ClientHello itself and stops at
//   the server's choice, so it is used last, for the suites no library can offer, and what it
//   finds is ServerHello evidence only: no complete handshake can back it.
// Every offer is checked against the ClientHello the backend really produces (PrepareHello):
// the enumeration reasons about what went on the wire, never about what a config should do.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "backends/backend.h"
#include "backends/hello_parser.h"
#include "backends/tls_config.h"
#include "backends/tls_version.h"

namespace tlsweep::agent {

// In the order the enumeration uses them (OfferLanguageRank).
enum class OfferLanguage { kOpenssl, kGnutls, kRawHello };

// The widest client configurations (legacy on: OpenSSL at security level 0 with the legacy
// provider; GnuTLS with TLS 1.0/1.1, 3DES, RC4 and SHA-1 signatures).
inline constexpr char kWidestOpensslCiphers[] = "ALL:COMPLEMENTOFALL";
// OpenSSL's default order first (AES-256, ChaCha20, AES-128), then the two CCM suites.
inline constexpr char kWidestOpensslCiphersuites[] =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
    "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";
// GnuTLS 3.7's "+CIPHER-ALL" and "+MAC-ALL" leave out CAMELLIA, CCM-8, NULL, SHA256/384 and MD5
// MACs, and "+KX-ALL" leaves out DHE-DSS and the anonymous key exchanges: all are named.
// GnuTLS disables TLS 1.3 whenever the NULL cipher is enabled, so TLS 1.3 uses the same string
// without "+NULL" (kGnutlsTls13Exclusion).
inline constexpr char kWidestGnutlsPriority[] =
    "NONE:+VERS-ALL:+CIPHER-ALL:+CAMELLIA-128-CBC:+CAMELLIA-256-CBC:+CAMELLIA-128-GCM:"
    "+CAMELLIA-256-GCM:+AES-128-CCM-8:+AES-256-CCM-8:+3DES-CBC:+ARCFOUR-128:+NULL:+MAC-ALL:"
    "+SHA1:+SHA256:+SHA384:+MD5:+AEAD:+KX-ALL:+RSA:+DHE-RSA:+DHE-DSS:+ECDHE-RSA:+ECDHE-ECDSA:"
    "+ANON-DH:+ANON-ECDH:+SIGN-ALL:+GROUP-ALL:+COMP-NULL:+CTYPE-X509:%COMPAT";
inline constexpr char kGnutlsTls13Exclusion[] = ":+NULL";
// The raw language's widest lists: every table suite of each kind.
inline constexpr char kWidestRawCiphers[] = "ALL";

// The GnuTLS priority tokens of each dimension that a product offer may remove.
enum TokenDimension { kKeyExchange = 0, kCipher = 1, kMac = 2, kDimensions = 3 };
const std::array<std::vector<std::string>, kDimensions>& GnutlsTokens();

// For one suite: per dimension, the tokens without which the backend no longer offers it
// (empty: no single token removal drops it, e.g. the key exchange of a TLS 1.3 suite).
using SuiteTokens = std::array<std::vector<std::string>, kDimensions>;

// What one backend offers at one version.
struct BackendOffer {
  backends::Backend* backend = nullptr;
  OfferLanguage language = OfferLanguage::kOpenssl;
  // In the order of the backend's widest ClientHello; library names from the backend's Expand.
  std::vector<backends::OfferedSuite> suites;
  std::vector<uint16_t> groups;  // supported_groups of that ClientHello.
  // GnuTLS language only: the tokens each suite (by code point) needs.
  absl::flat_hash_map<uint16_t, SuiteTokens> tokens;

  bool Offers(uint16_t code_point) const;
  std::string LibraryName(uint16_t code_point) const;
};

struct VersionPlan {
  backends::TlsVersion version = backends::TlsVersion::kUnknown;
  // OpenSSL-language backends first, then GnuTLS-language, then raw, each by name; empty: no
  // backend speaks it.
  std::vector<BackendOffer> offers;
  // Suites of the IANA table defined for this version that no backend offers.
  std::vector<uint16_t> untested_suites;
};

struct OfferPlan {
  std::vector<VersionPlan> versions;  // Every version of AllTlsVersions(), oldest first.
  std::vector<std::string> backends;  // Names of the backends that contributed offers.
  std::vector<std::string> notes;     // Backends left out, and why.
};

// Builds the plan from the loaded backends. Fails only when no backend can be used at all.
absl::StatusOr<OfferPlan> BuildOfferPlan(absl::Span<backends::Backend* const> backends);

// True when `code_point` is a suite of the IANA table that can be negotiated at `version`.
bool DefinedAt(uint16_t code_point, backends::TlsVersion version);

// A ClientHello ready to send, and what it offers.
struct PreparedHello {
  std::string records;  // The ClientHello as TLS records.
  backends::ClientHello parsed;
};

// Runs a client engine of `backend` until it has written its ClientHello; no I/O.
absl::StatusOr<PreparedHello> PrepareHello(backends::Backend& backend,
                                           const backends::ClientConfig& config);

// The client config of `offer` that offers `suites` at exactly `version`, with `groups` (empty:
// the backend's widest list) and `legacy` on. OpenSSL and raw language: exactly these suites in
// this order. GnuTLS language: the product of the tokens they need, which may hold more suites (the
// caller checks the real ClientHello).
absl::StatusOr<backends::ClientConfig> ConfigFor(const BackendOffer& offer,
                                                 backends::TlsVersion version,
                                                 absl::Span<const uint16_t> suites,
                                                 absl::Span<const uint16_t> groups);

// GnuTLS language: splits `suites` into parts none of whose products needs every token of
// `avoid`'s (key exchange, cipher, MAC): the suites that differ from `avoid` in key exchange,
// then those that share its key exchange but differ in cipher, then in MAC. Suites that match
// `avoid` in every dimension cannot be offered without it and are returned in `inseparable`.
std::vector<std::vector<uint16_t>> SplitAround(const BackendOffer& offer,
                                               absl::Span<const uint16_t> suites, uint16_t avoid,
                                               std::vector<uint16_t>& inseparable);

}  // namespace tlsweep::agent
