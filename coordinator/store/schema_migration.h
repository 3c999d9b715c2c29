// The store's schema version (meta.schema_version) and the step from the previous one.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "coordinator/store/sqlite_db.h"

namespace tlsweep::coordinator {

// 3: each address probed once (SNI checked), a copy of each endpoint result stored per target
// that used it. 4: each endpoint result stored once, joined to routes when read
// (shard_results.h); certificates stored once (certificate_store.h). 5: enumerations known
// per region across scans, and per scan whether each was reused (known_enumerations.h).
constexpr int64_t kStoreSchemaVersion = 5;

// Brings a store of schema 3 or 4 to 5 (3 to 4 drops the per-target copies, the join reads the
// same results; 4 to 5 adds tables), in one transaction; FAILED_PRECONDITION for a store of a newer
// schema, naming `path`. A database without the meta table (not a store) is left alone. Idempotent.
absl::Status MigrateStoreSchema(SqliteDb& db, absl::string_view path);

}  // namespace tlsweep::coordinator
