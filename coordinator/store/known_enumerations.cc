#include "coordinator/store/known_enumerations.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/route_identity.h"
#include "backends/status_macros.h"

namespace tlsweep::coordinator {
namespace {

// Only an enumeration the server let finish describes it well enough to stand in for another.
bool Complete(const v1::ProbeResult& result) {
  if (result.failure() != v1::PROBE_OK && result.failure() != v1::STARTTLS_NOT_OFFERED) {
    return false;
  }
  const v1::Enumeration& enumeration = result.enumeration();
  if (!enumeration.incomplete_reason().empty()) return false;
  return std::none_of(enumeration.versions().begin(), enumeration.versions().end(),
                      [](const v1::VersionEnumeration& version) {
                        return version.status() == v1::VersionEnumeration::INCOMPLETE ||
                               version.status() == v1::VersionEnumeration::ERROR;
                      });
}

}  // namespace

// known_enumerations: per (region, endpoint) the latest complete enumeration, as the ProbeResult
// the agent sent (no certificates: an enumeration carries none), with the fingerprint of the
// handshake made beside it. endpoint_enumerations: per scan, each enumerated endpoint, whether
// its enumeration was reused (1) or made (0), and when and by which scan it was made.
const char* const KnownEnumerations::kSchema = R"sql(
CREATE TABLE IF NOT EXISTS known_enumerations(
  region TEXT, endpoint TEXT, fingerprint TEXT, candidate TEXT, enumerated_ms INTEGER,
  scan_id TEXT, result BLOB, PRIMARY KEY(region, endpoint)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS endpoint_enumerations(
  scan_id TEXT, region TEXT, endpoint TEXT, probe_shard INTEGER, reused INTEGER,
  enumerated_ms INTEGER, from_scan TEXT, PRIMARY KEY(scan_id, region, endpoint)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS endpoint_enumerations_unit ON endpoint_enumerations(scan_id, region,
  probe_shard);
)sql";

absl::StatusOr<KnownEnumerations> KnownEnumerations::Open(SqliteDb& db) {
  KnownEnumerations known;
  ASSIGN_OR_RETURN(known.find_, db.Prepare("SELECT fingerprint, candidate, enumerated_ms FROM "
                                           "known_enumerations WHERE region=? AND endpoint=? AND "
                                           "enumerated_ms >= ?"));
  ASSIGN_OR_RETURN(known.load_,
                   db.Prepare("SELECT fingerprint, enumerated_ms, scan_id, result FROM "
                              "known_enumerations WHERE region=? AND endpoint=?"));
  // A late batch of an older scan never replaces a newer enumeration.
  ASSIGN_OR_RETURN(
      known.remember_,
      db.Prepare("INSERT INTO known_enumerations VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT DO "
                 "UPDATE SET fingerprint=?3, candidate=?4, enumerated_ms=?5, scan_id=?6, "
                 "result=?7 WHERE enumerated_ms <= ?5"));
  ASSIGN_OR_RETURN(known.record_, db.Prepare("INSERT OR REPLACE INTO endpoint_enumerations "
                                             "VALUES(?,?,?,?,?,?,?)"));
  return known;
}

std::optional<int64_t> KnownEnumerations::ReusableSince(const v1::ProbeProfile& profile,
                                                        int64_t now_ms) {
  if (!profile.enumerate() || profile.fresh_enumeration()) return std::nullopt;
  const int64_t max_age_s =
      profile.has_enumeration_max_age_s() ? profile.enumeration_max_age_s() : kDefaultMaxAgeS;
  if (max_age_s <= 0) return std::nullopt;
  return now_ms - max_age_s * 1000;
}

absl::StatusOr<std::optional<KnownEnumerations::Known>> KnownEnumerations::Find(
    const std::string& region, const std::string& endpoint, int64_t since_ms) {
  find_.Bind(1, region).Bind(2, endpoint).Bind(3, since_ms);
  ASSIGN_OR_RETURN(bool row, find_.Step());
  std::optional<Known> known;
  if (row) known = Known{find_.Text(0), find_.Text(1), find_.Int(2)};
  find_.Reset();
  return known;
}

absl::Status KnownEnumerations::Take(const std::string& scan_id, const std::string& region,
                                     int64_t probe_shard, const std::string& endpoint,
                                     v1::ProbeResult& result) {
  v1::Enumeration& enumeration = *result.mutable_enumeration();
  if (enumeration.reused()) {
    load_.Bind(1, region).Bind(2, endpoint);
    ASSIGN_OR_RETURN(bool row, load_.Step());
    v1::ProbeResult known;
    const bool usable =
        row && load_.Text(0) == enumeration.fingerprint() && known.ParseFromString(load_.Blob(3));
    if (usable) {
      backends::TakeRouteIdentity(result, known);
      *known.mutable_sni() = result.sni();
      known.set_started_unix_ms(result.started_unix_ms());
      known.set_attempts(0);  // No connection was made for it in this scan.
      known.set_reused(result.reused());
      v1::Enumeration& filled = *known.mutable_enumeration();
      filled.set_reused(true);
      filled.set_enumerated_unix_ms(load_.Int(1));
      filled.set_reused_scan_id(load_.Text(2));
      result = std::move(known);
    } else {
      // Another scan replaced it between lease and answer (the server changed meanwhile).
      enumeration.set_incomplete_reason(
          "the endpoint's known enumeration changed while this scan ran; rescan with --fresh");
    }
    load_.Reset();
  } else if (!enumeration.fingerprint().empty() && Complete(result) &&
             result.sni().status() != v1::SniSharing::SNI_DEPENDENT) {
    const int64_t made_ms =
        result.started_unix_ms() > 0 ? result.started_unix_ms() : absl::ToUnixMillis(absl::Now());
    enumeration.set_enumerated_unix_ms(made_ms);
    remember_.Bind(1, region).Bind(2, endpoint).Bind(3, enumeration.fingerprint());
    remember_.Bind(4, enumeration.fingerprint_candidate()).Bind(5, made_ms).Bind(6, scan_id);
    RETURN_IF_ERROR(remember_.BindBlob(7, result.SerializeAsString()).Run());
  }
  return Record(scan_id, region, probe_shard, endpoint, result);
}

absl::Status KnownEnumerations::Record(const std::string& scan_id, const std::string& region,
                                       int64_t probe_shard, const std::string& endpoint,
                                       const v1::ProbeResult& result) {
  const v1::Enumeration& enumeration = result.enumeration();
  const int64_t made_ms = enumeration.enumerated_unix_ms() > 0 ? enumeration.enumerated_unix_ms()
                                                               : result.started_unix_ms();
  record_.Bind(1, scan_id).Bind(2, region).Bind(3, endpoint).Bind(4, probe_shard);
  record_.Bind(5, int64_t{enumeration.reused() ? 1 : 0}).Bind(6, made_ms);
  return record_.Bind(7, enumeration.reused() ? enumeration.reused_scan_id() : scan_id).Run();
}

absl::Status KnownEnumerations::ClearAttempt(SqliteDb& db, const std::string& scan_id,
                                             const std::string& region, int64_t probe_shard) {
  ASSIGN_OR_RETURN(SqliteStatement del,
                   db.Prepare("DELETE FROM endpoint_enumerations WHERE scan_id=? AND region=? "
                              "AND probe_shard=?"));
  return del.Bind(1, scan_id).Bind(2, region).Bind(3, probe_shard).Run();
}

absl::Status KnownEnumerations::DeleteScan(SqliteDb& db, const std::string& scan_id) {
  ASSIGN_OR_RETURN(SqliteStatement del,
                   db.Prepare("DELETE FROM endpoint_enumerations WHERE scan_id=?"));
  return del.Bind(1, scan_id).Run();
}

}  // namespace tlsweep::coordinator
