#include "coordinator/report/weak_dependence.h"

#include <algorithm>
#include <set>

#include "backends/tls_version_proto.h"

namespace tlsweep::coordinator::report {

using tlsweep::v1::VersionEnumeration;

std::optional<ServerStrength> StrengthOf(const tlsweep::v1::Enumeration& enumeration) {
  ServerStrength strength;
  bool any = false;
  for (const VersionEnumeration& version : enumeration.versions()) {
    if (version.status() == VersionEnumeration::INCOMPLETE ||
        version.status() == VersionEnumeration::ERROR) {
      return std::nullopt;
    }
    if (version.status() != VersionEnumeration::SUPPORTED) continue;
    const std::set<uint32_t> fails(version.hello_only_suites().begin(),
                                   version.hello_only_suites().end());
    for (const tlsweep::v1::CipherSuite& suite : version.suites()) {
      if (fails.contains(suite.code_point())) continue;
      any = true;
      strength.best_class = std::max(
          strength.best_class, backends::SuiteClassOf(static_cast<uint16_t>(suite.code_point())));
      strength.newest = std::max(strength.newest, backends::VersionFromProto(version.version()));
    }
  }
  if (!any) return std::nullopt;
  return strength;
}

std::optional<ServerStrength> DomainStrength(
    const std::vector<std::optional<ServerStrength>>& servers) {
  if (servers.empty()) return std::nullopt;
  ServerStrength strongest;
  for (const std::optional<ServerStrength>& server : servers) {
    if (!server.has_value()) return std::nullopt;
    strongest.best_class = std::max(strongest.best_class, server->best_class);
    strongest.newest = std::max(strongest.newest, server->newest);
  }
  return strongest;
}

}  // namespace tlsweep::coordinator::report
