// ScanReader over the SQLite store.
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/status_macros.h"
#include "coordinator/store/scan_reader.h"
#include "coordinator/store/schema_migration.h"
#include "coordinator/store/store_rows.h"

namespace tlsweep::coordinator {
namespace {

class SqliteScanReader : public ScanReader {
 public:
  SqliteScanReader(SqliteDb& db, ShardResultReader results)
      : db_(db), results_(std::move(results)) {}

  absl::StatusOr<std::vector<RegionUnits>> Units(const std::string& scan_id) override {
    const std::string finished = UnitStatesSql({kDone, kLost});
    ASSIGN_OR_RETURN(
        SqliteStatement select,
        db_.Prepare(absl::StrCat(
            "SELECT region, COUNT(*), SUM(state IN ", finished, "), SUM(CASE WHEN state IN ",
            finished, " THEN targets ELSE 0 END), SUM(state IN ",
            UnitStatesSql({kDone, kLost, kCancelled}), "), SUM(CASE WHEN state IN ",
            UnitStatesSql({kDone, kLost, kResolved}),
            " THEN targets ELSE 0 END) FROM units WHERE scan_id=? AND kind=? GROUP BY region "
            "ORDER BY region")));
    select.Bind(1, scan_id).Bind(2, int64_t{kTargetUnit});
    std::vector<RegionUnits> regions;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      regions.push_back({select.Text(0), select.Int(1), select.Int(2), select.Int(3), select.Int(4),
                         select.Int(5)});
    }
    return regions;
  }

  absl::StatusOr<std::vector<FinalUnit>> FinalUnits(absl::string_view scan_id) override {
    ASSIGN_OR_RETURN(
        SqliteStatement select,
        db_.Prepare(absl::StrCat("SELECT scan_id, region, shard, state || ':' || lease_id || ':' "
                                 "|| results FROM units WHERE kind=?1 AND state IN ",
                                 UnitStatesSql({kDone, kLost, kCancelled}),
                                 " AND (?2='' OR scan_id=?2) ORDER BY scan_id, region, shard")));
    select.Bind(1, int64_t{kTargetUnit}).Bind(2, scan_id);
    std::vector<FinalUnit> units;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      units.push_back({select.Text(0), select.Text(1), select.Int(2), select.Text(3)});
    }
    return units;
  }

  absl::Status ReadShard(const std::string& scan_id, const std::string& region, int64_t shard,
                         absl::FunctionRef<absl::Status(ShardResult&)> visit) override {
    return results_.Read(scan_id, region, shard, visit);
  }

  absl::Status ReadRegion(const std::string& scan_id, const std::string& region,
                          absl::FunctionRef<absl::Status(ShardResult&)> visit) override {
    return results_.ReadRegion(scan_id, region, visit);
  }

 private:
  SqliteDb& db_;
  ShardResultReader results_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ScanReader>> OpenSqliteScanReader(SqliteDb& db) {
  // A store of schema 3 would read each joined result twice: it is migrated first.
  RETURN_IF_ERROR(MigrateStoreSchema(db, "the store"));
  ASSIGN_OR_RETURN(ShardResultReader results, ShardResultReader::Open(db));
  return std::make_unique<SqliteScanReader>(db, std::move(results));
}

}  // namespace tlsweep::coordinator
