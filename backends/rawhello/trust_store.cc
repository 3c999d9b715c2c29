#include "backends/rawhello/trust_store.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends::rawhello {
namespace {

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ParseDer(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TrustStore>> TrustStore::Load(const std::string& ca_file) {
  ERR_clear_error();
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return absl::ResourceExhaustedError("X509_STORE_new failed");
  if (X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    X509_STORE_free(store);
    char text[256] = {};
    ERR_error_string_n(ERR_get_error(), text, sizeof(text));
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load CA bundle '", ca_file, "': ", text));
  }
  return std::shared_ptr<const TrustStore>(new TrustStore(store));
}

TrustStore::~TrustStore() { X509_STORE_free(store_); }

Verification TrustStore::Verify(const std::vector<std::string>& chain,
                                const std::string& name) const {
  Verification verification;
  verification.performed = true;
  if (chain.empty()) {
    verification.error = "no peer certificate";
    return verification;
  }
  X509Ptr leaf = ParseDer(chain.front());
  if (!leaf) {
    verification.error = "the leaf certificate is not valid DER";
    return verification;
  }
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain.size() && untrusted != nullptr; ++i) {
    if (X509Ptr certificate = ParseDer(chain[i]); certificate) {
      sk_X509_push(untrusted, certificate.release());
    }
  }
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  if (untrusted == nullptr || context == nullptr ||
      X509_STORE_CTX_init(context, store_, leaf.get(), untrusted) != 1) {
    verification.error = "cannot set up chain verification";
  } else {
    X509_STORE_CTX_set_default(context, "ssl_server");
    verification.trusted = X509_verify_cert(context) == 1;
    if (!verification.trusted) {
      verification.error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(context));
    }
  }
  X509_STORE_CTX_free(context);
  sk_X509_pop_free(untrusted, X509_free);
  verification.expired = X509_cmp_current_time(X509_get0_notAfter(leaf.get())) < 0;
  if (!name.empty()) {
    const bool is_ip = X509_check_ip_asc(leaf.get(), name.c_str(), 0) == 1;
    verification.hostname_match =
        is_ip || X509_check_host(leaf.get(), name.c_str(), name.size(), 0, nullptr) == 1;
  }
  ERR_clear_error();
  return verification;
}

}  // namespace tlsweep::backends::rawhello
