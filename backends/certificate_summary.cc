#include "backends/certificate_summary.h"

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

}  // namespace

absl::StatusOr<tlsweep::v1::CertificateSummary> SummarizeCertificate(absl::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, X509Deleter> cert(
      d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!cert) return absl::InvalidArgumentError("certificate is not valid DER");

  tlsweep::v1::CertificateSummary summary;
  summary.set_subject(NameToString(X509_get_subject_name(cert.get())));
  summary.set_issuer(NameToString(X509_get_issuer_name(cert.get())));
  summary.set_not_before_unix(AsnTimeToUnix(X509_get0_notBefore(cert.get())));
  summary.set_not_after_unix(AsnTimeToUnix(X509_get0_notAfter(cert.get())));

  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      summary.add_dns_names(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                        static_cast<size_t>(ASN1_STRING_length(dns))));
    } else if (name->type == GEN_IPADD) {
      char* text = OPENSSL_buf2hexstr(name->d.iPAddress->data, name->d.iPAddress->length);
      summary.add_ip_addresses(text != nullptr ? text : "");
      OPENSSL_free(text);
    }
  }
  GENERAL_NAMES_free(names);

  if (const EVP_PKEY* key = X509_get0_pubkey(cert.get()); key != nullptr) {
    summary.set_key_type(KeyType(key));
    summary.set_key_bits(static_cast<uint32_t>(EVP_PKEY_get_bits(key)));
  }
  const int signature_nid = X509_get_signature_nid(cert.get());
  summary.set_signature_algorithm(signature_nid != NID_undef ? OBJ_nid2ln(signature_nid) : "");

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  summary.set_sha256_fingerprint(absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest))));
  summary.set_der(std::string(der));
  return summary;
}

}  // namespace tlsweep::backends
