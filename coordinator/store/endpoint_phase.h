// The endpoint phase of a region's scan (see UnitKind in agent_stream.proto). Resolve units
// report routes (target -> MX endpoint); the region's unique endpoints are cut into probe
// units; once every endpoint a target shard uses has been probed, the endpoint results are
// joined back to each of its targets and stored as the shard's results, so that reports read
// per-target results whether or not a target shared its endpoints with others.
//
// Every function runs inside the caller's transaction on the store's connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/agent_stream.pb.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator::endpoint_phase {

// Tables of the phase (part of the store's schema).
extern const char* const kSchema;

// One unit of one region: a target shard (resolve unit) or a probe unit.
struct UnitKey {
  std::string scan_id;
  std::string region;
  int64_t shard = 0;
};

// What identifies an endpoint within a region: MX host (it is the SNI and the name verified),
// address and port.
std::string EndpointKey(const tlsweep::v1::ProbeResult& result);

// Stores one batch of a resolve unit: routes (probe "route") go to the route table and name
// their endpoint (added once per region); the rest are final results of their targets.
// Returns how many final results were stored.
absl::StatusOr<int64_t> AddResolveBatch(SqliteDb& db, const UnitKey& unit, int64_t seq,
                                        const tlsweep::v1::ResultBatch& batch);
// Stores one batch of a probe unit: results of its endpoints.
absl::Status AddProbeBatch(SqliteDb& db, const UnitKey& unit, int64_t seq,
                           const tlsweep::v1::ResultBatch& batch);

// Drops what an earlier lease of the unit stored, before it is leased again.
absl::Status ClearResolveAttempt(SqliteDb& db, const UnitKey& unit);
absl::Status ClearProbeAttempt(SqliteDb& db, const UnitKey& unit);

// Cuts the region's endpoints not yet in a probe unit into pending probe units of `size`
// endpoints: only full units, unless `all` (no resolve unit of the region is still open).
absl::Status CutProbeUnits(SqliteDb& db, const std::string& scan_id, const std::string& region,
                           int64_t size, bool all);

// The endpoints of a probe unit, in the order they were found.
absl::StatusOr<std::vector<tlsweep::v1::ShardEndpoint>> ProbeUnitEndpoints(SqliteDb& db,
                                                                           const UnitKey& unit);

// A probe unit is over: its endpoints count as probed. An endpoint without any result (the
// unit was lost, or its agent skipped it) gets one AGENT_LOST result saying `why`. Returns the
// resolved target shards that use one of its endpoints (candidates for JoinTargetShards).
absl::StatusOr<std::vector<int64_t>> FinishProbeUnit(SqliteDb& db, const UnitKey& unit,
                                                     absl::string_view why);

// For each listed target shard that is resolved and whose endpoints are all probed: stores
// one result per (route, endpoint result), marks the shard done and adds to its result count.
// The first target joined to an endpoint gets its results whole; the others get copies marked
// `reused`, without certificate DER.
// Returns how many shards were joined.
absl::StatusOr<int64_t> JoinTargetShards(SqliteDb& db, const std::string& scan_id,
                                         const std::string& region,
                                         const std::vector<int64_t>& shards);

// Drops every row of the phase for a scan.
absl::Status DeleteScan(SqliteDb& db, const std::string& scan_id);

}  // namespace tlsweep::coordinator::endpoint_phase
