#include "coordinator/store/batch_membership.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "backends/status_macros.h"

namespace tlsweep::coordinator {

using ::tlsweep::v1::ProbeResult;

absl::Status CheckResolveBatch(SqliteDb& db, const std::string& scan_id, int64_t first_ordinal,
                               int64_t end_ordinal, const v1::ResultBatch& batch) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT line_number FROM targets WHERE scan_id=? AND ordinal >= ? "
                              "AND ordinal < ?"));
  select.Bind(1, scan_id).Bind(2, first_ordinal).Bind(3, end_ordinal);
  absl::flat_hash_set<int64_t> lines;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    lines.insert(select.Int(0));
  }
  for (const ProbeResult& result : batch.results()) {
    if (!lines.contains(static_cast<int64_t>(result.line_number()))) {
      return absl::PermissionDeniedError(absl::StrCat("lease ", batch.lease_id(), " reported line ",
                                                      result.line_number(), " (", result.target(),
                                                      "), which is not one of its targets"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckProbeBatch(SqliteDb& db, const endpoint_phase::UnitKey& unit,
                             const v1::ResultBatch& batch) {
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT n.key, n.name, e.ref_name FROM endpoint_names n JOIN endpoints e ON "
                 "e.scan_id=n.scan_id AND e.region=n.region AND e.key=n.key WHERE n.scan_id=? "
                 "AND n.region=? AND n.probe_shard=?"));
  select.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard);
  absl::flat_hash_set<std::string> allowed;  // "address|port|name"
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    allowed.insert(absl::StrCat(select.Text(0), "|", select.Text(1)));
    if (!select.Text(2).empty()) allowed.insert(absl::StrCat(select.Text(0), "|", select.Text(2)));
  }
  for (const ProbeResult& result : batch.results()) {
    const std::string key = endpoint_phase::EndpointKey(result);
    if (!allowed.contains(absl::StrCat(key, "|", result.mx_host()))) {
      return absl::PermissionDeniedError(absl::StrCat("lease ", batch.lease_id(), " reported ", key,
                                                      " under '", result.mx_host(),
                                                      "', which is not one of its endpoints"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tlsweep::coordinator
