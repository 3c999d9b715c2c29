// Certificates are stored once per distinct certificate (by SHA-256), not once per result that
// saw them: a provider's chain is the same for every one of its endpoints and candidates.
// Stored results keep each certificate's summary and fingerprint; the DER is put back when a
// result is read whole.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator {

class CertificateStore {
 public:
  // Tables (part of the store's schema).
  static const char* const kSchema;

  // Prepares its statements on `db`; it must not outlive it.
  static absl::StatusOr<CertificateStore> Open(SqliteDb& db);

  // `result` serialised for storage, the DER of each certificate with a fingerprint moved to
  // the table for `scan_id` (one without keeps its DER).
  absl::StatusOr<std::string> Serialize(const std::string& scan_id,
                                        const tlsweep::v1::ProbeResult& result);
  // Puts the DER back into every certificate of `result` that has none.
  absl::Status Restore(tlsweep::v1::ProbeResult& result);

  // Forgets the scan's uses; certificates no scan uses any more go.
  static absl::Status DeleteScan(SqliteDb& db, const std::string& scan_id);

 private:
  CertificateStore() = default;
  absl::Status MoveOut(const std::string& scan_id, tlsweep::v1::ProbeResult& result);
  SqliteStatement insert_, use_, select_;
};

}  // namespace tlsweep::coordinator
