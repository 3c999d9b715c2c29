// A target as the coordinator sends it to agents (ShardTarget in agent_stream.proto): parsed
// once, when its list was uploaded; an agent rebuilds the Target from the fields and never
// parses the line again.
#pragma once

#include "absl/status/statusor.h"
#include "backends/target/target.h"
#include "tlsweep/v1/agent_stream.pb.h"

namespace tlsweep::backends {

tlsweep::v1::TargetKind TargetKindOf(Target::Kind kind);

// InvalidArgument when the fields do not make a target: no kind (a coordinator that sent only
// the line), no name, a port out of range, or an address that does not parse.
absl::StatusOr<Target> TargetFromShard(const tlsweep::v1::ShardTarget& shard);

}  // namespace tlsweep::backends
