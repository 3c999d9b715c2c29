#include "backends/gnutls/gnutls_certificate.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "backends/signature_algorithm_names.h"

namespace tlsweep::backends {
namespace {

constexpr unsigned int kMaxAltNames = 10000;

struct CrtDeleter {
  void operator()(gnutls_x509_crt_int* crt) const { gnutls_x509_crt_deinit(crt); }
};

std::string Take(gnutls_datum_t datum) {
  std::string text(reinterpret_cast<const char*>(datum.data), datum.size);
  gnutls_free(datum.data);
  return text;
}

std::string KeyType(int algorithm) {
  switch (algorithm) {
    case GNUTLS_PK_RSA:
      return "RSA";
    case GNUTLS_PK_RSA_PSS:
      return "RSA-PSS";
    case GNUTLS_PK_ECDSA:
      return "EC";
    case GNUTLS_PK_DSA:
      return "DSA";
    case GNUTLS_PK_EDDSA_ED25519:
      return "ED25519";
    case GNUTLS_PK_EDDSA_ED448:
      return "ED448";
    default:
      return "unknown";
  }
}

}  // namespace

CertificateFacts DescribeCertificateWithGnutls(absl::string_view der) {
  CertificateFacts facts;
  facts.der = std::string(der);
  gnutls_x509_crt_t raw = nullptr;
  if (gnutls_x509_crt_init(&raw) != GNUTLS_E_SUCCESS) return facts;
  std::unique_ptr<gnutls_x509_crt_int, CrtDeleter> crt(raw);
  const gnutls_datum_t datum = {reinterpret_cast<unsigned char*>(const_cast<char*>(der.data())),
                                static_cast<unsigned int>(der.size())};
  if (gnutls_x509_crt_import(crt.get(), &datum, GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS) {
    return facts;
  }
  facts.parsed = true;
  gnutls_datum_t name = {};
  if (gnutls_x509_crt_get_dn3(crt.get(), &name, 0) == GNUTLS_E_SUCCESS) facts.subject = Take(name);
  if (gnutls_x509_crt_get_issuer_dn3(crt.get(), &name, 0) == GNUTLS_E_SUCCESS) {
    facts.issuer = Take(name);
  }
  facts.not_before_unix = static_cast<int64_t>(gnutls_x509_crt_get_activation_time(crt.get()));
  facts.not_after_unix = static_cast<int64_t>(gnutls_x509_crt_get_expiration_time(crt.get()));

  // Entries one by one, as OpenSSL lists them: one that cannot be read is skipped, not the end.
  for (unsigned int index = 0; index < kMaxAltNames; ++index) {
    char buffer[1024];
    size_t size = sizeof(buffer);
    const int type = gnutls_x509_crt_get_subject_alt_name(crt.get(), index, buffer, &size, nullptr);
    if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
    if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) continue;  // A name longer than any host name.
    if (type < 0) continue;
    if (type == GNUTLS_SAN_DNSNAME) {
      facts.dns_names.emplace_back(buffer, size);
    } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
      char text[INET6_ADDRSTRLEN] = {};
      if (inet_ntop(size == 4 ? AF_INET : AF_INET6, buffer, text, sizeof(text)) != nullptr) {
        facts.ip_addresses.emplace_back(text);
      }
    }
  }

  unsigned int bits = 0;
  const int algorithm = gnutls_x509_crt_get_pk_algorithm(crt.get(), &bits);
  if (algorithm >= 0) {
    facts.key_type = KeyType(algorithm);
    facts.key_bits = bits;
  }
  char oid[128];
  size_t oid_size = sizeof(oid);
  if (gnutls_x509_crt_get_signature_oid(crt.get(), oid, &oid_size) == GNUTLS_E_SUCCESS) {
    facts.signature_algorithm = SignatureAlgorithmName(oid);
  }

  unsigned char digest[32];
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data(), der.size(), digest) == GNUTLS_E_SUCCESS) {
    facts.sha256_hex = absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  }
  return facts;
}

}  // namespace tlsweep::backends
