// Reads a whole file that the user named (a certificate, a key, a token file, a configuration):
// the one reader every program uses, so that each says the same thing about a missing,
// unreadable or oversized file.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tlsweep::backends {

inline constexpr int64_t kMaxNamedFileBytes = 16 << 20;

// NOT_FOUND for a file that is missing or unreadable (with the system's reason),
// INVALID_ARGUMENT for a directory or a file above `max_bytes`, DATA_LOSS for a read error.
absl::StatusOr<std::string> ReadFileContents(const std::string& path,
                                             int64_t max_bytes = kMaxNamedFileBytes);

}  // namespace tlsweep::backends
