// Prometheus text metrics for the coordinator, read from the store so that they survive a
// restart and need no counters kept in memory: scans by state, work units by state (queue
// depth, leases out), targets done, results by probe outcome, agents connected.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator {

absl::StatusOr<std::string> RenderStoreMetrics(SqliteDb& db);

}  // namespace tlsweep::coordinator
