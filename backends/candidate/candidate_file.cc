#include "backends/candidate/candidate_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/candidate/ecelerity_config.h"
#include "backends/candidate/postfix_main_cf.h"
#include "backends/file_contents.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

// A config file is small; anything larger is not one.

}  // namespace

absl::StatusOr<CandidateFileFormat> ParseCandidateFileFormat(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "auto") return CandidateFileFormat::kAuto;
  if (lower == "ecelerity" || lower == "momentum") return CandidateFileFormat::kEcelerity;
  if (lower == "postfix") return CandidateFileFormat::kPostfix;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown config format '", name, "' (auto, ecelerity, postfix)"));
}

absl::string_view CandidateFileFormatName(CandidateFileFormat format) {
  switch (format) {
    case CandidateFileFormat::kEcelerity:
      return "ecelerity";
    case CandidateFileFormat::kPostfix:
      return "postfix";
    case CandidateFileFormat::kAuto:
      break;
  }
  return "auto";
}

CandidateFileFormat DetectCandidateFileFormat(absl::string_view path, absl::string_view content) {
  absl::string_view base = path;
  if (size_t slash = base.rfind('/'); slash != absl::string_view::npos) {
    base = base.substr(slash + 1);
  }
  if (absl::EndsWith(base, ".cf")) return CandidateFileFormat::kPostfix;
  if (absl::StrContains(absl::AsciiStrToLower(base), "ecelerity")) {
    return CandidateFileFormat::kEcelerity;
  }
  int ecelerity = 0;
  int postfix = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string lower = absl::AsciiStrToLower(line);
    if (absl::EndsWith(lower, "{") || lower == "}") ++ecelerity;
    if (absl::StartsWith(lower, "tls_engine") || absl::StartsWith(lower, "tls_protocols") ||
        absl::StartsWith(lower, "tlsv13_ciphersuites") || absl::StartsWith(lower, "tls_ciphers")) {
      ++ecelerity;
    }
    if (absl::StartsWith(lower, "smtp_tls_") || absl::StartsWith(lower, "smtpd_") ||
        absl::StartsWith(lower, "myhostname") || absl::StartsWith(lower, "mydestination")) {
      ++postfix;
    }
  }
  return ecelerity > postfix ? CandidateFileFormat::kEcelerity : CandidateFileFormat::kPostfix;
}

absl::StatusOr<CandidateSet> LoadCandidateFile(const std::string& path, CandidateFileFormat format,
                                               CandidateFileFormat* format_used) {
  ASSIGN_OR_RETURN(std::string content, ReadFileContents(path));
  if (format == CandidateFileFormat::kAuto) format = DetectCandidateFileFormat(path, content);
  if (format_used != nullptr) *format_used = format;
  return format == CandidateFileFormat::kEcelerity ? ParseEcelerityConfig(content, path)
                                                   : ParsePostfixMainCf(content, path);
}

}  // namespace tlsweep::backends
