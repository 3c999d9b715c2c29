#include "coordinator/store/batch_membership.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "backends/status_macros.h"

namespace tlsweep::coordinator {

using ::tlsweep::v1::ProbeResult;

// One indexed lookup per distinct line of the batch (targets_line), not a read of the whole
// shard: a batch holds at most 10,000 results, a shard up to 100,000 targets.
absl::Status CheckResolveBatch(SqliteDb& db, const std::string& scan_id, int64_t first_ordinal,
                               int64_t end_ordinal, const v1::ResultBatch& batch) {
  ASSIGN_OR_RETURN(SqliteStatement find,
                   db.Prepare("SELECT ordinal FROM targets WHERE scan_id=? AND line_number=?"));
  absl::flat_hash_map<int64_t, bool> known;  // line -> one of the unit's targets
  for (const ProbeResult& result : batch.results()) {
    const int64_t line = static_cast<int64_t>(result.line_number());
    auto [it, added] = known.try_emplace(line, false);
    if (added) {
      find.Bind(1, scan_id).Bind(2, line);
      ASSIGN_OR_RETURN(bool row, find.Step());
      it->second = row && find.Int(0) >= first_ordinal && find.Int(0) < end_ordinal;
      find.Reset();
    }
    if (!it->second) {
      return absl::PermissionDeniedError(absl::StrCat("lease ", batch.lease_id(), " reported line ",
                                                      result.line_number(), " (", result.target(),
                                                      "), which is not one of its targets"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckProbeBatch(SqliteDb& db, const endpoint_phase::UnitKey& unit,
                             const v1::ResultBatch& batch) {
  ASSIGN_OR_RETURN(SqliteStatement name,
                   db.Prepare("SELECT 1 FROM endpoint_names WHERE scan_id=? AND region=? AND "
                              "key=? AND name=? AND probe_shard=?"));
  ASSIGN_OR_RETURN(SqliteStatement reference,
                   db.Prepare("SELECT 1 FROM endpoints WHERE scan_id=? AND region=? AND key=? "
                              "AND ref_name=? AND ref_name != '' AND EXISTS (SELECT 1 FROM "
                              "endpoint_names n WHERE n.scan_id=?1 AND n.region=?2 AND "
                              "n.key=?3 AND n.probe_shard=?5)"));
  absl::flat_hash_map<std::string, bool> known;  // "address|port|name" -> allowed
  for (const ProbeResult& result : batch.results()) {
    const std::string key = endpoint_phase::EndpointKey(result);
    auto [it, added] = known.try_emplace(absl::StrCat(key, "|", result.mx_host()), false);
    if (added) {
      name.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Bind(4, result.mx_host());
      ASSIGN_OR_RETURN(bool row, name.Bind(5, unit.shard).Step());
      name.Reset();
      if (!row) {
        // The name the unit compares later names with (an endpoint of this unit only).
        reference.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key);
        ASSIGN_OR_RETURN(row, reference.Bind(4, result.mx_host()).Bind(5, unit.shard).Step());
        reference.Reset();
      }
      it->second = row;
    }
    if (!it->second) {
      return absl::PermissionDeniedError(absl::StrCat("lease ", batch.lease_id(), " reported ", key,
                                                      " under '", result.mx_host(),
                                                      "', which is not one of its endpoints"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::coordinator
