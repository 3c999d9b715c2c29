#include "backends/candidate/postfix_master_cf.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/candidate/postfix_tls_policy.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

// A field and the physical line it starts on.
struct Word {
  std::string text;
  int line = 0;
};

// Splits a logical line (physical lines joined) into words, each with its physical line.
absl::StatusOr<std::vector<Word>> SplitFields(const std::vector<std::pair<std::string, int>>& parts,
                                              absl::string_view file_name) {
  std::vector<Word> words;
  int depth = 0;
  bool in_word = false;
  int open_line = 0;
  for (const auto& [text, line] : parts) {
    for (char c : text) {
      const bool space = absl::ascii_isspace(static_cast<unsigned char>(c));
      if (depth == 0 && space) {
        in_word = false;
        continue;
      }
      if (!in_word) {
        words.push_back(Word{"", line});
        in_word = true;
      }
      if (c == '{') {
        if (depth++ == 0) open_line = line;
      } else if (c == '}' && depth > 0) {
        --depth;
      }
      words.back().text.push_back(c);
    }
    // A group that spans lines keeps a space where the line break was.
    if (depth > 0) words.back().text.push_back(' ');
    if (depth == 0) in_word = false;
  }
  if (depth > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", open_line, ": '{' without its '}'"));
  }
  return words;
}

absl::Status ParseService(const std::vector<std::pair<std::string, int>>& parts,
                          absl::string_view file_name, std::vector<PostfixService>& services) {
  const int line = parts.front().second;
  ASSIGN_OR_RETURN(std::vector<Word> words, SplitFields(parts, file_name));
  if (words.size() < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", line,
                     ": a service needs 8 fields (service type private unpriv chroot "
                     "wakeup maxproc command), found ",
                     words.size()));
  }
  PostfixService service;
  service.name = words[0].text;
  service.type = words[1].text;
  service.command = words[7].text;
  service.line = line;
  for (size_t i = 8; i < words.size(); ++i) {
    absl::string_view word = words[i].text;
    int option_line = words[i].line;
    if (!absl::ConsumePrefix(&word, "-o")) continue;  // Other program arguments.
    if (word.empty()) {
      if (i + 1 == words.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(file_name, ":", option_line, ": -o without name=value"));
      }
      word = words[++i].text;
      option_line = words[i].line;
    }
    absl::StatusOr<std::pair<std::string, std::string>> pair = SplitPostfixNameValue(word);
    if (!pair.ok() || pair->first.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_name, ":", option_line, ": -o ", word, ": ",
                       pair.ok() ? "missing parameter name" : pair.status().message(),
                       " (expected -o name=value or -o { name = value })"));
    }
    service.overrides.push_back(
        PostfixServiceOverride{std::move(pair->first), std::move(pair->second), option_line});
  }
  services.push_back(std::move(service));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<PostfixService>> ParsePostfixMasterCf(absl::string_view content,
                                                                 absl::string_view file_name) {
  std::vector<PostfixService> services;
  std::vector<std::pair<std::string, int>> logical;  // (physical line, its number)
  int number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++number;
    line = absl::StripSuffix(line, "\r");
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    if (absl::ascii_isspace(static_cast<unsigned char>(line[0]))) {
      if (logical.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(file_name, ":", number,
                         ": continuation line (it starts with whitespace) without a service"));
      }
      logical.emplace_back(std::string(line), number);
      continue;
    }
    if (!logical.empty()) RETURN_IF_ERROR(ParseService(logical, file_name, services));
    logical.clear();
    logical.emplace_back(std::string(line), number);
  }
  if (!logical.empty()) RETURN_IF_ERROR(ParseService(logical, file_name, services));
  return services;
}

}  // namespace tlsweep::backends
