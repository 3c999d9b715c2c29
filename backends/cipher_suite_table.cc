#include "backends/cipher_suite_table.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_format.h"

namespace tlsweep::backends {
namespace {

// Sorted by code point (the generator sorts), so lookups are binary searches.
constexpr CipherSuiteInfo kSuites[] = {
#include "backends/tables/cipher_suites.inc"
};

}  // namespace

std::span<const CipherSuiteInfo> AllCipherSuites() { return kSuites; }

const CipherSuiteInfo* FindCipherSuite(uint16_t code_point) {
  const auto* it = std::lower_bound(
      std::begin(kSuites), std::end(kSuites), code_point,
      [](const CipherSuiteInfo& suite, uint16_t code) { return suite.code_point < code; });
  if (it == std::end(kSuites) || it->code_point != code_point) return nullptr;
  return it;
}

const CipherSuiteInfo* FindCipherSuiteByIanaName(absl::string_view iana_name) {
  for (const CipherSuiteInfo& suite : kSuites) {
    if (suite.iana_name == iana_name) return &suite;
  }
  return nullptr;
}

std::string CipherSuiteName(uint16_t code_point) {
  const CipherSuiteInfo* suite = FindCipherSuite(code_point);
  if (suite != nullptr) return std::string(suite->iana_name);
  return absl::StrFormat("0x%04X", code_point);
}

}  // namespace tlsweep::backends
