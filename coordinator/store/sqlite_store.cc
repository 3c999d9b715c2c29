// The SQLite implementation of Store. One connection serves the coordinator (behind a mutex);
// each submission writes through a connection of its own, so a 10M-line upload in batched
// transactions never holds up the agents for long (WAL: readers never wait for it).
#include <algorithm>
#include <mutex>
#include <optional>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "coordinator/store/batch_membership.h"
#include "coordinator/store/certificate_store.h"
#include "coordinator/store/endpoint_phase.h"
#include "coordinator/store/known_enumerations.h"
#include "coordinator/store/schema_migration.h"
#include "coordinator/store/shard_results.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/sqlite_submission_writer.h"
#include "coordinator/store/sqlite_transaction.h"
#include "coordinator/store/store.h"
#include "coordinator/store/store_rows.h"
#include "coordinator/store/store_schema.h"

#define TLSWEEP_RETURN_IF_ERROR(expr)         \
  do {                                        \
    if (absl::Status _s = (expr); !_s.ok()) { \
      return _s;                              \
    }                                         \
  } while (0)
#define TLSWEEP_CONCAT_INNER(a, b) a##b
#define TLSWEEP_CONCAT(a, b) TLSWEEP_CONCAT_INNER(a, b)
#define TLSWEEP_ASSIGN_OR_RETURN(lhs, expr) \
  TLSWEEP_ASSIGN_OR_RETURN_IMPL(TLSWEEP_CONCAT(_so_, __LINE__), lhs, expr)
#define TLSWEEP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(*tmp)

namespace tlsweep::coordinator {
namespace {

using ::tlsweep::v1::ProbeResult;
using ::tlsweep::v1::Scan;
using ::tlsweep::v1::ShardAssignment;

std::string NewId(char prefix, int64_t now_ms) {
  static std::mutex mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mutex);
  return absl::StrFormat("%c%011x%05x", prefix, now_ms, random() & 0xfffff);
}

std::string NewScanId(int64_t now_ms) { return NewId('s', now_ms); }

absl::Status MarkScanFinishedIfDone(SqliteDb& db, const std::string& scan_id, int64_t now_ms) {
  TLSWEEP_ASSIGN_OR_RETURN(
      SqliteStatement open,
      db.Prepare(absl::StrCat("SELECT EXISTS(SELECT 1 FROM units WHERE scan_id=? AND state IN ",
                              UnitStatesSql({kPending, kLeased, kResolved}), ")")));
  open.Bind(1, scan_id);
  TLSWEEP_ASSIGN_OR_RETURN(bool row, open.Step());
  if (!row || open.Int(0) != 0) return absl::OkStatus();
  TLSWEEP_ASSIGN_OR_RETURN(
      SqliteStatement done,
      db.Prepare("UPDATE scans SET state=?, finished_ms=? WHERE scan_id=? AND state=?"));
  done.Bind(1, int64_t{v1::SCAN_DONE}).Bind(2, now_ms).Bind(3, scan_id);
  done.Bind(4, int64_t{v1::SCAN_RUNNING});
  return done.Run();
}

class SqliteStore : public Store {
 public:
  SqliteStore(std::string path, std::unique_ptr<SqliteDb> db)
      : path_(std::move(path)), db_(std::move(db)) {}

  absl::StatusOr<std::unique_ptr<SubmissionWriter>> BeginScan(const ScanSpec& spec,
                                                              int64_t now_ms) override {
    TLSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSubmissionWriter> writer,
                             BeginScanImpl(spec, now_ms));
    return std::unique_ptr<SubmissionWriter>(std::move(writer));
  }

  absl::StatusOr<std::unique_ptr<SqliteSubmissionWriter>> BeginScanImpl(const ScanSpec& spec,
                                                                        int64_t now_ms) {
    if (spec.regions.empty()) return absl::InvalidArgumentError("a scan needs a region");
    if (spec.shard_size == 0) return absl::InvalidArgumentError("shard size 0");
    const std::string scan_id = NewScanId(now_ms);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      TLSWEEP_ASSIGN_OR_RETURN(
          SqliteStatement insert,
          db_->Prepare("INSERT INTO scans(scan_id, name, profile, regions, state, shard_size, "
                       "default_port, max_attempts, created_ms, endpoint_shard_size) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?)"));
      insert.Bind(1, scan_id).Bind(2, spec.name).BindBlob(3, spec.profile.SerializeAsString());
      insert.Bind(4, absl::StrJoin(spec.regions, ",")).Bind(5, int64_t{v1::SCAN_SUBMITTING});
      insert.Bind(6, int64_t{spec.shard_size}).Bind(7, int64_t{spec.default_port});
      insert.Bind(8, int64_t{spec.max_attempts}).Bind(9, now_ms);
      insert.Bind(10, int64_t{spec.endpoint_shard_size});
      TLSWEEP_RETURN_IF_ERROR(insert.Run());
    }
    TLSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_));
    auto writer = std::make_unique<SqliteSubmissionWriter>(std::move(db), scan_id, spec);
    TLSWEEP_RETURN_IF_ERROR(writer->Prepare());
    return writer;
  }

  absl::StatusOr<Scan> GetScan(const std::string& scan_id, bool with_bad_lines) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return LoadScan(scan_id, with_bad_lines);
  }

  absl::StatusOr<std::vector<Scan>> ListScans(size_t limit) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement list,
        db_->Prepare("SELECT scan_id FROM scans ORDER BY created_ms DESC, scan_id DESC LIMIT ?"));
    list.Bind(1, static_cast<int64_t>(limit));
    std::vector<std::string> ids;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, list.Step());
      if (!row) break;
      ids.push_back(list.Text(0));
    }
    std::vector<Scan> scans;
    for (const std::string& id : ids) {
      TLSWEEP_ASSIGN_OR_RETURN(Scan scan, LoadScan(id, false));
      scans.push_back(std::move(scan));
    }
    return scans;
  }

  absl::StatusOr<int64_t> ActiveScans() override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement count,
                             db_->Prepare("SELECT COUNT(*) FROM scans WHERE state IN (?, ?)"));
    count.Bind(1, int64_t{v1::SCAN_SUBMITTING}).Bind(2, int64_t{v1::SCAN_RUNNING});
    TLSWEEP_ASSIGN_OR_RETURN(bool row, count.Step());
    return row ? count.Int(0) : int64_t{0};
  }

  absl::StatusOr<std::vector<std::pair<std::string, v1::ScanState>>> ScanStates(
      int64_t finished_since_ms) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement select,
                             db_->Prepare("SELECT scan_id, state FROM scans WHERE state IN (?, ?) "
                                          "OR finished_ms >= ?"));
    select.Bind(1, int64_t{v1::SCAN_SUBMITTING}).Bind(2, int64_t{v1::SCAN_RUNNING});
    select.Bind(3, finished_since_ms);
    std::vector<std::pair<std::string, v1::ScanState>> states;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      states.emplace_back(select.Text(0), static_cast<v1::ScanState>(select.Int(1)));
    }
    return states;
  }

  absl::StatusOr<std::vector<LeaseRef>> CancelScan(const std::string& scan_id,
                                                   int64_t now_ms) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement update,
        db_->Prepare("UPDATE scans SET state=?, finished_ms=?, detail='cancelled' "
                     "WHERE scan_id=? AND state IN (?, ?)"));
    update.Bind(1, int64_t{v1::SCAN_CANCELLED}).Bind(2, now_ms).Bind(3, scan_id);
    update.Bind(4, int64_t{v1::SCAN_SUBMITTING}).Bind(5, int64_t{v1::SCAN_RUNNING});
    TLSWEEP_RETURN_IF_ERROR(update.Run());
    if (db_->Changes() == 0) {
      TLSWEEP_ASSIGN_OR_RETURN(Scan scan, LoadScan(scan_id, false));  // NotFound, or finished.
      return std::vector<LeaseRef>{};
    }
    TLSWEEP_ASSIGN_OR_RETURN(std::vector<LeaseRef> leases, LeasesOut(scan_id));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement units,
        db_->Prepare(absl::StrCat("UPDATE units SET state=", int64_t{kCancelled},
                                  " WHERE scan_id=? AND state IN ",
                                  UnitStatesSql({kPending, kLeased, kResolved}))));
    TLSWEEP_RETURN_IF_ERROR(units.Bind(1, scan_id).Run());
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return leases;
  }

  absl::Status RecordAgent(const v1::AgentHello& hello, absl::string_view peer, bool connected,
                           int64_t now_ms) override {
    std::vector<std::string> backends;
    for (const v1::BackendInfo& backend : hello.backends()) {
      backends.push_back(absl::StrCat(backend.name(), " ", backend.library_version()));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (connected) {
      // Leases, heartbeats and batches are keyed by agent id: an id that is connected or holds
      // leases in one region cannot be taken from another (a certificate binds only a region).
      TLSWEEP_ASSIGN_OR_RETURN(
          SqliteStatement existing,
          db_->Prepare("SELECT a.region, a.connected, (SELECT COUNT(*) FROM units u WHERE "
                       "u.agent_id=a.agent_id AND u.state=1) FROM agents a WHERE a.agent_id=?"));
      existing.Bind(1, hello.agent_id());
      TLSWEEP_ASSIGN_OR_RETURN(bool row, existing.Step());
      if (row && existing.Text(0) != hello.region() &&
          (existing.Int(1) != 0 || existing.Int(2) > 0)) {
        return absl::PermissionDeniedError(absl::StrCat("agent id '", hello.agent_id(),
                                                        "' is in use in region '", existing.Text(0),
                                                        "'; every agent needs its own --agent-id"));
      }
    }
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement upsert,
                             db_->Prepare("INSERT OR REPLACE INTO agents VALUES(?,?,?,?,?,?,?,?)"));
    upsert.Bind(1, hello.agent_id()).Bind(2, hello.region()).Bind(3, int64_t{hello.capacity()});
    upsert.Bind(4, absl::StrJoin(backends, ", ")).Bind(5, peer).Bind(6, hello.version());
    upsert.Bind(7, int64_t{connected}).Bind(8, now_ms);
    return upsert.Run();
  }

  absl::StatusOr<std::vector<ShardAssignment>> LeaseShards(absl::string_view agent_id,
                                                           absl::string_view region, int max,
                                                           int64_t now_ms, int64_t lease_ms,
                                                           bool probe_units) override {
    std::vector<ShardAssignment> assignments;
    if (max <= 0) return assignments;
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    // Oldest running scan first; within it, probe units (they unblock resolved shards), then
    // target shards, each in order. Read per scan through units_queue: no region-wide sort.
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement scans,
        db_->Prepare("SELECT scan_id, shard_size, profile, default_port FROM scans WHERE state=? "
                     "ORDER BY created_ms, scan_id"));
    scans.Bind(1, int64_t{v1::SCAN_RUNNING});
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement pick,
        db_->Prepare("SELECT kind, shard, attempts FROM units WHERE scan_id=? AND region=? AND "
                     "state=0 AND kind <= ? ORDER BY kind DESC, shard"));
    struct Picked {
      Unit unit;
      int64_t shard_size = 0;
      ShardAssignment assignment;
    };
    std::vector<Picked> picked;
    absl::flat_hash_set<std::string> busy_addresses;  // Of the probe units picked so far.
    while (static_cast<int>(picked.size()) < max) {
      TLSWEEP_ASSIGN_OR_RETURN(bool scan_row, scans.Step());
      if (!scan_row) break;
      v1::ProbeProfile profile;
      if (!profile.ParseFromString(scans.Blob(2))) {
        return absl::DataLossError("stored profile does not parse");
      }
      pick.Bind(1, scans.Text(0)).Bind(2, region);
      pick.Bind(3, int64_t{probe_units ? kProbeUnit : kTargetUnit});
      while (static_cast<int>(picked.size()) < max) {
        TLSWEEP_ASSIGN_OR_RETURN(bool row, pick.Step());
        if (!row) break;
        const Unit unit = {scans.Text(0), std::string(region), pick.Int(0), pick.Int(1), kPending};
        if (unit.kind == kProbeUnit) {
          // Region-wide politeness: one agent at a time per address (docs/ARCHITECTURE.md).
          TLSWEEP_ASSIGN_OR_RETURN(
              bool busy, endpoint_phase::AddressBusy(*db_, PhaseKey(unit), busy_addresses));
          if (busy) continue;
          TLSWEEP_ASSIGN_OR_RETURN(std::vector<std::string> addresses,
                                   endpoint_phase::UnitAddresses(*db_, PhaseKey(unit)));
          busy_addresses.insert(addresses.begin(), addresses.end());
        }
        Picked& next = picked.emplace_back();
        next.unit = unit;
        next.shard_size = scans.Int(1);
        ShardAssignment& assignment = next.assignment;
        assignment.set_scan_id(next.unit.scan_id);
        assignment.set_region(std::string(region));
        assignment.set_kind(next.unit.kind == kProbeUnit ? v1::UNIT_PROBE_ENDPOINTS
                                                         : v1::UNIT_RESOLVE);
        assignment.set_shard(next.unit.shard);
        assignment.set_attempt(static_cast<uint32_t>(pick.Int(2) + 1));
        *assignment.mutable_profile() = profile;
        assignment.set_default_port(static_cast<uint32_t>(scans.Int(3)));
      }
      pick.Reset();
    }
    scans.Reset();
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement next_id,
                             db_->Prepare("UPDATE meta SET value=value+1 WHERE key='next_lease_id' "
                                          "RETURNING value-1"));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement lease,
        db_->Prepare("UPDATE units SET state=1, attempts=attempts+1, lease_id=?, agent_id=?, "
                     "lease_expiry_ms=?, results=0 WHERE scan_id=? AND region=? AND kind=? AND "
                     "shard=?"));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement targets,
        db_->Prepare("SELECT line_number, input, weight, kind, CASE WHEN name='' THEN domain "
                     "ELSE name END, port FROM targets WHERE scan_id=? AND ordinal >= ? AND "
                     "ordinal < ? ORDER BY ordinal"));
    for (Picked& next : picked) {
      ShardAssignment& assignment = next.assignment;
      TLSWEEP_ASSIGN_OR_RETURN(bool row, next_id.Step());
      if (!row) return absl::DataLossError("lease id counter missing");
      const int64_t lease_id = next_id.Int(0);
      next_id.Reset();
      assignment.set_lease_id(lease_id);
      assignment.set_lease_expiry_unix_ms(now_ms + lease_ms);
      lease.Bind(1, lease_id).Bind(2, agent_id).Bind(3, now_ms + lease_ms);
      lease.Bind(4, next.unit.scan_id).Bind(5, region).Bind(6, next.unit.kind);
      lease.Bind(7, next.unit.shard);
      TLSWEEP_RETURN_IF_ERROR(lease.Run());
      TLSWEEP_RETURN_IF_ERROR(ClearUnitAttempt(next.unit));
      if (next.unit.kind == kProbeUnit) {
        TLSWEEP_ASSIGN_OR_RETURN(std::vector<v1::ShardEndpoint> endpoints,
                                 endpoint_phase::ProbeUnitEndpoints(*db_, PhaseKey(next.unit),
                                                                    assignment.profile(), now_ms));
        for (v1::ShardEndpoint& endpoint : endpoints) {
          *assignment.add_endpoints() = std::move(endpoint);
        }
        assignments.push_back(std::move(assignment));
        continue;
      }
      const int64_t first = next.unit.shard * next.shard_size;
      targets.Bind(1, next.unit.scan_id).Bind(2, first).Bind(3, first + next.shard_size);
      for (;;) {
        TLSWEEP_ASSIGN_OR_RETURN(bool target_row, targets.Step());
        if (!target_row) break;
        v1::ShardTarget* target = assignment.add_targets();
        target->set_line_number(targets.Int(0));
        target->set_input(targets.Text(1));
        target->set_weight(targets.Double(2));
        target->set_kind(static_cast<v1::TargetKind>(targets.Int(3)));
        target->set_name(targets.Text(4));
        target->set_port(targets.Int(5) == 0 ? assignment.default_port()
                                             : static_cast<uint32_t>(targets.Int(5)));
      }
      targets.Reset();
      assignments.push_back(std::move(assignment));
    }
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return assignments;
  }

  absl::StatusOr<int64_t> HeldLeases(absl::string_view agent_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement count,
        db_->Prepare("SELECT COUNT(*) FROM units WHERE agent_id=? AND state=1"));
    count.Bind(1, agent_id);
    TLSWEEP_ASSIGN_OR_RETURN(bool row, count.Step());
    return row ? count.Int(0) : int64_t{0};
  }

  absl::StatusOr<BatchOutcome> IngestBatch(absl::string_view agent_id,
                                           const v1::ResultBatch& batch) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(std::optional<Unit> unit, FindLease(agent_id, batch.lease_id()));
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement record,
                             db_->Prepare("INSERT OR IGNORE INTO batches VALUES(?,?,?)"));
    if (!unit.has_value()) {
      TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement seen,
                               db_->Prepare("SELECT 1 FROM batches WHERE lease_id=? AND seq=?"));
      seen.Bind(1, static_cast<int64_t>(batch.lease_id()));
      seen.Bind(2, static_cast<int64_t>(batch.seq()));
      TLSWEEP_ASSIGN_OR_RETURN(bool row, seen.Step());
      return row ? BatchOutcome::kDuplicate : BatchOutcome::kStale;
    }
    record.Bind(1, static_cast<int64_t>(batch.lease_id()));
    record.Bind(2, static_cast<int64_t>(batch.seq()));
    record.Bind(3, static_cast<int64_t>(batch.results_size()));
    TLSWEEP_RETURN_IF_ERROR(record.Run());
    if (db_->Changes() == 0) return BatchOutcome::kDuplicate;
    if (unit->state != kLeased) return BatchOutcome::kStale;  // Done: a late batch.
    TLSWEEP_RETURN_IF_ERROR(CheckBatchMembership(*unit, batch));
    const int64_t seq = static_cast<int64_t>(batch.seq());
    // A target shard counts its final results (routes are joined later); a probe unit counts
    // its endpoint results.
    int64_t stored = batch.results_size();
    int64_t connections = 0;
    if (unit->kind == kProbeUnit) {
      TLSWEEP_ASSIGN_OR_RETURN(connections,
                               endpoint_phase::AddProbeBatch(*db_, PhaseKey(*unit), seq, batch));
    } else {
      TLSWEEP_ASSIGN_OR_RETURN(stored,
                               endpoint_phase::AddResolveBatch(*db_, PhaseKey(*unit), seq, batch));
    }
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement count,
        db_->Prepare("UPDATE units SET results=results+?, connections=connections+? WHERE "
                     "lease_id=?"));
    count.Bind(1, stored).Bind(2, connections).Bind(3, static_cast<int64_t>(batch.lease_id()));
    TLSWEEP_RETURN_IF_ERROR(count.Run());
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return BatchOutcome::kAccepted;
  }

  absl::StatusOr<bool> CompleteLease(absl::string_view agent_id, uint64_t lease_id,
                                     uint64_t batches, int64_t now_ms,
                                     std::string* detail) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(std::optional<Unit> unit, FindLease(agent_id, lease_id));
    if (!unit.has_value()) {
      *detail = "lease expired, cancelled or unknown";
      return false;
    }
    if (unit->state != kLeased) return true;  // A repeated completion.
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement count,
                             db_->Prepare("SELECT COUNT(*) FROM batches WHERE lease_id=?"));
    count.Bind(1, static_cast<int64_t>(lease_id));
    TLSWEEP_ASSIGN_OR_RETURN(bool row, count.Step());
    if (!row || static_cast<uint64_t>(count.Int(0)) != batches) {
      *detail = absl::StrCat("have ", row ? count.Int(0) : 0, " of ", batches, " batches");
      return false;
    }
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement finish,
        db_->Prepare("UPDATE units SET state=?, lease_expiry_ms=0 WHERE lease_id=?"));
    finish.Bind(1, int64_t{unit->kind == kProbeUnit ? kDone : kResolved});
    TLSWEEP_RETURN_IF_ERROR(finish.Bind(2, static_cast<int64_t>(lease_id)).Run());
    if (unit->kind == kProbeUnit) {
      TLSWEEP_RETURN_IF_ERROR(
          FinishProbeUnit(*unit, "the agent returned no result for this endpoint"));
    } else {
      TLSWEEP_RETURN_IF_ERROR(TargetShardClosed(*unit, /*resolved=*/true));
    }
    TLSWEEP_RETURN_IF_ERROR(MarkScanFinishedIfDone(*db_, unit->scan_id, now_ms));
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return true;
  }

  absl::StatusOr<std::vector<uint64_t>> ExtendLeases(absl::string_view agent_id,
                                                     const std::vector<uint64_t>& leases,
                                                     int64_t now_ms, int64_t lease_ms) override {
    std::vector<uint64_t> stale;
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement extend,
        db_->Prepare("UPDATE units SET lease_expiry_ms=? WHERE lease_id=? AND agent_id=? AND "
                     "state=1"));
    for (uint64_t lease_id : leases) {
      extend.Bind(1, now_ms + lease_ms).Bind(2, static_cast<int64_t>(lease_id)).Bind(3, agent_id);
      TLSWEEP_RETURN_IF_ERROR(extend.Run());
      if (db_->Changes() == 0) stale.push_back(lease_id);
    }
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return stale;
  }

  absl::Status ReleaseLease(absl::string_view agent_id, uint64_t lease_id,
                            int64_t now_ms) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(
        std::vector<TakenBack> units,
        FindLeased("u.lease_id=?1 AND u.agent_id=?2", static_cast<int64_t>(lease_id), agent_id));
    // A unit its agents keep giving back ends like one whose agents keep vanishing.
    for (const TakenBack& unit : units) {
      TLSWEEP_RETURN_IF_ERROR(RequeueOrLose(unit, now_ms, "kept"));
    }
    return txn.Commit();
  }

  absl::StatusOr<std::vector<LeaseRef>> ExpireLeases(int64_t now_ms) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(std::vector<TakenBack> units,
                             FindLeased("u.lease_expiry_ms < ?1", now_ms, ""));
    std::vector<LeaseRef> expired;
    for (const TakenBack& unit : units) {
      expired.push_back(unit.lease);
      TLSWEEP_RETURN_IF_ERROR(RequeueOrLose(unit, now_ms, "completed"));
    }
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return expired;
  }

  absl::Status Recover(int64_t now_ms, int64_t grace_ms) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement extend,
        db_->Prepare("UPDATE units SET lease_expiry_ms=MAX(lease_expiry_ms, ?) WHERE state=1"));
    TLSWEEP_RETURN_IF_ERROR(extend.Bind(1, now_ms + grace_ms).Run());
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement drop,
        db_->Prepare("DELETE FROM targets WHERE scan_id IN (SELECT scan_id FROM scans WHERE "
                     "state=?)"));
    TLSWEEP_RETURN_IF_ERROR(drop.Bind(1, int64_t{v1::SCAN_SUBMITTING}).Run());
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement fail,
        db_->Prepare("UPDATE scans SET state=?, finished_ms=?, detail='the coordinator "
                     "restarted during the submission; submit the list again' WHERE state=?"));
    fail.Bind(1, int64_t{v1::SCAN_FAILED}).Bind(2, now_ms);
    TLSWEEP_RETURN_IF_ERROR(fail.Bind(3, int64_t{v1::SCAN_SUBMITTING}).Run());
    TLSWEEP_RETURN_IF_ERROR(db_->Exec("UPDATE agents SET connected=0"));
    // Templates of schedules whose upload the restart cut off.
    TLSWEEP_RETURN_IF_ERROR(
        db_->Exec("DELETE FROM targets WHERE scan_id >= 'template:' AND scan_id < 'template;' "
                  "AND substr(scan_id, 10) NOT IN (SELECT schedule_id FROM schedules)"));
    return txn.Commit();
  }

  absl::StatusOr<std::vector<ProbeResult>> Results(const std::string& scan_id,
                                                   const std::string& region) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(ShardResultReader reader, ShardResultReader::Open(*db_));
    std::vector<ProbeResult> results;
    TLSWEEP_RETURN_IF_ERROR(reader.ReadRegion(scan_id, region, [&](ShardResult& row) {
      // A damaged row is left out rather than failing every reader of the scan (the report
      // counts and names such rows).
      if (row.readable) results.push_back(std::move(row.result));
      return absl::OkStatus();
    }));
    return results;
  }

  absl::StatusOr<std::vector<LeaseRef>> DeleteScan(const std::string& scan_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(std::optional<std::vector<LeaseRef>> leases,
                             DeleteScanLocked(scan_id));
    if (!leases.has_value()) return absl::NotFoundError(absl::StrCat("no scan '", scan_id, "'"));
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return *std::move(leases);
  }

  absl::StatusOr<std::unique_ptr<SubmissionWriter>> BeginSchedule(const ScheduleSpec& spec,
                                                                  int64_t now_ms) override {
    if (spec.scan.regions.empty()) return absl::InvalidArgumentError("a schedule needs a region");
    if (spec.scan.shard_size == 0) return absl::InvalidArgumentError("shard size 0");
    if (spec.retention == 0) return absl::InvalidArgumentError("retention 0");
    if (!spec.name.empty()) {  // Names are how people tell schedules apart: one of each.
      std::lock_guard<std::mutex> lock(mutex_);
      TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement same,
                               db_->Prepare("SELECT schedule_id FROM schedules WHERE name=?"));
      same.Bind(1, spec.name);
      TLSWEEP_ASSIGN_OR_RETURN(bool taken, same.Step());
      if (taken) {
        return absl::AlreadyExistsError(absl::StrCat("a schedule named '", spec.name,
                                                     "' exists already (", same.Text(0),
                                                     "); remove it first or pick another name"));
      }
    }
    TLSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_));
    auto writer = std::make_unique<SqliteTemplateWriter>(std::move(db), NewId('c', now_ms), spec);
    TLSWEEP_RETURN_IF_ERROR(writer->Prepare());
    return std::unique_ptr<SubmissionWriter>(std::move(writer));
  }

  absl::StatusOr<v1::Schedule> GetSchedule(const std::string& schedule_id,
                                           size_t max_runs) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(std::optional<v1::Schedule> schedule,
                             LoadSchedule(schedule_id, max_runs, true));
    if (!schedule.has_value()) {
      return absl::NotFoundError(absl::StrCat("no schedule '", schedule_id, "'"));
    }
    return *std::move(schedule);
  }

  absl::StatusOr<std::vector<v1::Schedule>> ListSchedules(size_t max_runs) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement list,
        db_->Prepare("SELECT schedule_id FROM schedules ORDER BY created_ms, schedule_id"));
    std::vector<std::string> ids;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, list.Step());
      if (!row) break;
      ids.push_back(list.Text(0));
    }
    std::vector<v1::Schedule> schedules;
    for (const std::string& id : ids) {
      TLSWEEP_ASSIGN_OR_RETURN(std::optional<v1::Schedule> schedule,
                               LoadSchedule(id, max_runs, false));
      if (schedule.has_value()) schedules.push_back(*std::move(schedule));
    }
    return schedules;
  }

  absl::StatusOr<std::vector<LeaseRef>> RemoveSchedule(const std::string& schedule_id,
                                                       bool delete_runs) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Transaction txn(*db_);
    TLSWEEP_RETURN_IF_ERROR(txn.Begin());
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement del,
                             db_->Prepare("DELETE FROM schedules WHERE schedule_id=?"));
    TLSWEEP_RETURN_IF_ERROR(del.Bind(1, schedule_id).Run());
    if (db_->Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("no schedule '", schedule_id, "'"));
    }
    std::vector<LeaseRef> cancelled;
    if (delete_runs) {
      TLSWEEP_ASSIGN_OR_RETURN(std::vector<std::string> runs, RunScanIds(schedule_id, 0));
      for (const std::string& scan_id : runs) {
        TLSWEEP_ASSIGN_OR_RETURN(std::optional<std::vector<LeaseRef>> leases,
                                 DeleteScanLocked(scan_id));
        if (leases.has_value()) cancelled.insert(cancelled.end(), leases->begin(), leases->end());
      }
    }
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement runs,
                             db_->Prepare("DELETE FROM schedule_runs WHERE schedule_id=?"));
    TLSWEEP_RETURN_IF_ERROR(runs.Bind(1, schedule_id).Run());
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement targets,
                             db_->Prepare("DELETE FROM targets WHERE scan_id=?"));
    TLSWEEP_RETURN_IF_ERROR(targets.Bind(1, TemplateKey(schedule_id)).Run());
    TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    return cancelled;
  }

  absl::StatusOr<std::vector<DueSchedule>> DueSchedules(int64_t now_ms) override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement due,
        db_->Prepare("SELECT schedule_id, cron, next_run_ms FROM schedules WHERE next_run_ms > 0 "
                     "AND next_run_ms <= ? ORDER BY next_run_ms, schedule_id"));
    due.Bind(1, now_ms);
    std::vector<DueSchedule> schedules;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, due.Step());
      if (!row) break;
      schedules.push_back({due.Text(0), due.Text(1), due.Int(2)});
    }
    return schedules;
  }

  absl::StatusOr<int64_t> NextScheduledRunMs() override {
    std::lock_guard<std::mutex> lock(mutex_);
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement next,
        db_->Prepare("SELECT COALESCE(MIN(next_run_ms), 0) FROM schedules WHERE next_run_ms > 0"));
    TLSWEEP_ASSIGN_OR_RETURN(bool row, next.Step());
    return row ? next.Int(0) : int64_t{0};
  }

  absl::StatusOr<ScheduledRun> StartScheduledRun(const std::string& schedule_id, int64_t now_ms,
                                                 std::optional<int64_t> next_run_ms,
                                                 bool skip_if_running) override {
    ScheduleSpec spec;
    uint64_t targets = 0;
    SubmissionStats stats;
    uint64_t duplicates = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      TLSWEEP_ASSIGN_OR_RETURN(
          SqliteStatement select,
          db_->Prepare("SELECT name, profile, regions, shard_size, default_port, max_attempts, "
                       "retention, targets, lines, bad_line_count, duplicate_count, bad_lines, "
                       "endpoint_shard_size FROM schedules WHERE schedule_id=?"));
      select.Bind(1, schedule_id);
      TLSWEEP_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) return absl::NotFoundError(absl::StrCat("no schedule '", schedule_id, "'"));
      spec.name = select.Text(0);
      spec.scan.name = spec.name;
      if (!spec.scan.profile.ParseFromString(select.Blob(1))) {
        return absl::DataLossError("stored schedule profile does not parse");
      }
      for (absl::string_view region : absl::StrSplit(select.Text(2), ',', absl::SkipEmpty())) {
        spec.scan.regions.emplace_back(region);
      }
      spec.scan.shard_size = static_cast<uint32_t>(select.Int(3));
      spec.scan.default_port = static_cast<uint32_t>(select.Int(4));
      spec.scan.max_attempts = static_cast<uint32_t>(select.Int(5));
      spec.retention = static_cast<uint32_t>(select.Int(6));
      targets = static_cast<uint64_t>(select.Int(7));
      stats.lines = static_cast<uint64_t>(select.Int(8));
      stats.bad_line_count = static_cast<uint64_t>(select.Int(9));
      duplicates = static_cast<uint64_t>(select.Int(10));
      v1::Scan errors;
      (void)errors.ParseFromString(select.Blob(11));
      stats.bad_lines.assign(errors.bad_lines().begin(), errors.bad_lines().end());
      spec.scan.endpoint_shard_size = static_cast<uint32_t>(select.Int(12));
      if (skip_if_running) {
        TLSWEEP_ASSIGN_OR_RETURN(
            SqliteStatement latest,
            db_->Prepare("SELECT s.state FROM schedule_runs r JOIN scans s ON s.scan_id=r.scan_id "
                         "WHERE r.schedule_id=? ORDER BY r.run_id DESC LIMIT 1"));
        latest.Bind(1, schedule_id);
        TLSWEEP_ASSIGN_OR_RETURN(bool latest_row, latest.Step());
        if (latest_row &&
            (latest.Int(0) == v1::SCAN_SUBMITTING || latest.Int(0) == v1::SCAN_RUNNING)) {
          if (next_run_ms.has_value()) {
            TLSWEEP_RETURN_IF_ERROR(SetNextRun(schedule_id, *next_run_ms));
          }
          return ScheduledRun{};
        }
      }
    }
    TLSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSubmissionWriter> writer,
                             BeginScanImpl(spec.scan, now_ms));
    ScheduledRun run;
    run.scan_id = writer->scan_id();
    {
      // The run is recorded (and the next time set) before the copy: a coordinator stopped
      // during the copy restarts with this run failed, not with the same run due again.
      std::lock_guard<std::mutex> lock(mutex_);
      Transaction txn(*db_);
      TLSWEEP_RETURN_IF_ERROR(txn.Begin());
      TLSWEEP_ASSIGN_OR_RETURN(
          SqliteStatement insert,
          db_->Prepare("INSERT INTO schedule_runs(schedule_id, scan_id, started_ms) "
                       "VALUES(?,?,?)"));
      TLSWEEP_RETURN_IF_ERROR(
          insert.Bind(1, schedule_id).Bind(2, run.scan_id).Bind(3, now_ms).Run());
      if (next_run_ms.has_value()) {
        TLSWEEP_RETURN_IF_ERROR(SetNextRun(schedule_id, *next_run_ms));
      }
      TLSWEEP_ASSIGN_OR_RETURN(std::vector<std::string> runs, RunScanIds(schedule_id, 0));
      for (size_t i = spec.retention; i < runs.size(); ++i) {
        TLSWEEP_ASSIGN_OR_RETURN(std::optional<std::vector<LeaseRef>> leases,
                                 DeleteScanLocked(runs[i]));
        if (leases.has_value()) {
          run.cancelled_leases.insert(run.cancelled_leases.end(), leases->begin(), leases->end());
        }
        run.deleted_scans.push_back(runs[i]);
      }
      TLSWEEP_RETURN_IF_ERROR(txn.Commit());
    }
    absl::Status copied = writer->CopyTargets(TemplateKey(schedule_id), targets);
    if (copied.ok()) {
      writer->set_duplicate_count(duplicates);
      copied = writer->Finish(stats, now_ms).status();
    }
    if (!copied.ok()) {
      writer->Abandon(copied.message(), now_ms);
      return copied;
    }
    return run;
  }

  absl::StatusOr<std::optional<std::string>> PreviousRun(const std::string& scan_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return PreviousScheduledRun(*db_, scan_id);
  }

  absl::Status Init() {
    std::lock_guard<std::mutex> lock(mutex_);
    // Stores written before the endpoint phase have units without a kind: refuse them rather
    // than guess (no such store was ever released).
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement old,
        db_->Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='units' AND "
                     "sql NOT LIKE '%kind INTEGER%'"));
    TLSWEEP_ASSIGN_OR_RETURN(bool is_old, old.Step());
    if (is_old) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_,
                       " was written by an earlier tlsweep (store schema 1); start a "
                       "new store file"));
    }
    // Schema 2 keyed endpoints by MX name; schema 3 probes each address once (SNI checked).
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement schema2,
        db_->Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='endpoints' AND "
                     "sql NOT LIKE '%waiting INTEGER%'"));
    TLSWEEP_ASSIGN_OR_RETURN(bool is_schema2, schema2.Step());
    if (is_schema2) {
      return absl::FailedPreconditionError(absl::StrCat(
          path_,
          " was written by an earlier tlsweep (store schema 2, one probe per MX name); read its "
          "reports with that version, and give this one a new --store file"));
    }
    TLSWEEP_RETURN_IF_ERROR(db_->Exec(kStoreSchema));
    TLSWEEP_RETURN_IF_ERROR(db_->Exec(endpoint_phase::kSchema));
    TLSWEEP_RETURN_IF_ERROR(db_->Exec(CertificateStore::kSchema));
    TLSWEEP_RETURN_IF_ERROR(db_->Exec(KnownEnumerations::kSchema));
    return MigrateStoreSchema(*db_, path_);
  }

 private:
  struct Unit {
    std::string scan_id;
    std::string region;
    int64_t kind = kTargetUnit;
    int64_t shard = 0;
    int64_t state = 0;
  };

  static endpoint_phase::UnitKey PhaseKey(const Unit& unit) {
    return {unit.scan_id, unit.region, unit.shard};
  }

  absl::Status CheckBatchMembership(const Unit& unit, const v1::ResultBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    if (unit.kind == kProbeUnit) return CheckProbeBatch(*db_, PhaseKey(unit), batch);
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement size,
                             db_->Prepare("SELECT shard_size FROM scans WHERE scan_id=?"));
    size.Bind(1, unit.scan_id);
    TLSWEEP_ASSIGN_OR_RETURN(bool row, size.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("scan ", unit.scan_id, " is gone"));
    const int64_t first = unit.shard * size.Int(0);
    return CheckResolveBatch(*db_, unit.scan_id, first, first + size.Int(0), batch);
  }

  // The scan's leases still out, for their agents to be told to stop.
  absl::StatusOr<std::vector<LeaseRef>> LeasesOut(const std::string& scan_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement leased,
        db_->Prepare("SELECT lease_id, agent_id FROM units WHERE scan_id=? AND state=1"));
    leased.Bind(1, scan_id);
    std::vector<LeaseRef> leases;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, leased.Step());
      if (!row) break;
      leases.push_back({static_cast<uint64_t>(leased.Int(0)), leased.Text(1)});
    }
    return leases;
  }

  // A leased unit the coordinator takes back (expired or released lease).
  struct TakenBack {
    Unit unit;
    LeaseRef lease;
    int64_t attempts = 0, max_attempts = 0, shard_size = 0;
  };

  // Leased units matching `where` (over units u; ?1 and ?2 bound to `a` and `b`).
  absl::StatusOr<std::vector<TakenBack>> FindLeased(const std::string& where, int64_t a,
                                                    absl::string_view b)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement find,
        db_->Prepare(
            absl::StrCat("SELECT u.scan_id, u.region, u.kind, u.shard, u.attempts, s.max_attempts, "
                         "s.shard_size, u.lease_id, u.agent_id FROM units u JOIN scans s ON "
                         "s.scan_id = u.scan_id WHERE u.state=1 AND ",
                         where)));
    find.Bind(1, a);
    if (absl::StrContains(where, "?2")) find.Bind(2, b);
    std::vector<TakenBack> units;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, find.Step());
      if (!row) break;
      units.push_back({{find.Text(0), find.Text(1), find.Int(2), find.Int(3), kLeased},
                       {static_cast<uint64_t>(find.Int(7)), find.Text(8)},
                       find.Int(4),
                       find.Int(5),
                       find.Int(6)});
    }
    return units;
  }

  // Back to the queue, or, after max_attempts leases, lost: a target shard's targets get
  // AGENT_LOST, a probe unit's endpoints too (and the shards waiting for them are joined).
  absl::Status RequeueOrLose(const TakenBack& taken, int64_t now_ms, absl::string_view verb)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    const Unit& unit = taken.unit;
    TLSWEEP_RETURN_IF_ERROR(ClearUnitAttempt(unit));
    const bool lost = taken.attempts >= taken.max_attempts;
    int64_t results = 0;
    if (lost && unit.kind == kTargetUnit) {
      TLSWEEP_ASSIGN_OR_RETURN(results, WriteAgentLost(unit, taken.shard_size, taken.attempts));
    }
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement requeue,
        db_->Prepare("UPDATE units SET state=?, lease_expiry_ms=0, results=? WHERE scan_id=? "
                     "AND region=? AND kind=? AND shard=?"));
    requeue.Bind(1, int64_t{lost ? kLost : kPending}).Bind(2, results);
    requeue.Bind(3, unit.scan_id).Bind(4, unit.region).Bind(5, unit.kind);
    TLSWEEP_RETURN_IF_ERROR(requeue.Bind(6, unit.shard).Run());
    if (!lost) return absl::OkStatus();
    if (unit.kind == kProbeUnit) {
      TLSWEEP_RETURN_IF_ERROR(
          FinishProbeUnit(unit, absl::StrCat("no agent ", verb, " this endpoint's probe unit in ",
                                             taken.attempts, " lease(s)")));
    } else {
      TLSWEEP_RETURN_IF_ERROR(TargetShardClosed(unit, /*resolved=*/false));
    }
    return MarkScanFinishedIfDone(*db_, unit.scan_id, now_ms);
  }

  // Drops what an earlier lease of the unit stored.
  absl::Status ClearUnitAttempt(const Unit& unit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    if (unit.kind == kProbeUnit) return endpoint_phase::ClearProbeAttempt(*db_, PhaseKey(unit));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement del,
        db_->Prepare("DELETE FROM results WHERE scan_id=? AND region=? AND shard=?"));
    TLSWEEP_RETURN_IF_ERROR(
        del.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, unit.shard).Run());
    return endpoint_phase::ClearResolveAttempt(*db_, PhaseKey(unit));
  }

  // A target shard is resolved (or lost): its region's endpoints are cut into probe units
  // (all of them once no target shard of the region is open), and a resolved shard whose
  // endpoints are all probed already is joined at once.
  absl::Status TargetShardClosed(const Unit& unit, bool resolved)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_RETURN_IF_ERROR(CutProbeUnits(unit));
    if (!resolved) return absl::OkStatus();
    return endpoint_phase::SettleTargetShards(*db_, unit.scan_id, unit.region, {unit.shard})
        .status();
  }

  // A probe unit is done or lost: the target shards that waited for it are joined, and names
  // found while it ran go into a new unit (at once if the region's resolution is over).
  absl::Status FinishProbeUnit(const Unit& unit, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(std::vector<int64_t> waiting,
                             endpoint_phase::FinishProbeUnit(*db_, PhaseKey(unit), why));
    TLSWEEP_RETURN_IF_ERROR(
        endpoint_phase::SettleTargetShards(*db_, unit.scan_id, unit.region, waiting).status());
    return CutProbeUnits(unit);
  }

  // Cuts the region's waiting names into probe units: full ones only while target shards of
  // the region are still open, all of them after.
  absl::Status CutProbeUnits(const Unit& unit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement open,
        db_->Prepare("SELECT (SELECT COUNT(*) FROM units WHERE scan_id=?1 AND region=?2 AND "
                     "kind=?3 AND state IN (?4, ?5)), (SELECT endpoint_shard_size FROM scans "
                     "WHERE scan_id=?1)"));
    open.Bind(1, unit.scan_id).Bind(2, unit.region).Bind(3, int64_t{kTargetUnit});
    open.Bind(4, int64_t{kPending}).Bind(5, int64_t{kLeased});
    TLSWEEP_ASSIGN_OR_RETURN(bool row, open.Step());
    if (!row) return absl::DataLossError("unit count query returned nothing");
    const bool last = open.Int(0) == 0;
    const int64_t size = open.Int(1);
    return endpoint_phase::CutProbeUnits(*db_, unit.scan_id, unit.region, size, last);
  }

  // The unit a lease belongs to, if the lease is this agent's and still counts (leased, or
  // done by it) in a running scan.
  absl::StatusOr<std::optional<Unit>> FindLease(absl::string_view agent_id, uint64_t lease_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement find,
        db_->Prepare(
            absl::StrCat("SELECT u.scan_id, u.region, u.kind, u.shard, u.state FROM units u JOIN "
                         "scans s ON s.scan_id = u.scan_id WHERE u.lease_id=? AND u.agent_id=? AND "
                         "u.state IN ",
                         UnitStatesSql({kLeased, kDone, kResolved}), " AND s.state IN (?, ?)")));
    find.Bind(1, static_cast<int64_t>(lease_id)).Bind(2, agent_id);
    find.Bind(3, int64_t{v1::SCAN_RUNNING}).Bind(4, int64_t{v1::SCAN_DONE});
    TLSWEEP_ASSIGN_OR_RETURN(bool row, find.Step());
    if (!row) return std::optional<Unit>();
    return std::optional<Unit>(
        Unit{find.Text(0), find.Text(1), find.Int(2), find.Int(3), find.Int(4)});
  }

  absl::Status SetNextRun(const std::string& schedule_id, int64_t next_run_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement update,
        db_->Prepare("UPDATE schedules SET next_run_ms=? WHERE schedule_id=?"));
    return update.Bind(1, next_run_ms).Bind(2, schedule_id).Run();
  }

  // The scans of a schedule's runs, newest first (all when limit is 0).
  absl::StatusOr<std::vector<std::string>> RunScanIds(const std::string& schedule_id, size_t limit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement select,
        db_->Prepare("SELECT scan_id FROM schedule_runs WHERE schedule_id=? ORDER BY run_id DESC "
                     "LIMIT ?"));
    select.Bind(1, schedule_id).Bind(2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
    std::vector<std::string> ids;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      ids.push_back(select.Text(0));
    }
    return ids;
  }

  // Inside a transaction. Nullopt when there is no such scan (its run row still goes).
  absl::StatusOr<std::optional<std::vector<LeaseRef>>> DeleteScanLocked(const std::string& scan_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(std::vector<LeaseRef> leases, LeasesOut(scan_id));
    std::vector<std::string> statements = {
        "DELETE FROM batches WHERE lease_id IN (SELECT lease_id FROM units WHERE scan_id=?1 AND "
        "lease_id > 0)",
        "DELETE FROM results WHERE scan_id=?1",
        "DELETE FROM units WHERE scan_id=?1",
        "DELETE FROM targets WHERE scan_id=?1",
        "DELETE FROM schedule_runs WHERE scan_id=?1",
    };
    // The report index (coordinator/report/result_index.h) keeps rows per scan in report_*
    // tables, created when the first report is built.
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement tables,
        db_->Prepare("SELECT m.name FROM sqlite_master m WHERE m.type='table' AND m.name "
                     "LIKE 'report\\_%' ESCAPE '\\' AND EXISTS (SELECT 1 FROM "
                     "pragma_table_info(m.name) WHERE name='scan_id')"));
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, tables.Step());
      if (!row) break;
      statements.push_back(absl::StrCat("DELETE FROM \"", tables.Text(0), "\" WHERE scan_id=?1"));
    }
    for (const std::string& sql : statements) {
      TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement del, db_->Prepare(sql));
      TLSWEEP_RETURN_IF_ERROR(del.Bind(1, scan_id).Run());
    }
    TLSWEEP_RETURN_IF_ERROR(endpoint_phase::DeleteScan(*db_, scan_id));
    TLSWEEP_RETURN_IF_ERROR(CertificateStore::DeleteScan(*db_, scan_id));
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement scan,
                             db_->Prepare("DELETE FROM scans WHERE scan_id=?"));
    TLSWEEP_RETURN_IF_ERROR(scan.Bind(1, scan_id).Run());
    if (db_->Changes() == 0) return std::optional<std::vector<LeaseRef>>();
    return std::optional<std::vector<LeaseRef>>(std::move(leases));
  }

  absl::StatusOr<std::optional<v1::Schedule>> LoadSchedule(const std::string& schedule_id,
                                                           size_t max_runs, bool with_bad_lines)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement select,
        db_->Prepare("SELECT name, cron, profile, regions, shard_size, default_port, "
                     "max_attempts, retention, next_run_ms, created_ms, targets, lines, "
                     "bad_line_count, duplicate_count, bad_lines FROM schedules "
                     "WHERE schedule_id=?"));
    select.Bind(1, schedule_id);
    TLSWEEP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return std::optional<v1::Schedule>();
    v1::Schedule schedule;
    schedule.set_schedule_id(schedule_id);
    schedule.set_name(select.Text(0));
    schedule.set_cron(select.Text(1));
    (void)schedule.mutable_profile()->ParseFromString(select.Blob(2));
    for (absl::string_view region : absl::StrSplit(select.Text(3), ',', absl::SkipEmpty())) {
      schedule.add_regions(std::string(region));
    }
    schedule.set_shard_size(static_cast<uint32_t>(select.Int(4)));
    schedule.set_default_port(static_cast<uint32_t>(select.Int(5)));
    schedule.set_max_attempts(static_cast<uint32_t>(select.Int(6)));
    schedule.set_retention(static_cast<uint32_t>(select.Int(7)));
    schedule.set_next_run_unix_ms(select.Int(8));
    schedule.set_created_unix_ms(select.Int(9));
    schedule.set_targets(select.Int(10));
    schedule.set_lines(select.Int(11));
    schedule.set_bad_line_count(select.Int(12));
    schedule.set_duplicate_count(select.Int(13));
    if (with_bad_lines) {
      v1::Scan errors;
      (void)errors.ParseFromString(select.Blob(14));
      *schedule.mutable_bad_lines() = errors.bad_lines();
    }
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement runs,
        db_->Prepare("SELECT r.scan_id, r.started_ms, COALESCE(s.state, 0), "
                     "COALESCE(s.finished_ms, 0) FROM schedule_runs r LEFT JOIN scans s ON "
                     "s.scan_id=r.scan_id WHERE r.schedule_id=? ORDER BY r.run_id DESC LIMIT ?"));
    runs.Bind(1, schedule_id);
    runs.Bind(2, max_runs == 0 ? int64_t{-1} : static_cast<int64_t>(max_runs));
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool run_row, runs.Step());
      if (!run_row) break;
      v1::ScheduleRun* run = schedule.add_runs();
      run->set_scan_id(runs.Text(0));
      run->set_started_unix_ms(runs.Int(1));
      run->set_state(static_cast<v1::ScanState>(runs.Int(2)));
      run->set_finished_unix_ms(runs.Int(3));
    }
    return std::optional<v1::Schedule>(std::move(schedule));
  }

  // One AGENT_LOST result per target of the unit's shard; returns how many.
  absl::StatusOr<int64_t> WriteAgentLost(const Unit& unit, int64_t shard_size, int64_t attempts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement targets,
        db_->Prepare("SELECT ordinal, line_number, input, domain FROM targets WHERE scan_id=? "
                     "AND ordinal >= ? AND ordinal < ?"));
    const int64_t first = unit.shard * shard_size;
    targets.Bind(1, unit.scan_id).Bind(2, first).Bind(3, first + shard_size);
    TLSWEEP_ASSIGN_OR_RETURN(SqliteStatement insert, db_->Prepare(kInsertResultSql));
    TLSWEEP_ASSIGN_OR_RETURN(CertificateStore certificates, CertificateStore::Open(*db_));
    int64_t count = 0;
    for (;;) {
      TLSWEEP_ASSIGN_OR_RETURN(bool row, targets.Step());
      if (!row) break;
      ProbeResult lost;
      lost.set_target(targets.Text(2));
      lost.set_domain(targets.Text(3));
      lost.set_line_number(targets.Int(1));
      lost.set_failure(v1::AGENT_LOST);
      lost.set_failure_detail(
          absl::StrCat("no agent completed this shard in ", attempts, " lease(s)"));
      TLSWEEP_RETURN_IF_ERROR(InsertResultRow(insert, certificates, unit.scan_id, unit.region,
                                              unit.shard, kAgentLostSeq, targets.Int(0), lost));
      ++count;
    }
    return count;
  }

  absl::StatusOr<Scan> LoadScan(const std::string& scan_id, bool with_bad_lines)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement select,
        db_->Prepare("SELECT name, profile, regions, state, detail, targets, lines, "
                     "bad_line_count, duplicate_count, bad_lines, shard_size, shards, "
                     "created_ms, finished_ms, max_attempts, endpoint_shard_size FROM scans "
                     "WHERE scan_id=?"));
    select.Bind(1, scan_id);
    TLSWEEP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("no scan '", scan_id, "'"));
    Scan scan;
    scan.set_scan_id(scan_id);
    scan.set_name(select.Text(0));
    (void)scan.mutable_profile()->ParseFromString(select.Blob(1));
    for (absl::string_view region : absl::StrSplit(select.Text(2), ',', absl::SkipEmpty())) {
      scan.add_regions(std::string(region));
    }
    scan.set_state(static_cast<v1::ScanState>(select.Int(3)));
    scan.set_detail(select.Text(4));
    scan.set_targets(select.Int(5));
    scan.set_lines(select.Int(6));
    scan.set_bad_line_count(select.Int(7));
    scan.set_duplicate_count(select.Int(8));
    if (with_bad_lines) {
      Scan errors;
      (void)errors.ParseFromString(select.Blob(9));
      *scan.mutable_bad_lines() = errors.bad_lines();
    }
    scan.set_shard_size(static_cast<uint32_t>(select.Int(10)));
    scan.set_shards(select.Int(11));
    scan.set_created_unix_ms(select.Int(12));
    scan.set_finished_unix_ms(select.Int(13));
    scan.set_max_attempts(static_cast<uint32_t>(select.Int(14)));
    scan.set_endpoint_shard_size(static_cast<uint32_t>(select.Int(15)));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement progress,
        db_->Prepare(absl::StrCat(
            "SELECT COUNT(*), SUM(state=", int64_t{kPending}, "), SUM(state=", int64_t{kLeased},
            "), SUM(state=", int64_t{kDone}, "), SUM(state=", int64_t{kLost},
            "), SUM(CASE WHEN state IN ", UnitStatesSql({kDone, kLost}),
            " THEN targets ELSE 0 END), SUM(results), SUM(attempts), SUM(CASE WHEN state IN ",
            UnitStatesSql({kDone, kLost, kResolved}),
            " THEN targets ELSE 0 END) FROM units WHERE scan_id=? AND region=? AND kind=",
            int64_t{kTargetUnit})));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement endpoints,
        db_->Prepare(
            absl::StrCat("SELECT (SELECT COUNT(*) FROM endpoints WHERE scan_id=?1 AND region=?2), "
                         "COUNT(*), SUM(state IN ",
                         UnitStatesSql({kDone, kLost}),
                         "), SUM(results), SUM(attempts), "
                         "(SELECT COALESCE(SUM(names), 0) FROM phase_counts WHERE scan_id=?1 AND "
                         "region=?2), SUM(connections), (SELECT COUNT(*) FROM endpoints WHERE "
                         "scan_id=?1 AND region=?2 AND sni=?3), (SELECT COALESCE(SUM(probes), 0) "
                         "FROM phase_counts WHERE scan_id=?1 AND region=?2) FROM units WHERE "
                         "scan_id=?1 AND region=?2 AND kind=",
                         int64_t{kProbeUnit})));
    TLSWEEP_ASSIGN_OR_RETURN(
        SqliteStatement agents,
        db_->Prepare("SELECT COUNT(*) FROM agents WHERE region=? AND connected=1"));
    for (const std::string& region : scan.regions()) {
      progress.Bind(1, scan_id).Bind(2, region);
      TLSWEEP_ASSIGN_OR_RETURN(bool progress_row, progress.Step());
      v1::RegionProgress* p = scan.add_progress();
      p->set_region(region);
      if (progress_row) {
        p->set_shards(progress.Int(0));
        p->set_shards_pending(progress.Int(1));
        p->set_shards_leased(progress.Int(2));
        p->set_shards_done(progress.Int(3));
        p->set_shards_lost(progress.Int(4));
        p->set_targets_done(progress.Int(5));
        p->set_results(progress.Int(6));
        p->set_lease_attempts(progress.Int(7));
        p->set_targets_resolved(progress.Int(8));
      }
      progress.Reset();
      endpoints.Bind(1, scan_id).Bind(2, region);
      endpoints.Bind(3, int64_t{v1::SniSharing::SNI_DEPENDENT});
      TLSWEEP_ASSIGN_OR_RETURN(bool endpoint_row, endpoints.Step());
      if (endpoint_row) {
        p->set_endpoints(endpoints.Int(0));
        p->set_endpoint_shards(endpoints.Int(1));
        p->set_endpoint_shards_done(endpoints.Int(2));
        p->set_endpoint_results(endpoints.Int(3));
        p->set_lease_attempts(p->lease_attempts() + endpoints.Int(4));
        p->set_names(endpoints.Int(5));
        p->set_connections(endpoints.Int(6));
        p->set_sni_dependent(endpoints.Int(7));
        p->set_probes(endpoints.Int(8));
      }
      endpoints.Reset();
      agents.Bind(1, region);
      TLSWEEP_ASSIGN_OR_RETURN(bool agents_row, agents.Step());
      if (agents_row) p->set_agents_connected(static_cast<uint32_t>(agents.Int(0)));
      agents.Reset();
    }
    return scan;
  }

  const std::string path_;
  std::mutex mutex_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace

absl::StatusOr<std::optional<std::string>> PreviousScheduledRun(SqliteDb& db,
                                                                absl::string_view scan_id) {
  TLSWEEP_ASSIGN_OR_RETURN(
      SqliteStatement exists,
      db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schedule_runs'"));
  TLSWEEP_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return std::optional<std::string>();
  TLSWEEP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      db.Prepare("SELECT p.scan_id FROM schedule_runs r JOIN schedule_runs p ON "
                 "p.schedule_id=r.schedule_id AND p.run_id < r.run_id JOIN scans s ON "
                 "s.scan_id=p.scan_id AND s.state=? WHERE r.scan_id=? ORDER BY p.run_id DESC "
                 "LIMIT 1"));
  select.Bind(1, int64_t{v1::SCAN_DONE}).Bind(2, scan_id);
  TLSWEEP_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(select.Text(0));
}

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  TLSWEEP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  auto store = std::make_unique<SqliteStore>(path, std::move(db));
  TLSWEEP_RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace tlsweep::coordinator
