// Compares secrets (API tokens) in time that depends only on their lengths, so that how long a
// refusal takes says nothing about how much of a guess was right.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tlsweep::backends {

bool SameSecret(absl::string_view a, absl::string_view b);

// True when `presented` is non-empty and equals one of `secrets`; every one is compared.
bool MatchesAnySecret(absl::string_view presented, const std::vector<std::string>& secrets);

}  // namespace tlsweep::backends
