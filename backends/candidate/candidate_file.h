// Reads candidates from an MTA configuration file: an ecelerity.conf or a Postfix main.cf.
#pragma once

#include <map>
#include <string>
#include <vector>

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
// receives the format that was applied. A Postfix main.cf brings the master.cf beside it and
// the policy tables it names (ReadPostfixMainCf).
absl::StatusOr<CandidateSet> LoadCandidateFile(const std::string& path, CandidateFileFormat format,
                                               CandidateFileFormat* format_used = nullptr);

// A `--candidate-from` value: FILE, or NAME=FILE to name the file's candidates. It is NAME=FILE
// when the text before the first '=' is a name (letters, digits, '.', '_', '-') and the whole
// value is not an existing file.
struct CandidateFileArgument {
  std::string name;  // Empty: the reader's own names ("postfix", "ecelerity", ...).
  std::string path;
};
CandidateFileArgument ParseCandidateFileArgument(absl::string_view argument);

// Renames the candidates a reader named after set.name: that one becomes `name`, the others
// ("ecelerity/customer-1") `name/customer-1`.
void RenameCandidates(CandidateSet& set, absl::string_view name);

// Reads every `--candidate-from` value, in order, into one set (candidates and warnings). A
// candidate name must not repeat, within the files or with `taken` (name -> what gave it, e.g.
// "the --profile"): two files that would give the same name are an error that says to name
// them with NAME=FILE; nothing is renamed silently.
absl::StatusOr<CandidateSet> LoadCandidateFiles(const std::vector<std::string>& arguments,
                                                const std::map<std::string, std::string>& taken);

}  // namespace tlsweep::backends
