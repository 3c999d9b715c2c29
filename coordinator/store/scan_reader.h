// What the report side reads of a scan's work units and results, through one small read-only
// interface: unit states are named in the store (store_rows.h), never written as numbers in a
// reader's SQL. It is the seam a store on another database implements; the SQLite one reads
// the store's own file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/store/shard_results.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator {

// The target shards of one region of a scan, by state.
struct RegionUnits {
  std::string region;
  int64_t shards = 0;
  int64_t shards_finished = 0;  // Done or lost: each of their targets has its final results.
  int64_t targets_finished = 0;
  int64_t shards_final = 0;      // Finished or cancelled: nothing of them changes any more.
  int64_t targets_resolved = 0;  // Targets whose routes are known (resolved, done or lost).
};

// A final target shard, with a signature that changes whenever what it holds could (a shard
// indexed at another signature is indexed again).
struct FinalUnit {
  std::string scan_id;
  std::string region;
  int64_t shard = 0;
  std::string signature;
};

class ScanReader {
 public:
  virtual ~ScanReader() = default;

  // Per region that has units, in region order.
  virtual absl::StatusOr<std::vector<RegionUnits>> Units(const std::string& scan_id) = 0;
  // The final target shards of `scan_id` (of every scan when empty), by scan, region, shard.
  virtual absl::StatusOr<std::vector<FinalUnit>> FinalUnits(absl::string_view scan_id) = 0;
  // A target shard's results, and a region's in line order (shard_results.h).
  virtual absl::Status ReadShard(const std::string& scan_id, const std::string& region,
                                 int64_t shard,
                                 absl::FunctionRef<absl::Status(ShardResult&)> visit) = 0;
  virtual absl::Status ReadRegion(const std::string& scan_id, const std::string& region,
                                  absl::FunctionRef<absl::Status(ShardResult&)> visit) = 0;
};

// Reads the store in `db`, which must outlive the reader.
absl::StatusOr<std::unique_ptr<ScanReader>> OpenSqliteScanReader(SqliteDb& db);

}  // namespace tlsweep::coordinator
