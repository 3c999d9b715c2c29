// Probe profiles (tlsweep.v1.ProbeProfile) written in a file: protobuf text format, or JSON
// (the protobuf JSON mapping) when the content starts with '{'.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::backends {

// Parses and validates: every candidate passes ValidateCandidate; an empty name becomes
// "candidateN" (N = its 1-based position); names must be unique; an empty source becomes
// `file_name`. Parse errors carry file:line:column.
absl::StatusOr<tlsweep::v1::ProbeProfile> ParseProbeProfile(absl::string_view content,
                                                            absl::string_view file_name);

absl::StatusOr<tlsweep::v1::ProbeProfile> ReadProbeProfile(const std::string& path);

}  // namespace tlsweep::backends
