#include "coordinator/store/schema_migration.h"

#include "absl/strings/str_cat.h"
#include "backends/status_macros.h"
#include "coordinator/store/certificate_store.h"
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
  if (status.ok() && *again < kStoreSchemaVersion) {
    status = db.Exec(CertificateStore::kSchema);
  }
  if (status.ok() && *again < kStoreSchemaVersion) {
    absl::StatusOr<SqliteStatement> copies = db.Prepare("DELETE FROM results WHERE seq=?");
    status = copies.ok() ? copies->Bind(1, kJoinedSeq).Run() : copies.status();
    if (status.ok()) {
      absl::StatusOr<SqliteStatement> set =
          db.Prepare("UPDATE meta SET value=? WHERE key='schema_version'");
      status = set.ok() ? set->Bind(1, kStoreSchemaVersion).Run() : set.status();
    }
  }
  if (!status.ok()) {
    db.Rollback();
    return status;
  }
  return db.Commit();
}

}  // namespace tlsweep::coordinator
