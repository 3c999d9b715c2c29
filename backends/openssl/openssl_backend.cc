// The OpenSSL backend plugin. Debian 12's OpenSSL 3.0 speaks TLS 1.0-1.3; TLS 1.0/1.1 and
// SHA-1 only at security level 0 (the legacy switch). It was built without SSLv3, EXPORT, RC4
// and 3DES suites (no-weak-ssl-ciphers), which no setting brings back; NULL, anonymous (aNULL),
// CAMELLIA, ARIA, SEED and CCM8 suites remain available at @SECLEVEL=0.
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/cipher_suite_table.h"
#include "backends/hello_parser.h"
#include "backends/openssl/client_context_cache.h"
#include "backends/openssl/openssl_certificate.h"
#include "backends/openssl/openssl_context.h"
#include "backends/openssl/openssl_engine.h"

namespace tlsweep::backends::openssl {
namespace {

// The ClientHello a config produces when it may offer only `version`; NotFound when OpenSSL
// refuses to offer that version at all (out of range, or below the security level's floor).
absl::StatusOr<ClientHello> HelloForVersion(const ClientConfig& config, TlsVersion version) {
  ClientConfig single = config;
  single.min_version = version;
  single.max_version = version;
  single.ca_file.clear();
  absl::StatusOr<SslCtxPtr> ctx = NewClientContext(single);
  if (!ctx.ok()) return ctx.status();
  absl::StatusOr<std::unique_ptr<OpensslEngine>> engine =
      OpensslEngine::NewClient(*std::move(ctx), config.sni, false, "");
  if (!engine.ok()) return engine.status();
  if ((*engine)->Advance() == HandshakeState::kFailed) {
    return absl::NotFoundError((*engine)->Outcome().library_error);
  }
  return ParseClientHello((*engine)->TakeOutput());
}

// Below TLS 1.2 a server signs its key exchange with MD5+SHA-1 or SHA-1, which OpenSSL 3
// refuses at security level 1 and above ("legacy sigalg disallowed"). Such suites still appear
// in the ClientHello (and in `openssl ciphers -s`), and a server may pick them, but no
// handshake on them can complete: they are offered with `completes` false.
bool NeedsLegacySignature(uint16_t code, TlsVersion version, int security_level) {
  if (security_level < 1 || TlsVersion::kTls1_2 <= version) return false;
  const CipherSuiteInfo* suite = FindCipherSuite(code);
  if (suite == nullptr) return false;
  const bool ephemeral = suite->key_exchange == "ECDH" || suite->key_exchange == "DH";
  const bool signed_kx = suite->authentication == "RSA" || suite->authentication == "ECDSA" ||
                         suite->authentication == "DSS";
  return ephemeral && signed_kx;
}

// OpenSSL's own name for a code point; empty when this build does not know the suite.
std::string OpensslSuiteName(uint16_t code) {
  static SSL_CTX* const ctx = SSL_CTX_new(TLS_client_method());
  static SSL* const ssl = ctx != nullptr ? SSL_new(ctx) : nullptr;  // Lookups only: never freed.
  const unsigned char bytes[2] = {static_cast<unsigned char>(code >> 8),
                                  static_cast<unsigned char>(code & 0xff)};
  const SSL_CIPHER* cipher = ssl != nullptr ? SSL_CIPHER_find(ssl, bytes) : nullptr;
  return cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "";
}

class OpensslBackend final : public Backend {
 public:
  absl::string_view Name() const override { return "openssl"; }

  std::string LibraryVersion() const override { return OpenSSL_version(OPENSSL_VERSION); }

  std::vector<TlsVersion> SpeakableVersions() const override {
    return {TlsVersion::kTls1_0, TlsVersion::kTls1_1, TlsVersion::kTls1_2, TlsVersion::kTls1_3};
  }

  absl::StatusOr<std::unique_ptr<TlsEngine>> NewClient(const ClientConfig& config) override {
    absl::StatusOr<SslCtxPtr> ctx = client_contexts_.Get(config);
    if (!ctx.ok()) return ctx.status();
    const std::string& name = config.verify_name.empty() ? config.sni : config.verify_name;
    absl::StatusOr<std::unique_ptr<OpensslEngine>> engine =
        OpensslEngine::NewClient(*std::move(ctx), config.sni, !config.ca_file.empty(), name);
    if (!engine.ok()) return engine.status();
    return std::unique_ptr<TlsEngine>(*std::move(engine));
  }

  absl::StatusOr<std::unique_ptr<TlsEngine>> NewServer(const ServerConfig& config) override {
    absl::StatusOr<SslCtxPtr> ctx = NewServerContext(config);
    if (!ctx.ok()) return ctx.status();
    absl::StatusOr<std::unique_ptr<OpensslEngine>> engine =
        OpensslEngine::NewServer(*std::move(ctx));
    if (!engine.ok()) return engine.status();
    return std::unique_ptr<TlsEngine>(*std::move(engine));
  }

  CertificateFacts DescribeCertificate(absl::string_view der) const override {
    return DescribeCertificateWithOpenssl(der);
  }

  // Reads the offer off the wire: one ClientHello per version, so that each version lists
  // exactly the suites OpenSSL would accept with it (`openssl ciphers -s -v` does the same).
  absl::StatusOr<Offer> Expand(const ClientConfig& config) override {
    // Validate the whole config once, so that a bad cipher string is an error, not "nothing".
    absl::StatusOr<SslCtxPtr> ctx = NewClientContext(config);
    if (!ctx.ok()) return ctx.status();
    const int security_level = SSL_CTX_get_security_level(ctx->get());
    Offer offer;
    for (TlsVersion version : SpeakableVersions()) {
      if (config.min_version && version < *config.min_version) continue;
      if (config.max_version && *config.max_version < version) continue;
      absl::StatusOr<ClientHello> hello = HelloForVersion(config, version);
      if (absl::IsNotFound(hello.status())) continue;
      if (!hello.ok()) return hello.status();
      bool any = false;
      for (uint16_t code : hello->cipher_suites) {
        if (IsTls13Suite(code) != (version == TlsVersion::kTls1_3)) continue;
        offer.suites.push_back({version, code, OpensslSuiteName(code),
                                !NeedsLegacySignature(code, version, security_level)});
        any = true;
      }
      if (!any) continue;
      offer.versions.push_back(version);
      if (!hello->supported_groups.empty()) offer.groups = hello->supported_groups;
    }
    return offer;
  }

 private:
  ClientContextCache client_contexts_;
};

}  // namespace
}  // namespace tlsweep::backends::openssl

TLSWEEP_DEFINE_BACKEND("openssl", tlsweep::backends::openssl::OpensslBackend)
