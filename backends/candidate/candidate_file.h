// Reads candidates from an MTA configuration file: an ecelerity.conf or a Postfix main.cf.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/candidate_spec.h"

namespace tlsweep::backends {

enum class CandidateFileFormat { kAuto, kEcelerity, kPostfix };

// "auto", "ecelerity" (also "momentum"), "postfix".
absl::StatusOr<CandidateFileFormat> ParseCandidateFileFormat(absl::string_view name);
absl::string_view CandidateFileFormatName(CandidateFileFormat format);

// kEcelerity or kPostfix: by file name (main.cf, ecelerity.conf), else by content (scoped
// blocks `{ }`, Momentum option names such as tls_engine, or Postfix smtp_tls_* parameters).
CandidateFileFormat DetectCandidateFileFormat(absl::string_view path, absl::string_view content);

// Reads the file and parses it in `format` (detected when kAuto). `format_used`, if given,
// receives the format that was applied.
absl::StatusOr<CandidateSet> LoadCandidateFile(const std::string& path, CandidateFileFormat format,
                                               CandidateFileFormat* format_used = nullptr);

}  // namespace tlsweep::backends
