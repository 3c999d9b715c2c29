#include "backends/rawhello/sslv2_cipher_specs.h"

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace tlsweep::backends::rawhello {
namespace {

constexpr Sslv2CipherSpec kSpecs[] = {
    {0x0700C0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", "DES-CBC3-MD5"},
    {0x010080, "SSL_CK_RC4_128_WITH_MD5", "RC4-MD5"},
    {0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5", "RC2-CBC-MD5"},
    {0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5", "IDEA-CBC-MD5"},
    {0x080080, "SSL_CK_RC4_64_WITH_MD5", "RC4-64-MD5"},
    {0x060040, "SSL_CK_DES_64_CBC_WITH_MD5", "DES-CBC-MD5"},
    {0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5", "EXP-RC4-MD5"},
    {0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5", "EXP-RC2-CBC-MD5"},
};

}  // namespace

std::span<const Sslv2CipherSpec> AllSslv2CipherSpecs() { return kSpecs; }

const Sslv2CipherSpec* FindSslv2CipherSpec(uint32_t code) {
  for (const Sslv2CipherSpec& spec : kSpecs) {
    if (spec.code == code) return &spec;
  }
  return nullptr;
}

const Sslv2CipherSpec* FindSslv2CipherSpecByName(absl::string_view name) {
  for (const Sslv2CipherSpec& spec : kSpecs) {
    if (absl::EqualsIgnoreCase(spec.name, name)) return &spec;
  }
  return nullptr;
}

std::string Sslv2CipherSpecName(uint32_t code) {
  const Sslv2CipherSpec* spec = FindSslv2CipherSpec(code);
  if (spec != nullptr) return std::string(spec->name);
  return absl::StrFormat("0x%06X", code);
}

}  // namespace tlsweep::backends::rawhello
