// --fresh and --enumeration-max-age: whether a scan with --enumerate may reuse an endpoint's
// enumeration that its region already knows (coordinator/store/known_enumerations.h), shared by
// `tlsweep scan`, `tlsweep remote submit` and `tlsweep schedule add`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlsweep/v1/probe.pb.h"

namespace tlsweep::cli {

struct EnumerationReuseFlags {
  std::string max_age;  // "7d", "36h", "90m", "0"; empty: the coordinator's default (7 days).
  bool fresh = false;
};

void AddEnumerationReuseFlags(CLI::App& command, EnumerationReuseFlags& flags);

// Seconds in "7d", "36h", "90m", "45s", "1d12h" or "0"; InvalidArgument for anything else.
absl::StatusOr<int64_t> ParseMaxAge(absl::string_view text);

// Sets the profile's reuse fields from the flags.
absl::Status ApplyEnumerationReuse(const EnumerationReuseFlags& flags,
                                   tlsweep::v1::ProbeProfile& profile);

}  // namespace tlsweep::cli
