// The endpoint phase of a region's scan (see UnitKind in agent_stream.proto). Resolve units
// report routes (target -> MX name -> address); the region's unique (address, port) endpoints,
// each with the MX names that reach it, are cut into probe units; once every name a target
// shard uses is covered (probed itself, or shared from its address's probe because the server
// does not depend on SNI), the shard is settled: its readers join its routes to the endpoint
// results (shard_results.h), so that reports read per-target results whether or not a target
// shared its endpoints with others, while each endpoint's results are stored once.
//
// Every function runs inside the caller's transaction on the store's connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
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

// What identifies a probed endpoint within a region: address and port. The MX names that reach
// it share its probes unless the server's answer depends on SNI.
std::string EndpointKey(const tlsweep::v1::ProbeResult& result);

// Names of one address sent in one probe unit entry; the rest wait for a later unit. Only two
// are needed unless the address is SNI-dependent (then each is probed).
constexpr int64_t kMaxNamesPerEntry = 64;

// Stores one batch of a resolve unit: routes (PROBE_KIND_ROUTE) go to the route table and name
// their endpoint (added once per region); the rest are final results of their targets.
// Returns how many final results were stored.
absl::StatusOr<int64_t> AddResolveBatch(SqliteDb& db, const UnitKey& unit, int64_t seq,
                                        const tlsweep::v1::ResultBatch& batch);
// Stores one batch of a probe unit: results of its endpoints, and what they found about SNI.
// Returns the connections the batch's probes made.
absl::StatusOr<int64_t> AddProbeBatch(SqliteDb& db, const UnitKey& unit, int64_t seq,
                                      const tlsweep::v1::ResultBatch& batch);

// Drops what an earlier lease of the unit stored, before it is leased again.
absl::Status ClearResolveAttempt(SqliteDb& db, const UnitKey& unit);
absl::Status ClearProbeAttempt(SqliteDb& db, const UnitKey& unit);

// Cuts the region's addresses with waiting names into pending probe units of `size` addresses:
// only full units, unless `all` (no resolve unit of the region is still open). An address is
// in at most one open unit of a scan: names found while a unit of it runs wait for it to end
// (then they are covered at once if the address proved SNI-independent).
absl::Status CutProbeUnits(SqliteDb& db, const std::string& scan_id, const std::string& region,
                           int64_t size, bool all);

// The endpoints of a probe unit, in the order they were found, each with its names, and with
// the fingerprint of the region's known enumeration where `profile` may reuse it at `now_ms`.
absl::StatusOr<std::vector<tlsweep::v1::ShardEndpoint>> ProbeUnitEndpoints(
    SqliteDb& db, const UnitKey& unit, const tlsweep::v1::ProbeProfile& profile, int64_t now_ms);

// A probe unit is over: its names are covered (and the waiting names of an address that proved
// SNI-independent). An endpoint without any result (the unit was lost, or its agent skipped
// it) gets an AGENT_LOST result per name saying `why`. Returns the resolved target shards that
// use one of its endpoints (candidates for JoinTargetShards).
absl::StatusOr<std::vector<int64_t>> FinishProbeUnit(SqliteDb& db, const UnitKey& unit,
                                                     absl::string_view why);

// True when another probe unit of the region (of any scan) that is leased now, or an address in
// `also_busy`, shares an address with `unit`: a region never probes one address from two
// agents at once.
absl::StatusOr<bool> AddressBusy(SqliteDb& db, const UnitKey& unit,
                                 const absl::flat_hash_set<std::string>& also_busy);
absl::StatusOr<std::vector<std::string>> UnitAddresses(SqliteDb& db, const UnitKey& unit);

// For each listed target shard that is resolved and whose names are all covered: claims the
// answers it is first to take and marks it done, adding how many results its routes join to
// (shard_results.h: the join is made when a shard is read, nothing is copied per target).
// Returns how many shards were settled.
absl::StatusOr<int64_t> SettleTargetShards(SqliteDb& db, const std::string& scan_id,
                                           const std::string& region,
                                           const std::vector<int64_t>& shards);

// Drops every row of the phase for a scan.
absl::Status DeleteScan(SqliteDb& db, const std::string& scan_id);

}  // namespace tlsweep::coordinator::endpoint_phase
