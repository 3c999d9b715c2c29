// Writing a submitted target list into the store: each upload writes through a connection of
// its own in batched transactions, so a 10M-line list never holds the coordinator's connection
// for long (WAL: readers never wait for it). A schedule's list is written the same way, as the
// template its runs copy.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "backends/status_macros.h"
#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/sqlite_transaction.h"
#include "coordinator/store/store.h"

namespace tlsweep::coordinator {

// A schedule's template targets live in `targets` under this pseudo scan id (scan ids start
// with 's', schedule ids with 'c').
std::string TemplateKey(absl::string_view schedule_id);

// The first bad lines of a submission, as stored (a Scan carrying only bad_lines).
std::string BadLinesBlob(const SubmissionStats& stats);

// Targets committed per transaction while a list is written or copied.
inline constexpr int64_t kTargetsPerTransaction = 5000;

class SqliteSubmissionWriter : public SubmissionWriter {
 public:
  SqliteSubmissionWriter(std::unique_ptr<SqliteDb> db, std::string scan_id, ScanSpec spec)
      : db_(std::move(db)), scan_id_(std::move(scan_id)), spec_(std::move(spec)) {}
  ~SqliteSubmissionWriter() override {
    if (in_transaction_) db_->Rollback();
  }

  absl::Status Prepare() {
    ASSIGN_OR_RETURN(insert_,
                     db_->Prepare("INSERT OR IGNORE INTO targets VALUES(?,?,?,?,?,?,?,?,?,?)"));
    return absl::OkStatus();
  }

  const std::string& scan_id() const override { return scan_id_; }
  uint64_t duplicate_count() const override { return duplicates_; }

  absl::StatusOr<bool> AddTarget(const TargetRow& target) override {
    if (!in_transaction_) {
      RETURN_IF_ERROR(db_->Begin());
      in_transaction_ = true;
    }
    insert_.Bind(1, scan_id_).Bind(2, static_cast<int64_t>(ordinal_));
    insert_.Bind(3, static_cast<int64_t>(target.line_number)).Bind(4, target.input);
    insert_.Bind(5, target.key).Bind(6, target.domain).Bind(7, target.weight);
    insert_.Bind(8, int64_t{target.kind});
    insert_.Bind(9, target.kind == v1::TARGET_DOMAIN ? std::string() : target.name);
    RETURN_IF_ERROR(insert_.Bind(10, int64_t{target.port}).Run());
    if (db_->Changes() == 0) {
      ++duplicates_;
      return false;
    }
    ++ordinal_;
    if (++in_batch_ >= kTargetsPerTransaction) {
      RETURN_IF_ERROR(CommitBatch());
    }
    return true;
  }

  absl::StatusOr<v1::Scan> Finish(const SubmissionStats& stats, int64_t now_ms) override {
    if (in_transaction_) RETURN_IF_ERROR(CommitBatch());
    Transaction txn(*db_);
    RETURN_IF_ERROR(txn.Begin());
    const uint64_t shards = (ordinal_ + spec_.shard_size - 1) / spec_.shard_size;
    ASSIGN_OR_RETURN(SqliteStatement update,
                     db_->Prepare("UPDATE scans SET state=?, targets=?, lines=?, bad_line_count=?, "
                                  "duplicate_count=?, bad_lines=?, shards=?, finished_ms=? "
                                  "WHERE scan_id=? AND state=?"));
    update.Bind(1, int64_t{ordinal_ == 0 ? v1::SCAN_DONE : v1::SCAN_RUNNING});
    update.Bind(2, static_cast<int64_t>(ordinal_)).Bind(3, static_cast<int64_t>(stats.lines));
    update.Bind(4, static_cast<int64_t>(stats.bad_line_count));
    update.Bind(5, static_cast<int64_t>(duplicates_)).BindBlob(6, BadLinesBlob(stats));
    update.Bind(7, static_cast<int64_t>(shards)).Bind(8, ordinal_ == 0 ? now_ms : int64_t{0});
    update.Bind(9, scan_id_).Bind(10, int64_t{v1::SCAN_SUBMITTING});
    RETURN_IF_ERROR(update.Run());
    if (db_->Changes() == 0) {
      return absl::FailedPreconditionError("the scan was cancelled during its submission");
    }
    ASSIGN_OR_RETURN(SqliteStatement unit,
                     db_->Prepare("INSERT INTO units(scan_id, region, kind, shard, state, targets) "
                                  "VALUES(?,?,0,?,0,?)"));
    for (const std::string& region : spec_.regions) {
      for (uint64_t shard = 0; shard < shards; ++shard) {
        const uint64_t first = shard * spec_.shard_size;
        const uint64_t count = std::min<uint64_t>(spec_.shard_size, ordinal_ - first);
        unit.Bind(1, scan_id_).Bind(2, region).Bind(3, static_cast<int64_t>(shard));
        unit.Bind(4, static_cast<int64_t>(count));
        RETURN_IF_ERROR(unit.Run());
      }
    }
    RETURN_IF_ERROR(txn.Commit());
    v1::Scan scan;
    scan.set_scan_id(scan_id_);
    return scan;
  }

  // Copies `count` targets stored under `from` (a schedule's template), in their order, in
  // batched transactions: the list never passes through memory.
  absl::Status CopyTargets(const std::string& from, uint64_t count) {
    ASSIGN_OR_RETURN(
        SqliteStatement copy,
        db_->Prepare("INSERT INTO targets SELECT ?, ordinal, line_number, input, key, domain, "
                     "weight, kind, name, port FROM targets WHERE scan_id=? AND ordinal >= ? AND "
                     "ordinal < ?"));
    for (uint64_t first = 0; first < count; first += kTargetsPerTransaction) {
      RETURN_IF_ERROR(db_->Begin());
      in_transaction_ = true;
      copy.Bind(1, scan_id_).Bind(2, from).Bind(3, static_cast<int64_t>(first));
      copy.Bind(4, static_cast<int64_t>(first + kTargetsPerTransaction));
      RETURN_IF_ERROR(copy.Run());
      ordinal_ += static_cast<uint64_t>(db_->Changes());
      RETURN_IF_ERROR(CommitBatch());
    }
    if (ordinal_ != count) {
      return absl::DataLossError(
          absl::StrCat("the template has ", ordinal_, " of ", count, " targets"));
    }
    return absl::OkStatus();
  }

  void Abandon(absl::string_view reason, int64_t now_ms) override {
    if (in_transaction_) {
      db_->Rollback();
      in_transaction_ = false;
    }
    Transaction txn(*db_);
    if (!txn.Begin().ok()) return;
    auto del = db_->Prepare("DELETE FROM targets WHERE scan_id=?");
    if (del.ok()) (void)del->Bind(1, scan_id_).Run();
    auto update = db_->Prepare(
        "UPDATE scans SET state=?, detail=?, finished_ms=? WHERE scan_id=? AND state=?");
    if (update.ok()) {
      update->Bind(1, int64_t{v1::SCAN_FAILED}).Bind(2, reason).Bind(3, now_ms);
      (void)update->Bind(4, scan_id_).Bind(5, int64_t{v1::SCAN_SUBMITTING}).Run();
    }
    (void)txn.Commit();
  }

  void set_duplicate_count(uint64_t duplicates) { duplicates_ = duplicates; }

 protected:
  absl::Status CommitBatch() {
    in_transaction_ = false;
    in_batch_ = 0;
    return db_->Commit();
  }

  std::unique_ptr<SqliteDb> db_;
  std::string scan_id_;
  ScanSpec spec_;
  SqliteStatement insert_;
  bool in_transaction_ = false;
  int64_t in_batch_ = 0;
  uint64_t ordinal_ = 0;
  uint64_t duplicates_ = 0;
};

// Writes a schedule's template: targets under TemplateKey(id); Finish inserts the schedule.
class SqliteTemplateWriter : public SqliteSubmissionWriter {
 public:
  SqliteTemplateWriter(std::unique_ptr<SqliteDb> db, std::string schedule_id, ScheduleSpec spec)
      : SqliteSubmissionWriter(std::move(db), TemplateKey(schedule_id), spec.scan),
        schedule_id_(std::move(schedule_id)),
        schedule_(std::move(spec)) {}

  const std::string& scan_id() const override { return schedule_id_; }

  absl::StatusOr<v1::Scan> Finish(const SubmissionStats& stats, int64_t now_ms) override {
    if (in_transaction_) RETURN_IF_ERROR(CommitBatch());
    const ScanSpec& scan = schedule_.scan;
    ASSIGN_OR_RETURN(
        SqliteStatement insert,
        db_->Prepare("INSERT INTO schedules VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    insert.Bind(1, schedule_id_).Bind(2, schedule_.name).Bind(3, schedule_.cron);
    insert.BindBlob(4, scan.profile.SerializeAsString());
    insert.Bind(5, absl::StrJoin(scan.regions, ",")).Bind(6, int64_t{scan.shard_size});
    insert.Bind(7, int64_t{scan.default_port}).Bind(8, int64_t{scan.max_attempts});
    insert.Bind(9, int64_t{schedule_.retention}).Bind(10, schedule_.next_run_ms);
    insert.Bind(11, now_ms).Bind(12, static_cast<int64_t>(ordinal_));
    insert.Bind(13, static_cast<int64_t>(stats.lines));
    insert.Bind(14, static_cast<int64_t>(stats.bad_line_count));
    insert.Bind(15, static_cast<int64_t>(duplicates_)).BindBlob(16, BadLinesBlob(stats));
    insert.Bind(17, int64_t{scan.endpoint_shard_size});
    RETURN_IF_ERROR(insert.Run());
    v1::Scan result;
    result.set_scan_id(schedule_id_);
    return result;
  }

  void Abandon(absl::string_view reason, int64_t now_ms) override {
    (void)reason;
    (void)now_ms;
    if (in_transaction_) {
      db_->Rollback();
      in_transaction_ = false;
    }
    auto del = db_->Prepare("DELETE FROM targets WHERE scan_id=?");
    if (del.ok()) (void)del->Bind(1, scan_id_).Run();
  }

 private:
  std::string schedule_id_;
  ScheduleSpec schedule_;
};

}  // namespace tlsweep::coordinator
