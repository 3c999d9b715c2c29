#include "backends/openssl/openssl_certificate.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "backends/signature_algorithm_names.h"

namespace tlsweep::backends {
namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};

std::string NameToString(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

int64_t AsnTimeToUnix(const ASN1_TIME* time) {
  struct tm parts = {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return 0;
  return static_cast<int64_t>(timegm(&parts));
}

std::string KeyType(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_RSA_PSS:
      return "RSA-PSS";
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_DSA:
      return "DSA";
    case EVP_PKEY_ED25519:
      return "ED25519";
    case EVP_PKEY_ED448:
      return "ED448";
    default:
      return "unknown";
  }
}

std::string AddressText(const ASN1_OCTET_STRING* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  const int length = ASN1_STRING_length(bytes);
  const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  if (family == 0 ||
      inet_ntop(family, ASN1_STRING_get0_data(bytes), text, sizeof(text)) == nullptr) {
    return "";
  }
  return text;
}

}  // namespace

CertificateFacts DescribeCertificateWithOpenssl(absl::string_view der) {
  CertificateFacts facts;
  facts.der = std::string(der);
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, X509Deleter> cert(
      d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!cert) return facts;
  facts.parsed = true;
  facts.subject = NameToString(X509_get_subject_name(cert.get()));
  facts.issuer = NameToString(X509_get_issuer_name(cert.get()));
  facts.not_before_unix = AsnTimeToUnix(X509_get0_notBefore(cert.get()));
  facts.not_after_unix = AsnTimeToUnix(X509_get0_notAfter(cert.get()));

  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      facts.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                   static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      if (std::string text = AddressText(name->d.iPAddress); !text.empty()) {
        facts.ip_addresses.push_back(std::move(text));
      }
    }
  }
  GENERAL_NAMES_free(names);

  if (const EVP_PKEY* key = X509_get0_pubkey(cert.get()); key != nullptr) {
    facts.key_type = KeyType(key);
    facts.key_bits = static_cast<uint32_t>(EVP_PKEY_get_bits(key));
  }
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(nullptr, &algorithm, cert.get());
  if (algorithm != nullptr) {
    const ASN1_OBJECT* object = nullptr;
    X509_ALGOR_get0(&object, nullptr, nullptr, algorithm);
    char oid[128] = {};
    if (object != nullptr && OBJ_obj2txt(oid, sizeof(oid), object, /*no_name=*/1) > 0) {
      facts.signature_algorithm = SignatureAlgorithmName(oid);
    }
  }

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  facts.sha256_hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  return facts;
}

}  // namespace tlsweep::backends
