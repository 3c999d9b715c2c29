#include "backends/candidate/settings_for_domain.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace tlsweep::backends {
namespace {

// The keys that may match `domain`, best first: the domain, then ".parent" forms from the
// nearest parent up (Postfix's tls_policy_lookup order).
std::vector<std::string> LookupKeys(absl::string_view domain) {
  std::string name = absl::AsciiStrToLower(absl::StripSuffix(domain, "."));
  std::vector<std::string> keys;
  if (name.empty()) return keys;
  keys.push_back(name);
  for (size_t dot = name.find('.', 1); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    keys.push_back(name.substr(dot));
  }
  return keys;
}

}  // namespace

const tlsweep::v1::DomainOverride* OverrideForDomain(
    const tlsweep::v1::TlsClientSettings& candidate, absl::string_view domain) {
  if (candidate.overrides().empty()) return nullptr;
  for (const std::string& key : LookupKeys(domain)) {
    for (const tlsweep::v1::DomainOverride& entry : candidate.overrides()) {
      if (entry.next_hop()) continue;
      for (const std::string& listed : entry.domains()) {
        if (listed == key) return &entry;
      }
    }
  }
  return nullptr;
}

const tlsweep::v1::TlsClientSettings& SettingsForDomain(
    const tlsweep::v1::TlsClientSettings& candidate, absl::string_view domain) {
  const tlsweep::v1::DomainOverride* entry = OverrideForDomain(candidate, domain);
  return entry == nullptr ? candidate : entry->settings();
}

DomainSettingsIndex::DomainSettingsIndex(const tlsweep::v1::TlsClientSettings& candidate)
    : candidate_(candidate) {
  for (const tlsweep::v1::DomainOverride& entry : candidate.overrides()) {
    if (entry.next_hop()) continue;
    for (const std::string& listed : entry.domains()) by_key_.try_emplace(listed, &entry);
  }
}

const tlsweep::v1::DomainOverride* DomainSettingsIndex::OverrideFor(
    absl::string_view domain) const {
  if (by_key_.empty()) return nullptr;
  for (const std::string& key : LookupKeys(domain)) {
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  }
  return nullptr;
}

const tlsweep::v1::TlsClientSettings& DomainSettingsIndex::For(absl::string_view domain) const {
  const tlsweep::v1::DomainOverride* entry = OverrideFor(domain);
  return entry == nullptr ? candidate_ : entry->settings();
}

}  // namespace tlsweep::backends
