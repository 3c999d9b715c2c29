// Which domains still depend on weak cipher suites or old TLS versions, from the enumerations:
// a domain depends on a class when every MX it has accepts nothing stronger, so dropping that
// class from the sender's config cuts it off ("12 domains, 0.4% of volume, negotiate only 3DES
// or RC4"). One MX that accepts something stronger is enough for the mail to flow.
#pragma once

#include <optional>
#include <vector>

#include "backends/suite_class.h"
#include "backends/tls_version.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator::report {

// The report index's rollup rows (candidate ""): per domain with an enumeration of every MX,
// "dependence" is "known" or "unknown" (some MX's enumeration cannot say), and each known one
// has its strongest class and newest version.
inline constexpr char kDependenceDimension[] = "dependence";
inline constexpr char kDependenceKnown[] = "known";
inline constexpr char kDependenceUnknown[] = "unknown";
inline constexpr char kSuiteClassDimension[] = "strongest_suite_class";
inline constexpr char kVersionDimension[] = "newest_version";

// The strongest a server accepts: the best suite class and the newest version at which some
// suite completes (or was accepted in a ServerHello no library could complete: the raw
// backend's suites count, suites that fail after the ServerHello do not).
struct ServerStrength {
  backends::SuiteClass best_class = backends::SuiteClass::kExport;
  backends::TlsVersion newest = backends::TlsVersion::kUnknown;
};

// nullopt when the enumeration cannot say: cut short or in error at some version, or nothing
// accepted at all (the server takes no TLS; that is a failure, not a dependence).
std::optional<ServerStrength> StrengthOf(const tlsweep::v1::Enumeration& enumeration);

// The domain's dependence: the strongest of its MX servers. nullopt when any of them is unknown.
std::optional<ServerStrength> DomainStrength(
    const std::vector<std::optional<ServerStrength>>& servers);

}  // namespace tlsweep::coordinator::report
