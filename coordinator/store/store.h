// The coordinator's durable state behind one small interface: scans and their targets, the
// (shard, region) work units and their leases, agents, and results. Every state change is one
// transaction, so a coordinator killed at any moment restarts where it was.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlsweep/v1/agent_stream.pb.h"
#include "tlsweep/v1/scan.pb.h"
#include "tlsweep/v1/schedule.pb.h"

namespace tlsweep::coordinator {

struct ScanSpec {
  std::string name;
  tlsweep::v1::ProbeProfile profile;
  std::vector<std::string> regions;
  uint32_t shard_size = 1000;
  uint32_t default_port = 25;
  uint32_t max_attempts = 3;
  // Unique endpoints per probe unit (see UnitKind in agent_stream.proto).
  uint32_t endpoint_shard_size = 100;
};

// One validated, normalised target of a submission.
struct TargetRow {
  uint64_t line_number = 0;
  std::string input;   // As written.
  std::string key;     // Identity for de-duplication (backends::TargetKey).
  std::string domain;  // Normalised mail domain; empty for hosts and addresses.
  double weight = 1;
  // The parsed target agents get (ShardTarget): its kind, its name (stored only for hosts and
  // addresses; a domain's is `domain`) and its port (0: the scan's default port).
  tlsweep::v1::TargetKind kind = tlsweep::v1::TARGET_DOMAIN;
  std::string name = {};
  uint32_t port = 0;
};

struct SubmissionStats {
  uint64_t lines = 0;
  uint64_t targets = 0;  // Distinct valid targets written.
  uint64_t bad_line_count = 0;
  std::vector<tlsweep::v1::LineError> bad_lines;  // The first ones.
};

// Streams one scan's targets into the store in batched transactions (bounded memory: the
// de-duplication index lives in the database, not in RAM).
class SubmissionWriter {
 public:
  virtual ~SubmissionWriter() = default;
  virtual const std::string& scan_id() const = 0;
  // False when the target duplicates an earlier one (same key).
  virtual absl::StatusOr<bool> AddTarget(const TargetRow& target) = 0;
  virtual uint64_t duplicate_count() const = 0;
  // Commits, cuts the targets into shards and queues one unit per (shard, region).
  virtual absl::StatusOr<tlsweep::v1::Scan> Finish(const SubmissionStats& stats,
                                                   int64_t now_ms) = 0;
  // The submission failed: the scan is marked failed and its targets dropped.
  virtual void Abandon(absl::string_view reason, int64_t now_ms) = 0;
};

enum class BatchOutcome { kAccepted, kDuplicate, kStale };

// A lease the coordinator took back (expiry, cancellation): its agent is told to stop.
struct LeaseRef {
  uint64_t lease_id = 0;
  std::string agent_id;
};

// A scheduled scan's template: each run is a scan made from it.
struct ScheduleSpec {
  std::string name;
  std::string cron;         // Validated by the caller; the store only keeps it.
  ScanSpec scan;            // What every run's scan gets (scan.name is ignored: runs use `name`).
  uint32_t retention = 10;  // Runs kept.
  int64_t next_run_ms = 0;  // 0: never.
};

// A schedule the scheduler should run now.
struct DueSchedule {
  std::string schedule_id;
  std::string cron;
  int64_t next_run_ms = 0;
};

// What starting a run did.
struct ScheduledRun {
  std::string scan_id;                     // Empty when skipped (the previous run is still going).
  std::vector<std::string> deleted_scans;  // Older runs dropped by retention.
  std::vector<LeaseRef> cancelled_leases;  // Leases of deleted scans still out.
};

class Store {
 public:
  virtual ~Store() = default;

  virtual absl::StatusOr<std::unique_ptr<SubmissionWriter>> BeginScan(const ScanSpec& spec,
                                                                      int64_t now_ms) = 0;
  virtual absl::StatusOr<tlsweep::v1::Scan> GetScan(const std::string& scan_id,
                                                    bool with_bad_lines) = 0;
  virtual absl::StatusOr<std::vector<tlsweep::v1::Scan>> ListScans(size_t limit) = 0;
  // Scans submitting or running.
  virtual absl::StatusOr<int64_t> ActiveScans() = 0;
  // The state of every scan submitting or running, or finished at or after `finished_since_ms`
  // (for the coordinator's scan-state log).
  virtual absl::StatusOr<std::vector<std::pair<std::string, tlsweep::v1::ScanState>>> ScanStates(
      int64_t finished_since_ms) = 0;
  // Returns the leases still out, for their agents to be told.
  virtual absl::StatusOr<std::vector<LeaseRef>> CancelScan(const std::string& scan_id,
                                                           int64_t now_ms) = 0;

  // PERMISSION_DENIED when connecting an id that is connected, or holds leases, in another
  // region.
  virtual absl::Status RecordAgent(const tlsweep::v1::AgentHello& hello, absl::string_view peer,
                                   bool connected, int64_t now_ms) = 0;

  // Up to `max` pending units of `region`, oldest scan first (its probe units before its
  // target shards), leased to `agent_id`. Probe units only when `probe_units` (the agent
  // runs them: AgentHello.runs_endpoint_units).
  virtual absl::StatusOr<std::vector<tlsweep::v1::ShardAssignment>> LeaseShards(
      absl::string_view agent_id, absl::string_view region, int max, int64_t now_ms,
      int64_t lease_ms, bool probe_units) = 0;
  // Leases `agent_id` holds now (leased units).
  virtual absl::StatusOr<int64_t> HeldLeases(absl::string_view agent_id) = 0;
  // PERMISSION_DENIED when a result is not the lease's own (another shard's line, another
  // unit's endpoint): nothing of the batch is stored.
  virtual absl::StatusOr<BatchOutcome> IngestBatch(absl::string_view agent_id,
                                                   const tlsweep::v1::ResultBatch& batch) = 0;
  // False (with `detail`) when the lease is not the agent's any more or batches are missing.
  virtual absl::StatusOr<bool> CompleteLease(absl::string_view agent_id, uint64_t lease_id,
                                             uint64_t batches, int64_t now_ms,
                                             std::string* detail) = 0;
  // Extends the agent's listed leases; returns the listed ones that are no longer its.
  virtual absl::StatusOr<std::vector<uint64_t>> ExtendLeases(absl::string_view agent_id,
                                                             const std::vector<uint64_t>& leases,
                                                             int64_t now_ms, int64_t lease_ms) = 0;
  // The agent gives the lease back: queued again, or lost after max_attempts (as on expiry).
  virtual absl::Status ReleaseLease(absl::string_view agent_id, uint64_t lease_id,
                                    int64_t now_ms) = 0;
  // Expired leases go back to the queue, or, after max_attempts, their targets get AGENT_LOST.
  virtual absl::StatusOr<std::vector<LeaseRef>> ExpireLeases(int64_t now_ms) = 0;
  // At start-up: outstanding leases get at least `grace_ms` (their agents reconnect and go on);
  // submissions cut off by the restart are marked failed; no agent is connected.
  virtual absl::Status Recover(int64_t now_ms, int64_t grace_ms) = 0;

  // Results of one scan and region, in target line order: each target's own, and its routes
  // joined to their endpoints' results (shard_results.h).
  virtual absl::StatusOr<std::vector<tlsweep::v1::ProbeResult>> Results(
      const std::string& scan_id, const std::string& region) = 0;

  // Deletes a scan and everything stored for it (targets, units, batches, results, report_*
  // rows); returns the leases that were still out, for their agents to be told.
  virtual absl::StatusOr<std::vector<LeaseRef>> DeleteScan(const std::string& scan_id) = 0;

  // Scheduled scans. BeginSchedule streams the template's list in like BeginScan (the writer's
  // scan_id() is the schedule id; Finish stores the schedule and returns a Scan carrying only
  // that id). The template's targets are stored once, under a pseudo scan id.
  virtual absl::StatusOr<std::unique_ptr<SubmissionWriter>> BeginSchedule(const ScheduleSpec& spec,
                                                                          int64_t now_ms) = 0;
  // With up to `max_runs` runs each, newest first.
  virtual absl::StatusOr<tlsweep::v1::Schedule> GetSchedule(const std::string& schedule_id,
                                                            size_t max_runs) = 0;
  virtual absl::StatusOr<std::vector<tlsweep::v1::Schedule>> ListSchedules(size_t max_runs) = 0;
  // Forgets the schedule and its template; its runs' scans stay unless `delete_runs`.
  virtual absl::StatusOr<std::vector<LeaseRef>> RemoveSchedule(const std::string& schedule_id,
                                                               bool delete_runs) = 0;
  // Schedules whose next run is due (0 < next_run_ms <= now_ms).
  virtual absl::StatusOr<std::vector<DueSchedule>> DueSchedules(int64_t now_ms) = 0;
  // The earliest next run of any schedule; 0 when none.
  virtual absl::StatusOr<int64_t> NextScheduledRunMs() = 0;
  // Makes a scan from the template (same sharding as any scan), records the run, sets the
  // schedule's next run (unchanged when nullopt) and applies retention. With
  // `skip_if_running`, a schedule whose latest run is still submitting or running gets no new
  // run (its next run is still advanced).
  virtual absl::StatusOr<ScheduledRun> StartScheduledRun(const std::string& schedule_id,
                                                         int64_t now_ms,
                                                         std::optional<int64_t> next_run_ms,
                                                         bool skip_if_running) = 0;
  // The previous finished (done) run of the schedule `scan_id` is a run of, if any.
  virtual absl::StatusOr<std::optional<std::string>> PreviousRun(const std::string& scan_id) = 0;
};

class SqliteDb;
// PreviousRun on a store opened directly (reports read the database, not the Store). None when
// the database has no schedule tables.
absl::StatusOr<std::optional<std::string>> PreviousScheduledRun(SqliteDb& db,
                                                                absl::string_view scan_id);

// The SQLite store (WAL mode); `path` is created if missing.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace tlsweep::coordinator
