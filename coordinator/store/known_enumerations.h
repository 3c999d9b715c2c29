// What each region last found every endpoint to accept, kept across scans. An enumeration costs
// 5 to 100 connections per endpoint and a server's configuration rarely changes between two
// nights: a scan with --enumerate tells its agents the fingerprint of each endpoint's known
// enumeration (ShardEndpoint.known_fingerprint), an agent whose handshake gets the same answer
// skips the enumeration, and the coordinator fills the result in from here, marked reused, so
// that every reader (report, what-if, advice) treats it like a fresh one.
//
// Per scan, `endpoint_enumerations` records for each enumerated endpoint whether its
// enumeration was made or reused, and when it was made: the report says so per endpoint.
//
// Every function runs inside the caller's transaction on the store's connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator {

class KnownEnumerations {
 public:
  // Tables (part of the store's schema).
  static const char* const kSchema;
  // How old a known enumeration may be without ProbeProfile.enumeration_max_age_s.
  static constexpr int64_t kDefaultMaxAgeS = 7 * 24 * 3600;

  struct Known {
    std::string fingerprint;
    std::string candidate;  // Whose handshake made the fingerprint.
    int64_t enumerated_unix_ms = 0;
  };

  // Prepares its statements on `db`; it must not outlive it.
  static absl::StatusOr<KnownEnumerations> Open(SqliteDb& db);

  // The oldest enumeration a scan with `profile` may reuse at `now_ms`; nullopt when it reuses
  // none (no --enumerate, --fresh, or a max age of 0).
  static std::optional<int64_t> ReusableSince(const tlsweep::v1::ProbeProfile& profile,
                                              int64_t now_ms);

  // The region's enumeration of `endpoint` (EndpointKey) made at `since_ms` or later.
  absl::StatusOr<std::optional<Known>> Find(const std::string& region, const std::string& endpoint,
                                            int64_t since_ms);

  // An enumeration result (PROBE_KIND_ENUMERATE) of a probe unit, before it is stored. A fresh one
  // with a fingerprint that the server did not cut short becomes the region's known enumeration of
  // the endpoint; a reused one (Enumeration.reused) is filled from the known one, keeping the
  // agent's identity and SNI findings (or says why it cannot be, when the known one changed
  // meanwhile). Either way the scan records which it was.
  absl::Status Take(const std::string& scan_id, const std::string& region, int64_t probe_shard,
                    const std::string& endpoint, tlsweep::v1::ProbeResult& result);

  // Drops the per-scan records of a probe unit's attempt, or of a whole scan. What the region
  // knows stays: it is true whichever scan found it.
  static absl::Status ClearAttempt(SqliteDb& db, const std::string& scan_id,
                                   const std::string& region, int64_t probe_shard);
  static absl::Status DeleteScan(SqliteDb& db, const std::string& scan_id);

 private:
  KnownEnumerations() = default;
  absl::Status Record(const std::string& scan_id, const std::string& region, int64_t probe_shard,
                      const std::string& endpoint, const tlsweep::v1::ProbeResult& result);
  SqliteStatement find_, load_, remember_, record_;
};

}  // namespace tlsweep::coordinator
