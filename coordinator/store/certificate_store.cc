#include "coordinator/store/certificate_store.h"

#include <algorithm>
#include <utility>

#include "backends/status_macros.h"

namespace tlsweep::coordinator {

const char* const CertificateStore::kSchema = R"sql(
CREATE TABLE IF NOT EXISTS certificates(sha256 TEXT PRIMARY KEY, der BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS certificate_uses(
  scan_id TEXT, sha256 TEXT, PRIMARY KEY(scan_id, sha256)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS certificate_uses_sha256 ON certificate_uses(sha256);
)sql";

absl::StatusOr<CertificateStore> CertificateStore::Open(SqliteDb& db) {
  CertificateStore store;
  ASSIGN_OR_RETURN(store.insert_, db.Prepare("INSERT OR IGNORE INTO certificates VALUES(?, ?)"));
  ASSIGN_OR_RETURN(store.use_, db.Prepare("INSERT OR IGNORE INTO certificate_uses VALUES(?, ?)"));
  ASSIGN_OR_RETURN(store.select_, db.Prepare("SELECT der FROM certificates WHERE sha256=?"));
  return store;
}

absl::Status CertificateStore::MoveOut(const std::string& scan_id, v1::ProbeResult& result) {
  for (v1::CertificateSummary& certificate : *result.mutable_tls()->mutable_peer_chain()) {
    if (certificate.der().empty() || certificate.sha256_fingerprint().empty()) continue;
    insert_.Bind(1, certificate.sha256_fingerprint()).BindBlob(2, certificate.der());
    RETURN_IF_ERROR(insert_.Run());
    RETURN_IF_ERROR(use_.Bind(1, scan_id).Bind(2, certificate.sha256_fingerprint()).Run());
    certificate.clear_der();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CertificateStore::Serialize(const std::string& scan_id,
                                                        const v1::ProbeResult& result) {
  const bool movable =
      std::any_of(result.tls().peer_chain().begin(), result.tls().peer_chain().end(),
                  [](const v1::CertificateSummary& c) {
                    return !c.der().empty() && !c.sha256_fingerprint().empty();
                  });
  if (!movable) return result.SerializeAsString();
  v1::ProbeResult stored = result;
  RETURN_IF_ERROR(MoveOut(scan_id, stored));
  return stored.SerializeAsString();
}

absl::Status CertificateStore::Restore(v1::ProbeResult& result) {
  if (!result.has_tls()) return absl::OkStatus();
  for (v1::CertificateSummary& certificate : *result.mutable_tls()->mutable_peer_chain()) {
    if (!certificate.der().empty() || certificate.sha256_fingerprint().empty()) continue;
    select_.Bind(1, certificate.sha256_fingerprint());
    absl::StatusOr<bool> row = select_.Step();
    if (row.ok() && *row) certificate.set_der(select_.Blob(0));
    select_.Reset();
    if (!row.ok()) return row.status();
  }
  return absl::OkStatus();
}

absl::Status CertificateStore::DeleteScan(SqliteDb& db, const std::string& scan_id) {
  ASSIGN_OR_RETURN(SqliteStatement orphans,
                   db.Prepare("DELETE FROM certificates WHERE sha256 IN (SELECT u.sha256 FROM "
                              "certificate_uses u WHERE u.scan_id=?1 AND NOT EXISTS (SELECT 1 FROM "
                              "certificate_uses o WHERE o.sha256=u.sha256 AND o.scan_id!=?1))"));
  RETURN_IF_ERROR(orphans.Bind(1, scan_id).Run());
  ASSIGN_OR_RETURN(SqliteStatement uses,
                   db.Prepare("DELETE FROM certificate_uses WHERE scan_id=?"));
  return uses.Bind(1, scan_id).Run();
}

}  // namespace tlsweep::coordinator
