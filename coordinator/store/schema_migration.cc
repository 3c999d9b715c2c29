#include "coordinator/store/schema_migration.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/status_macros.h"
#include "backends/target/shard_target.h"
#include "backends/target/target.h"
#include "coordinator/store/certificate_store.h"
#include "coordinator/store/known_enumerations.h"
#include "coordinator/store/store_rows.h"

namespace tlsweep::coordinator {
namespace {

absl::StatusOr<int64_t> StoredVersion(SqliteDb& db) {
  ASSIGN_OR_RETURN(SqliteStatement has_meta,
                   db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"));
  ASSIGN_OR_RETURN(bool found, has_meta.Step());
  if (!found) return kStoreSchemaVersion;
  ASSIGN_OR_RETURN(SqliteStatement version,
                   db.Prepare("SELECT value FROM meta WHERE key='schema_version'"));
  ASSIGN_OR_RETURN(bool row, version.Step());
  return row ? version.Int(0) : kStoreSchemaVersion;
}

absl::StatusOr<bool> HasColumn(SqliteDb& db, const char* table, const char* column) {
  ASSIGN_OR_RETURN(SqliteStatement select,
                   db.Prepare("SELECT 1 FROM pragma_table_info(?) WHERE name=?"));
  select.Bind(1, table).Bind(2, column);
  return select.Step();
}

// Schema 5 keeps each target parsed (kind, name, port) for the agents, which no longer parse
// the line. Domains are known by their `domain`; the few hosts and addresses are parsed here,
// with port 0 (the scan's default port) where the line gave none.
absl::Status AddParsedTargets(SqliteDb& db) {
  ASSIGN_OR_RETURN(const bool parsed_before, HasColumn(db, "targets", "kind"));
  if (!parsed_before) {  // Stores of schema 3 and 4 (a table made by this version has them).
    RETURN_IF_ERROR(
        db.Exec("ALTER TABLE targets ADD COLUMN kind INTEGER DEFAULT 0; "
                "ALTER TABLE targets ADD COLUMN name TEXT DEFAULT ''; "
                "ALTER TABLE targets ADD COLUMN port INTEGER DEFAULT 0;"));
  }
  RETURN_IF_ERROR(db.Exec("UPDATE targets SET kind=1 WHERE kind=0 AND domain != ''"));
  ASSIGN_OR_RETURN(SqliteStatement others,
                   db.Prepare("SELECT scan_id, ordinal, input FROM targets WHERE kind=0"));
  ASSIGN_OR_RETURN(SqliteStatement update,
                   db.Prepare("UPDATE targets SET kind=?, name=?, port=? WHERE scan_id=? AND "
                              "ordinal=?"));
  struct Parsed {
    std::string scan_id;
    int64_t ordinal;
    backends::Target target;
  };
  std::vector<Parsed> parsed;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, others.Step());
    if (!row) break;
    // Validated when the list was uploaded; a line that no longer parses stays kind 0, and its
    // agent reports it unusable rather than guessing.
    absl::StatusOr<backends::Target> target = backends::ParseTarget(others.Text(2), 0);
    if (target.ok()) parsed.push_back({others.Text(0), others.Int(1), *std::move(target)});
  }
  others.Reset();
  for (const Parsed& p : parsed) {
    update.Bind(1, int64_t{backends::TargetKindOf(p.target.kind)}).Bind(2, p.target.name);
    update.Bind(3, int64_t{p.target.port}).Bind(4, p.scan_id).Bind(5, p.ordinal);
    RETURN_IF_ERROR(update.Run());
  }
  return absl::OkStatus();
}

// Schema 5 stores a route as columns (line, MX preference, implicit MX; the target's text and
// domain are read from `targets`, the MX name's provider from `endpoint_names`) instead of the
// agent's whole message: rows of older stores keep theirs and are read from it.
absl::Status AddRouteColumns(SqliteDb& db) {
  ASSIGN_OR_RETURN(const bool has_line, HasColumn(db, "routes", "line"));
  if (!has_line) {
    RETURN_IF_ERROR(
        db.Exec("ALTER TABLE routes ADD COLUMN line INTEGER; "
                "ALTER TABLE routes ADD COLUMN preference INTEGER; "
                "ALTER TABLE routes ADD COLUMN implicit INTEGER;"));
  }
  ASSIGN_OR_RETURN(const bool has_provider, HasColumn(db, "endpoint_names", "provider"));
  if (has_provider) return absl::OkStatus();
  return db.Exec("ALTER TABLE endpoint_names ADD COLUMN provider TEXT DEFAULT ''");
}

}  // namespace

absl::Status MigrateStoreSchema(SqliteDb& db, absl::string_view path) {
  ASSIGN_OR_RETURN(int64_t version, StoredVersion(db));
  if (version > kStoreSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " was written by a newer tlsweep (store schema ", version, ", this one knows ",
        kStoreSchemaVersion, "); use that version, or give this one a new --store file"));
  }
  if (version == kStoreSchemaVersion) return absl::OkStatus();
  RETURN_IF_ERROR(db.Begin());
  // Looked at again under the write lock: another process may have migrated meanwhile.
  absl::StatusOr<int64_t> again = StoredVersion(db);
  absl::Status status = again.status();
  if (status.ok() && *again < 4) status = db.Exec(CertificateStore::kSchema);
  if (status.ok() && *again < 4) {
    absl::StatusOr<SqliteStatement> copies = db.Prepare("DELETE FROM results WHERE seq=?");
    status = copies.ok() ? copies->Bind(1, kJoinedSeq).Run() : copies.status();
  }
  if (status.ok() && *again < 5) status = db.Exec(KnownEnumerations::kSchema);
  if (status.ok() && *again < 5) status = AddParsedTargets(db);
  if (status.ok() && *again < 5) status = AddRouteColumns(db);
  if (status.ok() && *again < kStoreSchemaVersion) {
    absl::StatusOr<SqliteStatement> set =
        db.Prepare("UPDATE meta SET value=? WHERE key='schema_version'");
    status = set.ok() ? set->Bind(1, kStoreSchemaVersion).Run() : set.status();
  }
  if (!status.ok()) {
    db.Rollback();
    return status;
  }
  return db.Commit();
}

}  // namespace tlsweep::coordinator
