#include "backends/rawhello/cipher_list.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/cipher_suite_table.h"
#include "backends/rawhello/sslv2_cipher_specs.h"

namespace tlsweep::backends::rawhello {
namespace {

constexpr absl::string_view kGrammar =
    "rawhello takes explicit lists: IANA or OpenSSL suite names, 0xNNNN code points, SSLv2 "
    "specs (SSL_CK_... or 0xNNNNNN), ALL or SSLv2, separated by ':' (see "
    "backends/rawhello/README.md)";

const CipherSuiteInfo* FindByOpensslName(absl::string_view name) {
  for (const CipherSuiteInfo& suite : AllCipherSuites()) {
    if (!suite.openssl_name.empty() && absl::EqualsIgnoreCase(suite.openssl_name, name)) {
      return &suite;
    }
  }
  return nullptr;
}

const CipherSuiteInfo* FindByIanaName(absl::string_view name) {
  for (const CipherSuiteInfo& suite : AllCipherSuites()) {
    if (absl::EqualsIgnoreCase(suite.iana_name, name)) return &suite;
  }
  return nullptr;
}

// "0x" followed by exactly `digits` hex digits.
bool ParseHex(absl::string_view token, size_t digits, uint32_t& value) {
  if (token.size() != digits + 2 || !absl::StartsWithIgnoreCase(token, "0x")) return false;
  const absl::string_view hex = token.substr(2);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
    return false;
  }
  return absl::SimpleHexAtoi(hex, &value);
}

template <typename T>
void AddOnce(std::vector<T>& list, T value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

const std::vector<uint16_t>& DefaultTls13Suites() {
  static const std::vector<uint16_t> kSuites = {0x1302, 0x1303, 0x1301, 0x1304, 0x1305};
  return kSuites;
}

absl::StatusOr<CipherList> ParseCipherList(absl::string_view text, CipherField field) {
  CipherList list;
  for (absl::string_view token :
       absl::StrSplit(text, absl::ByAnyChar(":, \t\n"), absl::SkipEmpty())) {
    uint32_t code = 0;
    if (absl::EqualsIgnoreCase(token, "ALL")) {
      if (field == CipherField::kCiphersuites) {
        for (uint16_t suite : DefaultTls13Suites()) AddOnce(list.suites, suite);
        continue;
      }
      for (const CipherSuiteInfo& suite : AllCipherSuites()) {
        if (suite.code_point == 0x0000 || IsTls13Suite(suite.code_point)) continue;
        AddOnce(list.suites, suite.code_point);
      }
    } else if (absl::EqualsIgnoreCase(token, "SSLv2")) {
      for (const Sslv2CipherSpec& spec : AllSslv2CipherSpecs())
        AddOnce(list.sslv2_specs, spec.code);
    } else if (absl::EqualsIgnoreCase(token, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV")) {
      AddOnce(list.suites, kRenegotiationScsv);
    } else if (absl::EqualsIgnoreCase(token, "TLS_FALLBACK_SCSV")) {
      AddOnce(list.suites, kFallbackScsv);
    } else if (ParseHex(token, 4, code)) {
      AddOnce(list.suites, static_cast<uint16_t>(code));
    } else if (ParseHex(token, 6, code)) {
      if ((code >> 16) == 0) {
        AddOnce(list.suites, static_cast<uint16_t>(code));  // 0x00XXYY: a TLS suite, v2-style.
      } else {
        AddOnce(list.sslv2_specs, code);
      }
    } else if (const Sslv2CipherSpec* spec = FindSslv2CipherSpecByName(token); spec != nullptr) {
      AddOnce(list.sslv2_specs, spec->code);
    } else if (const CipherSuiteInfo* suite = FindByIanaName(token); suite != nullptr) {
      AddOnce(list.suites, suite->code_point);
    } else if (const CipherSuiteInfo* named = FindByOpensslName(token); named != nullptr) {
      AddOnce(list.suites, named->code_point);
    } else if (absl::StrContains("!-+@", token.front())) {
      return absl::InvalidArgumentError(
          absl::StrCat("rawhello: '", token, "' is OpenSSL rule syntax; ", kGrammar));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("rawhello: unknown suite '", token, "'; ", kGrammar));
    }
  }
  return list;
}

}  // namespace tlsweep::backends::rawhello
