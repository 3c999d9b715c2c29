#include "backends/rawhello/key_share.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "backends/rawhello/hello_plan.h"

namespace tlsweep::backends::rawhello {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

absl::Status CryptoError(absl::string_view what) {
  char text[256] = {};
  ERR_error_string_n(ERR_get_error(), text, sizeof(text));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", text));
}

const char* FfdheName(uint16_t group) {
  switch (group) {
    case 256:
      return "ffdhe2048";
    case 257:
      return "ffdhe3072";
    case 258:
      return "ffdhe4096";
    case 259:
      return "ffdhe6144";
    case 260:
      return "ffdhe8192";
    default:
      return nullptr;
  }
}

PkeyPtr Generate(uint16_t group) {
  switch (group) {
    case 29:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"), &EVP_PKEY_free);
    case 30:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "X448"), &EVP_PKEY_free);
    case 23:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
    case 24:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), &EVP_PKEY_free);
    case 25:
      return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"), &EVP_PKEY_free);
    default:
      break;
  }
  const char* ffdhe = FfdheName(group);
  if (ffdhe == nullptr) return PkeyPtr(nullptr, &EVP_PKEY_free);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr), &EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), ffdhe) != 1 ||
      EVP_PKEY_generate(ctx.get(), &key) != 1) {
    return PkeyPtr(nullptr, &EVP_PKEY_free);
  }
  return PkeyPtr(key, &EVP_PKEY_free);
}

}  // namespace

absl::StatusOr<std::string> MakeKeySharePublicKey(uint16_t group) {
  if (!CanMakeKeyShare(group)) {
    return absl::InvalidArgumentError(absl::StrCat("no key-share key for group ", group));
  }
  PkeyPtr key = Generate(group);
  if (!key) return CryptoError(absl::StrCat("key generation for group ", group));
  // X25519/X448: the raw key; EC: the uncompressed point; DH: the public value padded to the
  // size of the prime. libcrypto's encoded public key is each of these.
  unsigned char* encoded = nullptr;
  const size_t length = EVP_PKEY_get1_encoded_public_key(key.get(), &encoded);
  if (length == 0 || encoded == nullptr) {
    return CryptoError(absl::StrCat("encoding the key of group ", group));
  }
  std::string bytes(reinterpret_cast<const char*>(encoded), length);
  OPENSSL_free(encoded);
  return bytes;
}

std::string RandomBytes(size_t size) {
  std::string bytes(size, '\0');
  if (size > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1) {
    // The default DRBG does not fail once seeded; should it, any bytes serve a probe's hello
    // (nothing secret depends on them).
    ERR_clear_error();
  }
  return bytes;
}

}  // namespace tlsweep::backends::rawhello
