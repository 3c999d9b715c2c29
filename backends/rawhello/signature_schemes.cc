#include "backends/rawhello/signature_schemes.h"

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace tlsweep::backends::rawhello {
namespace {

struct Scheme {
  uint16_t code;
  absl::string_view name;
};

// In offer order; DefaultSignatureSchemes() lists them all.
constexpr Scheme kSchemes[] = {
    {0x0403, "ecdsa_secp256r1_sha256"},
    {0x0503, "ecdsa_secp384r1_sha384"},
    {0x0603, "ecdsa_secp521r1_sha512"},
    {0x0807, "ed25519"},
    {0x0808, "ed448"},
    {0x0809, "rsa_pss_pss_sha256"},
    {0x080A, "rsa_pss_pss_sha384"},
    {0x080B, "rsa_pss_pss_sha512"},
    {0x0804, "rsa_pss_rsae_sha256"},
    {0x0805, "rsa_pss_rsae_sha384"},
    {0x0806, "rsa_pss_rsae_sha512"},
    {0x0401, "rsa_pkcs1_sha256"},
    {0x0501, "rsa_pkcs1_sha384"},
    {0x0601, "rsa_pkcs1_sha512"},
    {0x0303, "ecdsa_sha224"},
    {0x0301, "rsa_pkcs1_sha224"},
    {0x0302, "dsa_sha224"},
    {0x0402, "dsa_sha256"},
    {0x0502, "dsa_sha384"},
    {0x0602, "dsa_sha512"},
    {0x0203, "ecdsa_sha1"},
    {0x0201, "rsa_pkcs1_sha1"},
    {0x0202, "dsa_sha1"},
};

}  // namespace

const std::vector<uint16_t>& DefaultSignatureSchemes() {
  static const std::vector<uint16_t> kDefault = [] {
    std::vector<uint16_t> codes;
    for (const Scheme& scheme : kSchemes) codes.push_back(scheme.code);
    return codes;
  }();
  return kDefault;
}

std::string SignatureSchemeName(uint16_t scheme) {
  for (const Scheme& known : kSchemes) {
    if (known.code == scheme) return std::string(known.name);
  }
  return absl::StrFormat("0x%04X", scheme);
}

}  // namespace tlsweep::backends::rawhello
