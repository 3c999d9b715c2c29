#include "backends/openssl/openssl_context.h"

#include <openssl/err.h>
#include <openssl/provider.h>

#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "backends/tls_version.h"

namespace tlsweep::backends::openssl {
namespace {

struct GroupName {
  uint16_t iana_id;
  int nid;
  absl::string_view openssl_name;
};

constexpr GroupName kGroups[] = {
    {23, NID_X9_62_prime256v1, "P-256"},
    {24, NID_secp384r1, "P-384"},
    {25, NID_secp521r1, "P-521"},
    {29, NID_X25519, "X25519"},
    {30, NID_X448, "X448"},
    {256, NID_ffdhe2048, "ffdhe2048"},
    {257, NID_ffdhe3072, "ffdhe3072"},
    {258, NID_ffdhe4096, "ffdhe4096"},
    {259, NID_ffdhe6144, "ffdhe6144"},
    {260, NID_ffdhe8192, "ffdhe8192"},
};

// The legacy provider holds RC4, DES, MD4...; once loaded into the default library context
// the default provider is no longer loaded implicitly, so both are loaded, once per process.
// The handles are given back at exit (before OpenSSL's own clean-up, registered earlier), so
// that the providers are freed rather than left for LeakSanitizer to find.
absl::Status LoadLegacyProviders() {
  struct Providers {
    OSSL_PROVIDER* default_provider = OSSL_PROVIDER_load(nullptr, "default");
    OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    ~Providers() {
      if (legacy != nullptr) OSSL_PROVIDER_unload(legacy);
      if (default_provider != nullptr) OSSL_PROVIDER_unload(default_provider);
    }
  };
  static const Providers providers;
  const bool loaded = providers.default_provider != nullptr && providers.legacy != nullptr;
  if (!loaded) {
    return absl::InternalError(
        absl::StrCat("cannot load OpenSSL's legacy provider: ", DrainErrorQueue()));
  }
  return absl::OkStatus();
}

absl::Status ApplyCommon(SSL_CTX* ctx, const CipherSpec& ciphers,
                         const std::optional<TlsVersion>& min_version,
                         const std::optional<TlsVersion>& max_version,
                         const std::vector<uint16_t>& groups, bool legacy) {
  if (!ciphers.gnutls_priority.empty() && ciphers.openssl_ciphers.empty() &&
      ciphers.openssl_ciphersuites.empty()) {
    return absl::InvalidArgumentError(
        "the openssl backend takes an OpenSSL cipher string (--ciphers / --ciphersuites), not a "
        "GnuTLS priority string");
  }
  if (legacy) {
    if (absl::Status status = LoadLegacyProviders(); !status.ok()) return status;
  }
  if (!ciphers.openssl_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx, ciphers.openssl_ciphers.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("OpenSSL cipher string '",
                                                   ciphers.openssl_ciphers,
                                                   "' selects no cipher: ", DrainErrorQueue()));
  }
  if (!ciphers.openssl_ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, ciphers.openssl_ciphersuites.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("OpenSSL TLS 1.3 ciphersuites '",
                                                   ciphers.openssl_ciphersuites,
                                                   "' are not valid: ", DrainErrorQueue()));
  }
  // A security level written into the cipher string (@SECLEVEL=n) is the user's explicit word
  // and wins over the legacy switch.
  if (legacy && ciphers.openssl_ciphers.find("@SECLEVEL") == std::string::npos) {
    SSL_CTX_set_security_level(ctx, 0);
  }
  // Without an explicit minimum, legacy means "as old as the library can go": Debian's
  // openssl.cnf would otherwise keep TLS 1.0/1.1 out.
  std::optional<TlsVersion> effective_min = min_version;
  if (!effective_min && legacy) effective_min = TlsVersion::kTls1_0;
  if (effective_min && SSL_CTX_set_min_proto_version(ctx, static_cast<int>(*effective_min)) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenSSL cannot set minimum version ", TlsVersionName(*effective_min)));
  }
  if (max_version && SSL_CTX_set_max_proto_version(ctx, static_cast<int>(*max_version)) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpenSSL cannot set maximum version ", TlsVersionName(*max_version)));
  }
  if (!groups.empty()) {
    std::vector<absl::string_view> names;
    for (uint16_t id : groups) {
      const GroupName* found = nullptr;
      for (const GroupName& group : kGroups) {
        if (group.iana_id == id) found = &group;
      }
      if (found == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("OpenSSL backend: unsupported group ", id));
      }
      names.push_back(found->openssl_name);
    }
    const std::string list = absl::StrJoin(names, ":");
    if (SSL_CTX_set1_groups_list(ctx, list.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("OpenSSL rejects groups '", list, "': ", DrainErrorQueue()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DrainErrorQueue() {
  std::vector<std::string> errors;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    errors.emplace_back(buffer);
  }
  return absl::StrJoin(errors, "; ");
}

uint16_t GroupIdFromNid(int nid) {
  for (const GroupName& group : kGroups) {
    if (group.nid == nid) return group.iana_id;
  }
  return 0;
}

absl::StatusOr<SslCtxPtr> NewClientContext(const ClientConfig& config) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", DrainErrorQueue()));
  if (absl::Status status = ApplyCommon(ctx.get(), config.ciphers, config.min_version,
                                        config.max_version, config.groups, config.legacy);
      !status.ok()) {
    return status;
  }
  if (!config.ca_file.empty() &&
      SSL_CTX_load_verify_locations(ctx.get(), config.ca_file.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load CA bundle '", config.ca_file, "': ", DrainErrorQueue()));
  }
  // Verification never aborts a handshake: its result is recorded next to the outcome.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

absl::StatusOr<SslCtxPtr> NewServerContext(const ServerConfig& config) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", DrainErrorQueue()));
  if (absl::Status status = ApplyCommon(ctx.get(), config.ciphers, config.min_version,
                                        config.max_version, config.groups, config.legacy);
      !status.ok()) {
    return status;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.certificate_chain_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load certificate chain '",
                                                   config.certificate_chain_file,
                                                   "': ", DrainErrorQueue()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.private_key_file.c_str(), SSL_FILETYPE_PEM) !=
          1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot use private key '", config.private_key_file, "': ", DrainErrorQueue()));
  }
  if (config.prefer_server_ciphers) SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_dh_auto(ctx.get(), 1);
  SSL_CTX_set_num_tickets(ctx.get(), 0);  // No post-handshake tickets: less traffic per probe.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

}  // namespace tlsweep::backends::openssl
