#include "backends/candidate/postfix_table.h"

#include <map>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/candidate/postfix_tls_policy.h"
#include "backends/file_contents.h"
#include "backends/status_macros.h"

namespace tlsweep::backends {
namespace {

// Indexed table types and the suffix postmap gives the file it builds.
const std::map<std::string, std::string>& IndexedSuffixes() {
  static const std::map<std::string, std::string> kSuffixes = {
      {"hash", ".db"}, {"btree", ".db"}, {"lmdb", ".lmdb"},
      {"cdb", ".cdb"}, {"dbm", ".pag"},  {"sdbm", ".pag"},
  };
  return kSuffixes;
}

constexpr absl::string_view kDefaultConfigDirectory = "/etc/postfix/";

bool SameDirectory(const std::string& a, absl::string_view b) {
  std::error_code error;
  const std::filesystem::path left = std::filesystem::weakly_canonical(a, error);
  if (error) return false;
  const std::filesystem::path right = std::filesystem::weakly_canonical(std::string(b), error);
  return !error && left == right;
}

}  // namespace

const PostfixFileAccess& RealPostfixFiles() {
  static const PostfixFileAccess kFiles = {
      [](const std::string& path) { return ReadFileContents(path); },
      [](const std::string& path) -> std::optional<std::filesystem::file_time_type> {
        std::error_code error;
        if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
        std::filesystem::file_time_type time = std::filesystem::last_write_time(path, error);
        if (error) return std::nullopt;
        return time;
      }};
  return kFiles;
}

std::vector<PostfixTableEntry> ParsePostfixTableSource(absl::string_view content,
                                                       absl::string_view file_name,
                                                       ConfigWarnings& warnings) {
  std::vector<PostfixTableEntry> entries;
  std::set<std::string> keys;
  std::string logical;
  int logical_line = 0;
  auto flush = [&]() {
    if (logical_line == 0) return;
    const SourceLine where{std::string(file_name), logical_line};
    absl::string_view text = absl::StripAsciiWhitespace(logical);
    size_t end = 0;
    while (end < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
    const std::string key = absl::AsciiStrToLower(text.substr(0, end));
    const std::string value(absl::StripAsciiWhitespace(text.substr(end)));
    logical.clear();
    logical_line = 0;
    if (value.empty()) {
      warnings.AddRepeated(where, "no value",
                           "expected format: key whitespace value; line ignored (as postmap "
                           "does)");
      return;
    }
    if (!keys.insert(key).second) {
      warnings.AddRepeated(where, "duplicate keys",
                           absl::StrCat("duplicate entry \"", key,
                                        "\": the first one counts (as in the table postmap "
                                        "builds)"));
      return;
    }
    entries.push_back(PostfixTableEntry{key, value, where});
  };
  int number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++number;
    line = absl::StripSuffix(line, "\r");
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped[0] == '#') continue;
    if (absl::ascii_isspace(static_cast<unsigned char>(line[0]))) {
      if (logical_line == 0) {
        warnings.AddRepeated(SourceLine{std::string(file_name), number}, "no key",
                             "a continuation line (it starts with whitespace) without a key "
                             "before it; ignored");
        continue;
      }
      absl::StrAppend(&logical, line);
      continue;
    }
    flush();
    logical = std::string(line);
    logical_line = number;
  }
  flush();
  return entries;
}

absl::StatusOr<std::vector<PostfixTableEntry>> ParsePostfixInlineTable(absl::string_view table,
                                                                       const SourceLine& where) {
  auto error = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat(where.ToString(), ": inline:", table, ": ",
                                                   problem,
                                                   " (Postfix needs inline:{name=value...})"));
  };
  absl::string_view body = absl::StripAsciiWhitespace(table);
  if (!absl::ConsumePrefix(&body, "{") || !absl::ConsumeSuffix(&body, "}")) {
    return error("not enclosed in { }");
  }
  {
    // The outer braces must match each other ("{a}{b}" is not one table).
    int depth = 1;
    for (char c : body) {
      if (c == '{') ++depth;
      if (c == '}' && --depth == 0) return error("syntax error after '}'");
    }
    if (depth != 1) return error("unbalanced { }");
  }
  std::vector<PostfixTableEntry> entries;
  std::map<std::string, size_t> index;
  for (const std::string& word : SplitPostfixWords(body)) {
    absl::StatusOr<std::pair<std::string, std::string>> pair = SplitPostfixNameValue(word);
    if (!pair.ok()) return error(pair.status().message());
    const std::string key = absl::AsciiStrToLower(pair->first);
    auto [it, inserted] = index.try_emplace(key, entries.size());
    if (inserted) {
      entries.push_back(PostfixTableEntry{key, pair->second, where});
    } else {
      entries[it->second].value = pair->second;  // The last one counts.
    }
  }
  if (entries.empty()) return error("empty table");
  return entries;
}

absl::StatusOr<std::vector<PostfixTableEntry>> ReadPostfixTable(
    absl::string_view table, absl::string_view parameter, const SourceLine& where,
    const std::string& config_directory, const PostfixFileAccess* files, ConfigWarnings& warnings) {
  auto not_read = [&](absl::string_view why) {
    warnings.Add(where, absl::StrCat(parameter, ": per-destination policies in ", table,
                                     " are not read: ", why));
    return std::vector<PostfixTableEntry>();
  };
  absl::string_view spec = table;
  while (absl::ConsumePrefix(&spec, "proxy:")) {
  }
  const size_t colon = spec.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(where.ToString(), ": ", parameter, ": '", table,
                                                   "' is not a type:name table (Postfix stops)"));
  }
  const std::string type = absl::AsciiStrToLower(spec.substr(0, colon));
  const std::string name(spec.substr(colon + 1));
  if (type == "inline") return ParsePostfixInlineTable(name, where);
  auto indexed = IndexedSuffixes().find(type);
  if (type != "texthash" && indexed == IndexedSuffixes().end()) {
    return not_read(absl::StrCat(
        "tlsweep reads texthash:, inline: and the postmap source of hash:, btree:, lmdb:, cdb: "
        "and dbm: tables, not ",
        type, ": tables"));
  }
  if (files == nullptr) return not_read("the config was parsed without reading other files");

  std::string path = name;
  if (!path.empty() && path[0] != '/') path = absl::StrCat(config_directory, "/", path);
  if (absl::StartsWith(path, kDefaultConfigDirectory) &&
      !SameDirectory(config_directory, kDefaultConfigDirectory)) {
    const std::string local =
        absl::StrCat(config_directory, "/", path.substr(kDefaultConfigDirectory.size()));
    if (files->modified(local)) {
      warnings.Add(where, absl::StrCat(parameter, ": ", path, " is read from ", local,
                                       " (the directory of the main.cf under review)"));
      path = local;
    }
  }
  const std::optional<std::filesystem::file_time_type> source = files->modified(path);
  if (indexed != IndexedSuffixes().end()) {
    const std::string compiled = path + indexed->second;
    const std::optional<std::filesystem::file_time_type> built = files->modified(compiled);
    if (!source) {
      return not_read(built ? absl::StrCat("only the compiled ", compiled,
                                           " is there; tlsweep reads its postmap source ", path,
                                           " (it cannot read ", type, " files)")
                            : absl::StrCat(path, " does not exist"));
    }
    if (!built) {
      warnings.Add(where, absl::StrCat(parameter, ": ", compiled,
                                       " does not exist (Postfix cannot use the table before "
                                       "`postmap ",
                                       path, "`); its source is read"));
    } else if (*built < *source) {
      warnings.Add(where, absl::StrCat(parameter, ": ", compiled, " is older than ", path,
                                       ": Postfix uses the table as it was at the last postmap; "
                                       "the source is read"));
    }
  } else if (!source) {
    return not_read(absl::StrCat(path, " does not exist"));
  }
  absl::StatusOr<std::string> content = files->read(path);
  if (!content.ok()) return not_read(content.status().message());
  return ParsePostfixTableSource(*content, path, warnings);
}

}  // namespace tlsweep::backends
