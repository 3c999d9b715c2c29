// A ScanSpec from what a client sent: ScanHeader (CreateScan) and ScheduleHeader (AddSchedule)
// carry the same scan fields under the same names, validated and defaulted here once.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/candidate/candidate_variants.h"
#include "coordinator/coordinator.h"
#include "coordinator/store/store.h"

namespace tlsweep::coordinator {

// InvalidArgument for a bad region name, no region, a shard size above the coordinator's
// maximum or a port above 65535; zero fields take the coordinator's defaults.
template <typename Header>
absl::StatusOr<ScanSpec> ScanSpecFromHeader(const Header& header,
                                            const CoordinatorOptions& options) {
  ScanSpec spec;
  spec.name = header.name();
  spec.profile = header.profile();
  // Candidates with per-domain overrides are probed with each override's settings as well.
  const std::vector<tlsweep::v1::TlsClientSettings> candidates = backends::WithOverrideVariants(
      {header.profile().candidates().begin(), header.profile().candidates().end()});
  spec.profile.clear_candidates();
  for (const tlsweep::v1::TlsClientSettings& candidate : candidates) {
    *spec.profile.add_candidates() = candidate;
  }
  if (spec.profile.enumeration_max_age_s() < 0) {
    return absl::InvalidArgumentError("enumeration max age below 0");
  }
  for (const std::string& region : header.regions()) {
    if (region.empty() || absl::StrContains(region, ",")) {
      return absl::InvalidArgumentError(absl::StrCat("bad region name '", region, "'"));
    }
    spec.regions.push_back(region);
  }
  if (spec.regions.empty()) return absl::InvalidArgumentError("give at least one region");
  spec.shard_size = header.shard_size() == 0 ? options.default_shard_size : header.shard_size();
  spec.endpoint_shard_size = header.endpoint_shard_size() == 0 ? options.default_endpoint_shard_size
                                                               : header.endpoint_shard_size();
  if (spec.shard_size > options.max_shard_size ||
      spec.endpoint_shard_size > options.max_shard_size) {
    return absl::InvalidArgumentError(absl::StrCat("shard size above ", options.max_shard_size));
  }
  if (header.default_port() > 65535) {
    return absl::InvalidArgumentError("default port out of range");
  }
  spec.default_port = header.default_port() == 0 ? 25 : header.default_port();
  spec.max_attempts =
      header.max_attempts() == 0 ? options.default_max_attempts : header.max_attempts();
  return spec;
}

}  // namespace tlsweep::coordinator
