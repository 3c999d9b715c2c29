#include "backends/suite_class.h"

#include "absl/strings/match.h"
#include "backends/cipher_suite_table.h"

namespace tlsweep::backends {

SuiteClass SuiteClassOf(uint16_t code_point) {
  const CipherSuiteInfo* info = FindCipherSuite(code_point);
  if (info == nullptr) return SuiteClass::kStrong;
  if (absl::StrContains(info->iana_name, "EXPORT")) return SuiteClass::kExport;
  if (info->encryption == "None" || info->authentication == "None") {
    return SuiteClass::kNullOrAnonymous;
  }
  if (absl::StartsWith(info->encryption, "DES(") || absl::StartsWith(info->encryption, "RC2")) {
    return SuiteClass::kLow;
  }
  if (absl::StartsWith(info->encryption, "RC4")) return SuiteClass::kRc4;
  if (absl::StartsWith(info->encryption, "3DES")) return SuiteClass::k3des;
  if (info->mac == "SHA1" || info->mac == "MD5") return SuiteClass::kCbcSha1;
  return SuiteClass::kStrong;
}

absl::string_view SuiteClassName(SuiteClass suite_class) {
  switch (suite_class) {
    case SuiteClass::kExport:
      return "EXPORT";
    case SuiteClass::kNullOrAnonymous:
      return "NULL/anonymous";
    case SuiteClass::kLow:
      return "LOW (DES)";
    case SuiteClass::kRc4:
      return "RC4";
    case SuiteClass::k3des:
      return "3DES";
    case SuiteClass::kCbcSha1:
      return "CBC-SHA1";
    case SuiteClass::kStrong:
      return "strong";
  }
  return "strong";
}

}  // namespace tlsweep::backends
