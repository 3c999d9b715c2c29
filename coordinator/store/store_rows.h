// What the store's tables hold, for the code that reads and writes them (sqlite_store.cc,
// endpoint_phase.cc): unit kinds and states, and how a result becomes a `results` row.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "coordinator/store/certificate_store.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::coordinator {

// units.kind: a target shard (resolved, then joined) or a probe unit of unique endpoints.
enum UnitKind : int64_t { kTargetUnit = 0, kProbeUnit = 1 };

// units.state. A target shard goes pending -> leased -> resolved (its routes are in, some of
// its endpoints are not probed yet) -> done (results joined). A probe unit skips `resolved`.
enum UnitState : int64_t {
  kPending = 0,
  kLeased = 1,
  kDone = 2,
  kLost = 3,
  kCancelled = 4,
  kResolved = 5,
};

// "(2, 3)": the listed states as an SQL list, for `state IN ...` (named, not written as numbers).
std::string UnitStatesSql(std::initializer_list<UnitState> states);

// Results rows: `seq` is the batch (or one of these) and `idx` the position.
constexpr int64_t kAgentLostSeq = -1;  // Written by the coordinator when a unit is lost.
// Joined from endpoint results as they are read (shard_results.h); stores of schema 3 kept
// such rows.
constexpr int64_t kJoinedSeq = -2;

constexpr const char* kInsertResultSql =
    "INSERT OR REPLACE INTO results VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

// Binds and runs `insert` (prepared from kInsertResultSql) for one result; its certificates go
// to `certificates`.
absl::Status InsertResultRow(SqliteStatement& insert, CertificateStore& certificates,
                             const std::string& scan_id, const std::string& region, int64_t shard,
                             int64_t seq, int64_t idx, const tlsweep::v1::ProbeResult& result);

}  // namespace tlsweep::coordinator
