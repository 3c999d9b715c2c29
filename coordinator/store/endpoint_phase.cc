#include "coordinator/store/endpoint_phase.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "backends/certificate_name.h"
#include "backends/probe_kind.h"
#include "backends/route_identity.h"
#include "backends/status_macros.h"
#include "coordinator/store/certificate_store.h"
#include "coordinator/store/known_enumerations.h"
#include "coordinator/store/shard_results.h"
#include "coordinator/store/store_rows.h"

namespace tlsweep::coordinator::endpoint_phase {
namespace {

using ::tlsweep::backends::ProbeKindOf;
using ::tlsweep::v1::ProbeResult;
using ::tlsweep::v1::SniSharing;

// Endpoint results the coordinator wrote for endpoints left without one.
constexpr int64_t kMissingSeq = -1;

absl::Status AddCounts(SqliteDb& db, const UnitKey& unit, int64_t names, int64_t probes) {
  ASSIGN_OR_RETURN(SqliteStatement add,
                   db.Prepare("INSERT INTO phase_counts VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO "
                              "UPDATE SET names=names+?3, probes=probes+?4"));
  return add.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, names).Bind(4, probes).Run();
}

absl::StatusOr<std::vector<std::string>> UnitKeys(SqliteDb& db, const UnitKey& unit) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT DISTINCT key FROM endpoint_names WHERE scan_id=? AND "
                              "region=? AND probe_shard=?"));
  select.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard);
  std::vector<std::string> keys;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    keys.push_back(select.Text(0));
  }
  return keys;
}

}  // namespace

// An endpoint is one (address, port) of a region: `mx_host` is its first name, the one it is
// probed under. `probe_shard` is its first probe unit (-1 before); `probed` is 1 while no unit
// of it is open, after the first; `waiting` is 1 while some name waits for a unit. `sni` is the
// SniSharing status its probes found (set by unit sni_shard), and ref_* the answer later names
// are compared with (set by unit ref_shard); both are forgotten when that unit's attempt is.
// phase_counts keeps the region's names and probe results as they arrive: progress reads them
// several times a second and must not count millions of rows each time.
// Each name of an endpoint is a row of endpoint_names: waiting (probe_shard -1, covered 0), in
// a unit (probe_shard set), or covered (1: its results are known, probed itself or shared; 2
// for a moment inside FinishProbeUnit: covered by this unit, so that only their routes are
// looked at, not every route of a provider's address).
// `first_shard` and `first_line` name the first route that took the results probed under that
// name (NULL before, claimed when its shard is settled): the one target that reads them whole,
// the others read them marked `reused` (shard_results.h).
// unit_addresses lists the addresses of each probe unit: a region never has two units sharing
// an address leased at once, across scans too.
const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS endpoints(
  id INTEGER PRIMARY KEY, scan_id TEXT, region TEXT, key TEXT, mx_host TEXT, address TEXT,
  port INTEGER, provider TEXT, probe_shard INTEGER DEFAULT -1, probed INTEGER DEFAULT 0,
  waiting INTEGER DEFAULT 1, sni INTEGER DEFAULT 0, sni_shard INTEGER DEFAULT -1,
  ref_name TEXT DEFAULT '', ref_fingerprint TEXT DEFAULT '', ref_candidate TEXT DEFAULT '',
  ref_shard INTEGER DEFAULT -1, connections INTEGER DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS endpoints_key ON endpoints(scan_id, region, key);
CREATE INDEX IF NOT EXISTS endpoints_waiting ON endpoints(scan_id, region, waiting);
CREATE INDEX IF NOT EXISTS endpoints_unit ON endpoints(scan_id, region, probe_shard);
CREATE INDEX IF NOT EXISTS endpoints_sni ON endpoints(scan_id, region, sni);
CREATE INDEX IF NOT EXISTS endpoints_ref ON endpoints(scan_id, region, ref_shard);
CREATE INDEX IF NOT EXISTS endpoints_sni_shard ON endpoints(scan_id, region, sni_shard);
CREATE TABLE IF NOT EXISTS phase_counts(
  scan_id TEXT, region TEXT, names INTEGER DEFAULT 0, probes INTEGER DEFAULT 0,
  PRIMARY KEY(scan_id, region)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS endpoint_names(
  scan_id TEXT, region TEXT, key TEXT, name TEXT, probe_shard INTEGER DEFAULT -1,
  covered INTEGER DEFAULT 0, first_shard INTEGER, first_line INTEGER, provider TEXT DEFAULT '',
  PRIMARY KEY(scan_id, region, key, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS endpoint_names_unit ON endpoint_names(scan_id, region, probe_shard);
CREATE INDEX IF NOT EXISTS endpoint_names_waiting ON endpoint_names(scan_id, region, key)
  WHERE covered=0;
CREATE INDEX IF NOT EXISTS endpoint_names_now ON endpoint_names(scan_id, region, key)
  WHERE covered=2;
CREATE TABLE IF NOT EXISTS unit_addresses(
  scan_id TEXT, region TEXT, shard INTEGER, address TEXT,
  PRIMARY KEY(scan_id, region, shard, address)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unit_addresses_address ON unit_addresses(region, address);
CREATE TABLE IF NOT EXISTS routes(
  scan_id TEXT, region TEXT, shard INTEGER, seq INTEGER, idx INTEGER, endpoint TEXT, name TEXT,
  route BLOB, line INTEGER, preference INTEGER, implicit INTEGER,
  PRIMARY KEY(scan_id, region, shard, seq, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS routes_endpoint ON routes(scan_id, region, endpoint, name);
CREATE TABLE IF NOT EXISTS endpoint_results(
  scan_id TEXT, region TEXT, probe_shard INTEGER, seq INTEGER, idx INTEGER, endpoint TEXT,
  name TEXT, result BLOB, PRIMARY KEY(scan_id, region, probe_shard, seq, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS endpoint_results_key ON endpoint_results(scan_id, region, endpoint,
  name);
)sql";

std::string EndpointKey(const ProbeResult& result) {
  return absl::StrCat(result.address(), "|", result.port());
}

absl::StatusOr<int64_t> AddResolveBatch(SqliteDb& db, const UnitKey& unit, int64_t seq,
                                        const v1::ResultBatch& batch) {
  // A route is its columns: its target's line (the target's text and domain are in `targets`),
  // MX name, preference and endpoint; the MX name's provider is kept once per name.
  ASSIGN_OR_RETURN(SqliteStatement route,
                   db.Prepare("INSERT OR REPLACE INTO routes(scan_id, region, shard, seq, idx, "
                              "endpoint, name, line, preference, implicit) "
                              "VALUES(?,?,?,?,?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(SqliteStatement endpoint,
                   db.Prepare("INSERT OR IGNORE INTO endpoints(scan_id, region, key, mx_host, "
                              "address, port, provider) VALUES(?,?,?,?,?,?,?)"));
  ASSIGN_OR_RETURN(SqliteStatement name,
                   db.Prepare("INSERT OR IGNORE INTO endpoint_names(scan_id, region, key, name, "
                              "provider) VALUES(?,?,?,?,?)"));
  // A new name of an address already probed and found SNI-independent is covered at once;
  // any other new name waits for a unit.
  ASSIGN_OR_RETURN(
      SqliteStatement shared,
      db.Prepare("UPDATE endpoint_names SET covered=1 WHERE scan_id=?1 AND region=?2 AND key=?3 "
                 "AND name=?4 AND EXISTS (SELECT 1 FROM endpoints WHERE scan_id=?1 AND "
                 "region=?2 AND key=?3 AND probed=1 AND sni=?5)"));
  ASSIGN_OR_RETURN(SqliteStatement waiting,
                   db.Prepare("UPDATE endpoints SET waiting=1 WHERE scan_id=? AND region=? AND "
                              "key=? AND waiting=0"));
  ASSIGN_OR_RETURN(SqliteStatement final_result, db.Prepare(kInsertResultSql));
  ASSIGN_OR_RETURN(CertificateStore certificates, CertificateStore::Open(db));
  int64_t finals = 0;
  int64_t new_names = 0;
  for (int i = 0; i < batch.results_size(); ++i) {
    const ProbeResult& result = batch.results(i);
    if (ProbeKindOf(result) != v1::PROBE_KIND_ROUTE) {
      RETURN_IF_ERROR(InsertResultRow(final_result, certificates, unit.scan_id, unit.region,
                                      unit.shard, seq, i, result));
      ++finals;
      continue;
    }
    const std::string key = EndpointKey(result);
    route.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Bind(4, seq);
    route.Bind(5, int64_t{i}).Bind(6, key).Bind(7, result.mx_host());
    route.Bind(8, static_cast<int64_t>(result.line_number()));
    route.Bind(9, int64_t{result.mx_preference()});
    RETURN_IF_ERROR(route.Bind(10, int64_t{result.implicit_mx() ? 1 : 0}).Run());
    endpoint.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Bind(4, result.mx_host());
    endpoint.Bind(5, result.address()).Bind(6, int64_t{result.port()});
    RETURN_IF_ERROR(endpoint.Bind(7, result.provider()).Run());
    name.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Bind(4, result.mx_host());
    RETURN_IF_ERROR(name.Bind(5, result.provider()).Run());
    if (db.Changes() == 0) continue;  // A name already known.
    ++new_names;
    shared.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Bind(4, result.mx_host());
    RETURN_IF_ERROR(shared.Bind(5, int64_t{SniSharing::SNI_SHARED}).Run());
    if (db.Changes() > 0) continue;
    RETURN_IF_ERROR(waiting.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Run());
  }
  if (new_names > 0) RETURN_IF_ERROR(AddCounts(db, unit, new_names, 0));
  return finals;
}

absl::StatusOr<int64_t> AddProbeBatch(SqliteDb& db, const UnitKey& unit, int64_t seq,
                                      const v1::ResultBatch& batch) {
  ASSIGN_OR_RETURN(SqliteStatement insert,
                   db.Prepare("INSERT OR REPLACE INTO endpoint_results VALUES(?,?,?,?,?,?,?,?)"));
  // The strongest finding wins: dependent over shared over unchecked.
  ASSIGN_OR_RETURN(SqliteStatement sni,
                   db.Prepare("UPDATE endpoints SET sni=?1, sni_shard=?5 WHERE scan_id=?2 AND "
                              "region=?3 AND key=?4 AND sni < ?1"));
  ASSIGN_OR_RETURN(SqliteStatement reference,
                   db.Prepare("UPDATE endpoints SET ref_name=?, ref_fingerprint=?, "
                              "ref_candidate=?, ref_shard=? WHERE scan_id=? AND region=? AND "
                              "key=?"));
  ASSIGN_OR_RETURN(SqliteStatement load,
                   db.Prepare("UPDATE endpoints SET connections=connections+? WHERE scan_id=? "
                              "AND region=? AND key=?"));
  ASSIGN_OR_RETURN(CertificateStore certificates, CertificateStore::Open(db));
  ASSIGN_OR_RETURN(KnownEnumerations known, KnownEnumerations::Open(db));
  int64_t connections = 0;
  for (int i = 0; i < batch.results_size(); ++i) {
    ProbeResult filled;
    const bool enumeration = ProbeKindOf(batch.results(i)) == v1::PROBE_KIND_ENUMERATE;
    if (enumeration) {
      filled = batch.results(i);
      RETURN_IF_ERROR(
          known.Take(unit.scan_id, unit.region, unit.shard, EndpointKey(filled), filled));
    }
    const ProbeResult& result = enumeration ? filled : batch.results(i);
    const std::string key = EndpointKey(result);
    ASSIGN_OR_RETURN(const std::string bytes, certificates.Serialize(unit.scan_id, result));
    insert.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Bind(4, seq);
    insert.Bind(5, int64_t{i}).Bind(6, key).Bind(7, result.mx_host());
    RETURN_IF_ERROR(insert.BindBlob(8, bytes).Run());
    connections += result.attempts();
    if (result.attempts() > 0) {
      load.Bind(1, int64_t{result.attempts()}).Bind(2, unit.scan_id).Bind(3, unit.region);
      RETURN_IF_ERROR(load.Bind(4, key).Run());
    }
    if (result.sni().status() == SniSharing::SNI_STATUS_UNSPECIFIED) continue;
    sni.Bind(1, int64_t{result.sni().status()}).Bind(2, unit.scan_id).Bind(3, unit.region);
    RETURN_IF_ERROR(sni.Bind(4, key).Bind(5, unit.shard).Run());
    if (!result.sni().reference()) continue;
    reference.Bind(1, result.mx_host()).Bind(2, result.sni().fingerprint());
    reference.Bind(3, result.tls_settings().name()).Bind(4, unit.shard).Bind(5, unit.scan_id);
    RETURN_IF_ERROR(reference.Bind(6, unit.region).Bind(7, key).Run());
  }
  if (seq >= 0) RETURN_IF_ERROR(AddCounts(db, unit, 0, batch.results_size()));
  return connections;
}

absl::Status ClearResolveAttempt(SqliteDb& db, const UnitKey& unit) {
  ASSIGN_OR_RETURN(SqliteStatement del,
                   db.Prepare("DELETE FROM routes WHERE scan_id=? AND region=? AND shard=?"));
  return del.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Run();
}

absl::Status ClearProbeAttempt(SqliteDb& db, const UnitKey& unit) {
  ASSIGN_OR_RETURN(
      SqliteStatement del,
      db.Prepare("DELETE FROM endpoint_results WHERE scan_id=? AND region=? AND probe_shard=?"));
  ASSIGN_OR_RETURN(SqliteStatement counted,
                   db.Prepare("SELECT COUNT(*) FROM endpoint_results WHERE scan_id=? AND "
                              "region=? AND probe_shard=? AND seq >= 0"));
  counted.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard);
  ASSIGN_OR_RETURN(bool row, counted.Step());
  const int64_t dropped = row ? counted.Int(0) : 0;
  counted.Reset();
  RETURN_IF_ERROR(del.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Run());
  if (dropped > 0) RETURN_IF_ERROR(AddCounts(db, unit, 0, -dropped));
  RETURN_IF_ERROR(KnownEnumerations::ClearAttempt(db, unit.scan_id, unit.region, unit.shard));
  // What the dropped attempt found about SNI, and the reference it set, go with its results.
  ASSIGN_OR_RETURN(SqliteStatement forget_sni,
                   db.Prepare("UPDATE endpoints SET sni=0, sni_shard=-1 WHERE scan_id=? AND "
                              "region=? AND sni_shard=?"));
  RETURN_IF_ERROR(forget_sni.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Run());
  ASSIGN_OR_RETURN(SqliteStatement forget_ref,
                   db.Prepare("UPDATE endpoints SET ref_name='', ref_fingerprint='', "
                              "ref_candidate='', ref_shard=-1 WHERE scan_id=? AND region=? AND "
                              "ref_shard=?"));
  return forget_ref.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Run();
}

absl::Status CutProbeUnits(SqliteDb& db, const std::string& scan_id, const std::string& region,
                           int64_t size, bool all) {
  size = std::max<int64_t>(size, 1);
  // Waiting addresses with no unit open: never cut, or names found after their last unit.
  constexpr const char* kEligible =
      "FROM endpoints WHERE scan_id=?1 AND region=?2 AND waiting=1 AND (probe_shard=-1 OR "
      "probed=1)";
  ASSIGN_OR_RETURN(SqliteStatement eligible,
                   db.Prepare(absl::StrCat("SELECT COUNT(*) ", kEligible)));
  eligible.Bind(1, scan_id).Bind(2, region);
  ASSIGN_OR_RETURN(bool row, eligible.Step());
  int64_t count = row ? eligible.Int(0) : 0;
  if (count < size && !(all && count > 0)) return absl::OkStatus();
  ASSIGN_OR_RETURN(SqliteStatement last,
                   db.Prepare("SELECT COALESCE(MAX(shard) + 1, 0) FROM units WHERE scan_id=? AND "
                              "region=? AND kind=?"));
  last.Bind(1, scan_id).Bind(2, region).Bind(3, int64_t{kProbeUnit});
  ASSIGN_OR_RETURN(row, last.Step());
  int64_t shard = row ? last.Int(0) : 0;
  // A provider's addresses go into one unit where they fit: its budget then holds region-wide.
  ASSIGN_OR_RETURN(SqliteStatement pick,
                   db.Prepare(absl::StrCat("SELECT key, address, probe_shard, mx_host ", kEligible,
                                           " ORDER BY provider, id LIMIT ?3")));
  ASSIGN_OR_RETURN(
      SqliteStatement names,
      db.Prepare("SELECT name FROM endpoint_names WHERE scan_id=? AND region=? AND key=? AND "
                 "probe_shard=-1 AND covered=0 ORDER BY name=? DESC, name LIMIT ?"));
  ASSIGN_OR_RETURN(SqliteStatement take_name,
                   db.Prepare("UPDATE endpoint_names SET probe_shard=? WHERE scan_id=? AND "
                              "region=? AND key=? AND name=?"));
  ASSIGN_OR_RETURN(
      SqliteStatement take_endpoint,
      db.Prepare("UPDATE endpoints SET probe_shard=CASE WHEN probe_shard=-1 THEN ?1 ELSE "
                 "probe_shard END, probed=0, waiting=EXISTS (SELECT 1 FROM endpoint_names n "
                 "WHERE n.scan_id=?2 AND n.region=?3 AND n.key=?4 AND n.probe_shard=-1 AND "
                 "n.covered=0) WHERE scan_id=?2 AND region=?3 AND key=?4"));
  ASSIGN_OR_RETURN(SqliteStatement address,
                   db.Prepare("INSERT OR IGNORE INTO unit_addresses VALUES(?,?,?,?)"));
  ASSIGN_OR_RETURN(SqliteStatement unit,
                   db.Prepare("INSERT INTO units(scan_id, region, kind, shard, state, targets) "
                              "VALUES(?,?,?,?,?,?)"));
  while (count >= size || (all && count > 0)) {
    const int64_t taken = std::min(count, size);
    struct Entry {
      std::string key, address, lead;
    };
    std::vector<Entry> entries;
    pick.Bind(1, scan_id).Bind(2, region).Bind(3, taken);
    for (;;) {
      ASSIGN_OR_RETURN(bool next, pick.Step());
      if (!next) break;
      entries.push_back({pick.Text(0), pick.Text(1), pick.Text(3)});
    }
    pick.Reset();
    if (entries.empty()) break;
    for (const Entry& entry : entries) {
      names.Bind(1, scan_id).Bind(2, region).Bind(3, entry.key).Bind(4, entry.lead);
      names.Bind(5, kMaxNamesPerEntry);
      std::vector<std::string> taken_names;
      for (;;) {
        ASSIGN_OR_RETURN(bool next, names.Step());
        if (!next) break;
        taken_names.push_back(names.Text(0));
      }
      names.Reset();
      for (const std::string& name : taken_names) {
        take_name.Bind(1, shard).Bind(2, scan_id).Bind(3, region).Bind(4, entry.key);
        RETURN_IF_ERROR(take_name.Bind(5, name).Run());
      }
      take_endpoint.Bind(1, shard).Bind(2, scan_id).Bind(3, region).Bind(4, entry.key);
      RETURN_IF_ERROR(take_endpoint.Run());
      address.Bind(1, scan_id).Bind(2, region).Bind(3, shard).Bind(4, entry.address);
      RETURN_IF_ERROR(address.Run());
    }
    unit.Bind(1, scan_id).Bind(2, region).Bind(3, int64_t{kProbeUnit}).Bind(4, shard);
    unit.Bind(5, int64_t{kPending}).Bind(6, static_cast<int64_t>(entries.size()));
    RETURN_IF_ERROR(unit.Run());
    count -= static_cast<int64_t>(entries.size());
    ++shard;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ShardEndpoint>> ProbeUnitEndpoints(SqliteDb& db, const UnitKey& unit,
                                                                  const v1::ProbeProfile& profile,
                                                                  int64_t now_ms) {
  const std::optional<int64_t> reusable_since = KnownEnumerations::ReusableSince(profile, now_ms);
  std::optional<KnownEnumerations> known;
  if (reusable_since.has_value()) {
    ASSIGN_OR_RETURN(known, KnownEnumerations::Open(db));
  }
  ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT e.key, e.mx_host, e.address, e.port, e.provider, e.probe_shard, e.sni, "
                 "e.ref_name, e.ref_fingerprint, e.ref_candidate, n.name FROM endpoint_names n "
                 "JOIN endpoints e ON e.scan_id=n.scan_id AND e.region=n.region AND e.key=n.key "
                 "WHERE n.scan_id=? AND n.region=? AND n.probe_shard=? ORDER BY e.id, "
                 "n.name=e.mx_host DESC, n.name"));
  select.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard);
  std::vector<v1::ShardEndpoint> endpoints;
  std::string last_key;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (endpoints.empty() || select.Text(0) != last_key) {
      last_key = select.Text(0);
      v1::ShardEndpoint& endpoint = endpoints.emplace_back();
      endpoint.set_address(select.Text(2));
      endpoint.set_port(static_cast<uint32_t>(select.Int(3)));
      endpoint.set_provider(select.Text(4));
      // The address's first unit enumerates it, unless the region's last enumeration of it
      // still holds (known_enumerations.h).
      if (select.Int(5) == unit.shard && known.has_value()) {
        ASSIGN_OR_RETURN(std::optional<KnownEnumerations::Known> enumerated,
                         known->Find(unit.region, last_key, *reusable_since));
        if (enumerated.has_value()) {
          endpoint.set_known_fingerprint(enumerated->fingerprint);
          endpoint.set_known_fingerprint_candidate(enumerated->candidate);
        }
      }
      // A later unit of the address: compare with what its first unit found.
      if (select.Int(5) != unit.shard) {
        if (select.Int(6) == SniSharing::SNI_DEPENDENT) {
          endpoint.set_sni_dependent(true);
        } else if (!select.Text(8).empty()) {
          endpoint.set_reference_name(select.Text(7));
          endpoint.set_reference_fingerprint(select.Text(8));
          endpoint.set_reference_candidate(select.Text(9));
        }
      }
    }
    v1::ShardEndpoint& endpoint = endpoints.back();
    endpoint.add_names(select.Text(10));
    if (endpoint.mx_host().empty()) endpoint.set_mx_host(select.Text(10));
  }
  return endpoints;
}

absl::StatusOr<std::vector<int64_t>> FinishProbeUnit(SqliteDb& db, const UnitKey& unit,
                                                     absl::string_view why) {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, UnitKeys(db, unit));
  ASSIGN_OR_RETURN(SqliteStatement answered,
                   db.Prepare("SELECT 1 FROM endpoint_results WHERE scan_id=? AND region=? AND "
                              "probe_shard=? AND endpoint=? LIMIT 1"));
  ASSIGN_OR_RETURN(
      SqliteStatement unit_names,
      db.Prepare("SELECT n.name, e.address, e.port, e.provider FROM endpoint_names n JOIN "
                 "endpoints e ON e.scan_id=n.scan_id AND e.region=n.region AND e.key=n.key "
                 "WHERE n.scan_id=? AND n.region=? AND n.key=? AND n.probe_shard=?"));
  v1::ResultBatch lost;
  for (const std::string& key : keys) {
    answered.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Bind(4, key);
    ASSIGN_OR_RETURN(bool has_results, answered.Step());
    answered.Reset();
    if (has_results) continue;
    // Every name the unit held gets its own AGENT_LOST result, so that none falls back to
    // an earlier answer of the address that may not be its own.
    unit_names.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Bind(4, unit.shard);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, unit_names.Step());
      if (!row) break;
      ProbeResult* result = lost.add_results();
      result->set_mx_host(unit_names.Text(0));
      result->set_address(unit_names.Text(1));
      result->set_port(static_cast<uint32_t>(unit_names.Int(2)));
      result->set_provider(unit_names.Text(3));
      result->set_failure(v1::AGENT_LOST);
      result->set_failure_detail(std::string(why));
    }
    unit_names.Reset();
  }
  if (lost.results_size() > 0) RETURN_IF_ERROR(AddProbeBatch(db, unit, kMissingSeq, lost).status());

  ASSIGN_OR_RETURN(SqliteStatement covered,
                   db.Prepare("UPDATE endpoint_names SET covered=2 WHERE scan_id=? AND region=? "
                              "AND probe_shard=?"));
  RETURN_IF_ERROR(covered.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Run());
  // Names found while the unit ran are covered too when the address proved SNI-independent.
  ASSIGN_OR_RETURN(
      SqliteStatement late,
      db.Prepare("UPDATE endpoint_names SET covered=2 WHERE scan_id=?1 AND region=?2 AND key=?3 "
                 "AND covered=0 AND EXISTS (SELECT 1 FROM endpoints WHERE scan_id=?1 AND "
                 "region=?2 AND key=?3 AND sni=?4)"));
  ASSIGN_OR_RETURN(
      SqliteStatement probed,
      db.Prepare("UPDATE endpoints SET probed=1, waiting=EXISTS (SELECT 1 FROM endpoint_names n "
                 "WHERE n.scan_id=?1 AND n.region=?2 AND n.key=?3 AND n.covered=0) WHERE "
                 "scan_id=?1 AND region=?2 AND key=?3"));
  // CROSS JOIN fixes the order: from the unit's few endpoints to their routes, never from every
  // resolved shard of the region (measured: 0.1 s against 0.2 ms a completion).
  ASSIGN_OR_RETURN(
      SqliteStatement waiting,
      db.Prepare("SELECT DISTINCT r.shard FROM endpoint_names n CROSS JOIN routes r ON "
                 "r.scan_id=n.scan_id AND r.region=n.region AND r.endpoint=n.key AND "
                 "r.name=n.name CROSS JOIN units u ON u.scan_id=r.scan_id AND u.region=r.region "
                 "AND u.kind=?4 AND u.shard=r.shard WHERE n.scan_id=?1 AND n.region=?2 AND "
                 "n.key=?3 AND n.covered=2 AND u.state=?5"));
  ASSIGN_OR_RETURN(SqliteStatement settle,
                   db.Prepare("UPDATE endpoint_names SET covered=1 WHERE scan_id=?1 AND "
                              "region=?2 AND key=?3 AND covered=2"));
  absl::flat_hash_set<int64_t> shards;
  for (const std::string& key : keys) {
    late.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key);
    RETURN_IF_ERROR(late.Bind(4, int64_t{SniSharing::SNI_SHARED}).Run());
    RETURN_IF_ERROR(probed.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Run());
    waiting.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key);
    waiting.Bind(4, int64_t{kTargetUnit}).Bind(5, int64_t{kResolved});
    for (;;) {
      ASSIGN_OR_RETURN(bool row, waiting.Step());
      if (!row) break;
      shards.insert(waiting.Int(0));
    }
    waiting.Reset();
    RETURN_IF_ERROR(settle.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, key).Run());
  }
  std::vector<int64_t> sorted(shards.begin(), shards.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

absl::StatusOr<bool> AddressBusy(SqliteDb& db, const UnitKey& unit,
                                 const absl::flat_hash_set<std::string>& also_busy) {
  ASSIGN_OR_RETURN(
      SqliteStatement addresses,
      db.Prepare("SELECT c.address, EXISTS (SELECT 1 FROM unit_addresses o CROSS JOIN units u ON "
                 "u.scan_id=o.scan_id AND u.region=o.region AND u.kind=?4 AND u.shard=o.shard "
                 "WHERE o.region=c.region AND o.address=c.address AND u.state=?5) FROM "
                 "unit_addresses c WHERE c.scan_id=?1 AND c.region=?2 AND c.shard=?3"));
  addresses.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard);
  addresses.Bind(4, int64_t{kProbeUnit}).Bind(5, int64_t{kLeased});
  for (;;) {
    ASSIGN_OR_RETURN(bool row, addresses.Step());
    if (!row) return false;
    if (addresses.Int(1) != 0 || also_busy.contains(addresses.Text(0))) return true;
  }
}

absl::StatusOr<std::vector<std::string>> UnitAddresses(SqliteDb& db, const UnitKey& unit) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT address FROM unit_addresses WHERE scan_id=? AND region=? "
                              "AND shard=?"));
  select.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard);
  std::vector<std::string> addresses;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    addresses.push_back(select.Text(0));
  }
  return addresses;
}

absl::StatusOr<int64_t> SettleTargetShards(SqliteDb& db, const std::string& scan_id,
                                           const std::string& region,
                                           const std::vector<int64_t>& shards) {
  ASSIGN_OR_RETURN(SqliteStatement state,
                   db.Prepare("SELECT state FROM units WHERE scan_id=? AND region=? AND kind=? "
                              "AND shard=?"));
  ASSIGN_OR_RETURN(
      SqliteStatement uncovered,
      db.Prepare("SELECT 1 FROM routes r JOIN endpoint_names n ON n.scan_id=r.scan_id AND "
                 "n.region=r.region AND n.key=r.endpoint AND n.name=r.name WHERE r.scan_id=? AND "
                 "r.region=? AND r.shard=? AND n.covered=0 LIMIT 1"));
  ASSIGN_OR_RETURN(SqliteStatement done,
                   db.Prepare("UPDATE units SET state=?, results=results+? WHERE scan_id=? AND "
                              "region=? AND kind=? AND shard=?"));
  ASSIGN_OR_RETURN(ShardResultReader reader, ShardResultReader::Open(db));
  int64_t settled = 0;
  for (int64_t shard : shards) {
    state.Bind(1, scan_id).Bind(2, region).Bind(3, int64_t{kTargetUnit}).Bind(4, shard);
    ASSIGN_OR_RETURN(bool row, state.Step());
    const bool resolved = row && state.Int(0) == kResolved;
    state.Reset();
    if (!resolved) continue;
    uncovered.Bind(1, scan_id).Bind(2, region).Bind(3, shard);
    ASSIGN_OR_RETURN(bool waiting, uncovered.Step());
    uncovered.Reset();
    if (waiting) continue;
    ASSIGN_OR_RETURN(const int64_t joined, reader.Settle(scan_id, region, shard));
    done.Bind(1, int64_t{kDone}).Bind(2, joined).Bind(3, scan_id).Bind(4, region);
    RETURN_IF_ERROR(done.Bind(5, int64_t{kTargetUnit}).Bind(6, shard).Run());
    ++settled;
  }
  return settled;
}

absl::Status DeleteScan(SqliteDb& db, const std::string& scan_id) {
  for (const char* table : {"routes", "endpoints", "endpoint_names", "unit_addresses",
                            "endpoint_results", "phase_counts"}) {
    ASSIGN_OR_RETURN(SqliteStatement del,
                     db.Prepare(absl::StrCat("DELETE FROM ", table, " WHERE scan_id=?")));
    RETURN_IF_ERROR(del.Bind(1, scan_id).Run());
  }
  return KnownEnumerations::DeleteScan(db, scan_id);
}

}  // namespace tlsweep::coordinator::endpoint_phase
