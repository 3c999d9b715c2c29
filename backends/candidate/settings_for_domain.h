// Which settings a candidate uses for a mail domain: its own, or those of the DomainOverride
// (Momentum Domain scope, Postfix TLS policy entry) that matches the domain.
//
// Matching, as Postfix looks up smtp_tls_policy_maps: "example.com" matches that domain only;
// ".example.com" matches its subdomains (any depth), not example.com itself. The exact key wins,
// then the nearest parent (".b.example.com" before ".example.com"); among equal keys the first
// override listed. Overrides marked next_hop never match a domain. Domains compare as lower-case
// A-labels without a trailing dot (ProbeResult.domain is already in that form).
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// The override's settings for `domain`, or `candidate` itself when none matches. The reference
// points into `candidate`. Scans every override: for many domains, use DomainSettingsIndex.
const tlsweep::v1::TlsClientSettings& SettingsForDomain(
    const tlsweep::v1::TlsClientSettings& candidate, absl::string_view domain);

// The matching override itself (for its scope), or nullptr.
const tlsweep::v1::DomainOverride* OverrideForDomain(
    const tlsweep::v1::TlsClientSettings& candidate, absl::string_view domain);

// SettingsForDomain for many lookups against one candidate: a hash lookup per label instead of
// a scan of every override. `candidate` must outlive the index and stay unchanged.
class DomainSettingsIndex {
 public:
  explicit DomainSettingsIndex(const tlsweep::v1::TlsClientSettings& candidate);

  const tlsweep::v1::TlsClientSettings& For(absl::string_view domain) const;
  const tlsweep::v1::DomainOverride* OverrideFor(absl::string_view domain) const;

 private:
  const tlsweep::v1::TlsClientSettings& candidate_;
  absl::flat_hash_map<std::string, const tlsweep::v1::DomainOverride*> by_key_;
};

}  // namespace tlsweep::backends
