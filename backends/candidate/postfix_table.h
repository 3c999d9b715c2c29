// Postfix lookup tables that tlsweep can read without Postfix's libraries: texthash: files,
// inline:{...} tables, and the postmap source files of indexed tables (hash:, btree:, lmdb:,
// cdb:, dbm:, sdbm:), as named in a `*_maps` parameter.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backends/candidate/config_warnings.h"

namespace tlsweep::backends {

struct PostfixTableEntry {
  std::string key;    // Lower case, as Postfix folds table keys.
  std::string value;  // Trimmed; continuation lines joined.
  SourceLine where;
};

// How tables in files are reached: the real file system, or none (pure parsing and fuzzing,
// where a table in a file is warned about and not read).
struct PostfixFileAccess {
  std::function<absl::StatusOr<std::string>(const std::string& path)> read;
  // The last modification time; nullopt when the file does not exist.
  std::function<std::optional<std::filesystem::file_time_type>(const std::string& path)> modified;
};
const PostfixFileAccess& RealPostfixFiles();

// "key whitespace value" lines as postmap(1) reads them: `#` comment lines and empty lines are
// skipped, a line starting with whitespace continues the previous one, keys are folded to
// lower case, a line without a value is skipped (warned), and of duplicate keys the first
// counts (warned), as in the table postmap builds.
std::vector<PostfixTableEntry> ParsePostfixTableSource(absl::string_view content,
                                                       absl::string_view file_name,
                                                       ConfigWarnings& warnings);

// The inside of inline:{ key=value, { key = value with spaces } }: keys folded to lower case;
// of duplicate keys the last counts (as Postfix's inline table does). Errors (Postfix refuses
// the table: "need inline:{name=value...}") carry `where`.
absl::StatusOr<std::vector<PostfixTableEntry>> ParsePostfixInlineTable(absl::string_view table,
                                                                       const SourceLine& where);

// The entries of one table named in `parameter` (set at `where`): "type:name", with proxy:
// unwrapped. Indexed tables are read from their postmap source, the name without the .db (or
// .lmdb, .cdb...) suffix: tlsweep cannot read Berkeley DB; only a compiled file, or one older
// than its source, is warned about. A path under /etc/postfix/ is read from the main.cf's own
// directory (`config_directory`) when that is elsewhere and holds the file: a config copied off
// its server names its tables where they were (warned). Tables tlsweep cannot read (other types,
// a missing file, no file access) are warned about and give no entries; only a malformed inline
// table is an error.
absl::StatusOr<std::vector<PostfixTableEntry>> ReadPostfixTable(
    absl::string_view table, absl::string_view parameter, const SourceLine& where,
    const std::string& config_directory, const PostfixFileAccess* files, ConfigWarnings& warnings);

}  // namespace tlsweep::backends
