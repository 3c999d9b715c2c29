#include "backends/candidate/candidate_file.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

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

bool IsCandidateFileName(absl::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

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
  if (format == CandidateFileFormat::kEcelerity) return ParseEcelerityConfig(content, path);
  return ReadPostfixMainCf(path, std::move(content));
}

CandidateFileArgument ParseCandidateFileArgument(absl::string_view argument) {
  const size_t equals = argument.find('=');
  if (equals != absl::string_view::npos && IsCandidateFileName(argument.substr(0, equals))) {
    std::error_code error;
    if (!std::filesystem::exists(std::string(argument), error)) {
      return CandidateFileArgument{std::string(argument.substr(0, equals)),
                                   std::string(argument.substr(equals + 1))};
    }
  }
  return CandidateFileArgument{"", std::string(argument)};
}

void RenameCandidates(CandidateSet& set, absl::string_view name) {
  const std::string prefix = absl::StrCat(set.name, "/");
  auto rename = [&](tlsweep::v1::TlsClientSettings& settings) {
    if (settings.name() == set.name) {
      settings.set_name(std::string(name));
    } else if (absl::StartsWith(settings.name(), prefix)) {
      settings.set_name(absl::StrCat(name, "/", settings.name().substr(prefix.size())));
    }
  };
  for (tlsweep::v1::TlsClientSettings& settings : set.candidates) {
    rename(settings);
    for (tlsweep::v1::DomainOverride& entry : *settings.mutable_overrides()) {
      rename(*entry.mutable_settings());
    }
  }
  set.name = std::string(name);
}

absl::StatusOr<CandidateSet> LoadCandidateFiles(const std::vector<std::string>& arguments,
                                                const std::map<std::string, std::string>& taken) {
  CandidateSet all;
  std::map<std::string, std::string> names = taken;  // name -> what gave it
  for (const std::string& argument : arguments) {
    const CandidateFileArgument file = ParseCandidateFileArgument(argument);
    ASSIGN_OR_RETURN(CandidateSet set, LoadCandidateFile(file.path, CandidateFileFormat::kAuto));
    if (!file.name.empty()) RenameCandidates(set, file.name);
    for (tlsweep::v1::TlsClientSettings& settings : set.candidates) {
      auto [it, inserted] = names.try_emplace(settings.name(), file.path);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat("--candidate-from ", argument, " gives the candidate name '",
                         settings.name(), "', which ", it->second,
                         " gives already: name the file's candidates with "
                         "--candidate-from NAME=",
                         file.path));
      }
      all.candidates.push_back(std::move(settings));
    }
    all.warnings.insert(all.warnings.end(), set.warnings.begin(), set.warnings.end());
  }
  return all;
}

}  // namespace tlsweep::backends
