#include "backends/candidate/candidate_variants.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace tlsweep::backends {

std::string ProbeSettingsKey(tlsweep::v1::TlsClientSettings settings) {
  settings.clear_name();
  settings.clear_source();
  settings.clear_overrides();
  settings.clear_variant_of();
  return settings.SerializeAsString();
}

std::vector<tlsweep::v1::TlsClientSettings> WithOverrideVariants(
    const std::vector<tlsweep::v1::TlsClientSettings>& candidates) {
  std::vector<tlsweep::v1::TlsClientSettings> out = candidates;
  for (const tlsweep::v1::TlsClientSettings& candidate : candidates) {
    if (!candidate.variant_of().empty()) continue;
    const std::string own = ProbeSettingsKey(candidate);
    std::map<std::string, bool> seen = {{own, true}};  // Same as the candidate: no variant.
    int n = 0;
    for (const tlsweep::v1::DomainOverride& override : candidate.overrides()) {
      if (override.next_hop() || override.settings().tls_disabled()) continue;
      if (!seen.emplace(ProbeSettingsKey(override.settings()), true).second) continue;
      tlsweep::v1::TlsClientSettings variant = override.settings();
      variant.clear_overrides();
      variant.set_name(absl::StrCat(candidate.name(), "~", ++n));
      variant.set_variant_of(candidate.name());
      variant.set_source(override.scope());
      out.push_back(std::move(variant));
    }
  }
  return out;
}

}  // namespace tlsweep::backends
