// An agent may only report on what its lease holds. A buggy or hostile agent that sends results
// for another shard's lines or another unit's addresses would otherwise overwrite verdicts it
// was never asked for (results are keyed by line and endpoint, not by who sent them).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "coordinator/store/endpoint_phase.h"
#include "coordinator/store/sqlite_db.h"
#include "tlsweep/v1/agent_stream.pb.h"

namespace tlsweep::coordinator {

// Every result of a resolve unit's batch names a line of one of the unit's targets, the
// targets of ordinals [first_ordinal, end_ordinal) of the scan. PERMISSION_DENIED otherwise.
absl::Status CheckResolveBatch(SqliteDb& db, const std::string& scan_id, int64_t first_ordinal,
                               int64_t end_ordinal, const tlsweep::v1::ResultBatch& batch);

// Every result of a probe unit's batch is for one of the unit's endpoints, under one of the
// names the unit holds for it or the endpoint's reference name. PERMISSION_DENIED otherwise.
absl::Status CheckProbeBatch(SqliteDb& db, const endpoint_phase::UnitKey& unit,
                             const tlsweep::v1::ResultBatch& batch);

}  // namespace tlsweep::coordinator
