#include "backends/secret_compare.h"

namespace tlsweep::backends {

bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;  // volatile: no early exit the compiler may add.
  for (size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool MatchesAnySecret(absl::string_view presented, const std::vector<std::string>& secrets) {
  bool ok = false;
  for (const std::string& secret : secrets) {  // No early exit.
    ok |= !presented.empty() && SameSecret(presented, secret);
  }
  return ok;
}

}  // namespace tlsweep::backends
