#include "tests/testing/cert_factory.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tlsweep::testing {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey(KeyKind kind) {
  EVP_PKEY* key = kind == KeyKind::kRsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  return KeyPtr(key, &EVP_PKEY_free);
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (extension == nullptr) return false;
  const bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

absl::StatusOr<CertPtr> NewCertificate(const std::string& common_name, EVP_PKEY* key, X509* issuer,
                                       EVP_PKEY* issuer_key, int serial, int not_before_days,
                                       int not_after_days) {
  CertPtr cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before_days) * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after_days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tlsweep tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return absl::InternalError("X509_sign failed");
  }
  return cert;
}

absl::Status WritePem(const std::string& path, X509* cert, X509* extra, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return absl::InternalError(absl::StrCat("cannot write ", path));
  bool ok = true;
  if (cert != nullptr) ok = ok && PEM_write_X509(file, cert) == 1;
  if (extra != nullptr) ok = ok && PEM_write_X509(file, extra) == 1;
  if (key != nullptr) {
    ok = ok && PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  }
  std::fclose(file);
  return ok ? absl::OkStatus() : absl::InternalError(absl::StrCat("PEM write to ", path));
}

absl::StatusOr<CertPtr> ReadCertificate(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return absl::NotFoundError(path);
  CertPtr cert(PEM_read_X509(file, nullptr, nullptr, nullptr), &X509_free);
  std::fclose(file);
  if (!cert) return absl::InternalError(absl::StrCat("cannot parse ", path));
  return cert;
}

absl::StatusOr<KeyPtr> ReadKey(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return absl::NotFoundError(path);
  KeyPtr key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr), &EVP_PKEY_free);
  std::fclose(file);
  if (!key) return absl::InternalError(absl::StrCat("cannot parse ", path));
  return key;
}

}  // namespace

std::string MakeTempDirectory(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

absl::StatusOr<CertFactory> CertFactory::Create(const std::string& directory) {
  std::filesystem::create_directories(directory);
  CertFactory factory;
  factory.directory_ = directory;
  factory.ca_file_ = directory + "/ca.pem";
  factory.ca_key_file_ = directory + "/ca-key.pem";
  KeyPtr key = NewKey(KeyKind::kRsa2048);
  absl::StatusOr<CertPtr> ca =
      NewCertificate("tlsweep test CA", key.get(), nullptr, key.get(), 1, -1, 365);
  if (!ca.ok()) return ca.status();
  // Extensions must be added before signing; re-sign after adding them.
  AddExtension(ca->get(), ca->get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca->get(), ca->get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca->get(), ca->get(), NID_subject_key_identifier, "hash");
  X509_sign(ca->get(), key.get(), EVP_sha256());
  if (absl::Status s = WritePem(factory.ca_file_, ca->get(), nullptr, nullptr); !s.ok()) return s;
  if (absl::Status s = WritePem(factory.ca_key_file_, nullptr, nullptr, key.get()); !s.ok()) {
    return s;
  }
  return factory;
}

absl::StatusOr<IssuedCertificate> CertFactory::Issue(const std::string& file_stem,
                                                     const std::vector<std::string>& dns_names,
                                                     KeyKind kind, int not_before_days,
                                                     int not_after_days) {
  absl::StatusOr<CertPtr> ca = ReadCertificate(ca_file_);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<KeyPtr> ca_key = ReadKey(ca_key_file_);
  if (!ca_key.ok()) return ca_key.status();
  KeyPtr key = NewKey(kind);
  const std::string common_name = dns_names.empty() ? file_stem : dns_names.front();
  absl::StatusOr<CertPtr> cert = NewCertificate(common_name, key.get(), ca->get(), ca_key->get(),
                                                next_serial_++, not_before_days, not_after_days);
  if (!cert.ok()) return cert.status();
  std::vector<std::string> sans;
  for (const std::string& name : dns_names) {
    sans.push_back(name.rfind("IP:", 0) == 0 ? name : "DNS:" + name);
  }
  if (!sans.empty()) {
    AddExtension(cert->get(), ca->get(), NID_subject_alt_name, absl::StrJoin(sans, ","));
  }
  AddExtension(cert->get(), ca->get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert->get(), ca->get(), NID_ext_key_usage, "serverAuth");
  AddExtension(cert->get(), ca->get(), NID_authority_key_identifier, "keyid");
  X509_sign(cert->get(), ca_key->get(), EVP_sha256());
  IssuedCertificate issued{directory_ + "/" + file_stem + ".pem",
                           directory_ + "/" + file_stem + "-key.pem"};
  if (absl::Status s = WritePem(issued.chain_file, cert->get(), ca->get(), nullptr); !s.ok()) {
    return s;
  }
  if (absl::Status s = WritePem(issued.key_file, nullptr, nullptr, key.get()); !s.ok()) return s;
  return issued;
}

absl::StatusOr<std::string> ReadLeafDer(const std::string& chain_file) {
  absl::StatusOr<CertPtr> cert = ReadCertificate(chain_file);
  if (!cert.ok()) return cert.status();
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert->get(), &der);
  if (length <= 0) return absl::InternalError(absl::StrCat("cannot encode ", chain_file));
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return bytes;
}

}  // namespace tlsweep::testing
